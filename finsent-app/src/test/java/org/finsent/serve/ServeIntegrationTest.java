package org.finsent.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.finsent.train.Predictor.Prediction;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.Socket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The service over real HTTP on an ephemeral port with a small trained model: every route, every error of issue 7,
 * truncation, concurrency, CORS and graceful shutdown. The oracle for every prediction is the model's own predict
 * function called directly, on the same texts.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES) // a hung request fails the test instead of hanging the build
class ServeIntegrationTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Big enough for a 10,001-character text (so the character limit, not the body cap, answers it). */
    private static final long BODY_CAP = 64 * 1024;
    private static ServedModel model;
    private static SentimentServer server;
    private static URI base;
    private static HttpClient http;

    @BeforeAll
    static void start() throws Exception {
        model = ServeFixtures.model();
        server = new SentimentServer(new SentimentService(model, SentimentService.Limits.DEFAULTS),
                SentimentServer.Options.loopback(0).withMaxBodyBytes(BODY_CAP));
        base = server.start();
        http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
    }

    @AfterAll
    static void stop() throws Exception {
        if (server != null) server.close();
    }

    // ------------------------------------------------------------------------------------------ helpers

    record Answer(int status, JsonNode body, HttpResponse<String> raw) {
    }

    private static Answer send(HttpRequest.Builder b) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(b.timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"),
                "every API answer is JSON: " + r.headers().map() + " " + r.body());
        return new Answer(r.statusCode(), JSON.readTree(r.body()), r);
    }

    private static Answer post(String path, String contentType, String body) throws IOException, InterruptedException {
        var b = HttpRequest.newBuilder(base.resolve(path)).POST(HttpRequest.BodyPublishers.ofString(body));
        if (contentType != null) b.header("Content-Type", contentType);
        return send(b);
    }

    private static Answer postJson(String path, Object body) throws IOException, InterruptedException {
        return post(path, "application/json", JSON.writeValueAsString(body));
    }

    private static Answer get(String pathAndQuery) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(base.resolve(pathAndQuery)).GET());
    }

    private static void assertError(Answer a, int status, String messagePart) {
        assertEquals(status, a.status(), a.body().toString());
        assertEquals(status, a.body().get("status").asInt(), a.body().toString());
        assertTrue(a.body().get("error").asText().contains(messagePart), "error message '" + a.body().get("error").asText()
                + "' should contain '" + messagePart + "'");
    }

    /** The answer matches the model's own prediction for the text, bit for bit. */
    private static void assertMatches(Prediction expected, JsonNode actual) {
        assertEquals(expected.label(), actual.get("label").asText());
        assertEquals(expected.confidence(), actual.get("confidence").asDouble(), 0.0);
        var labels = ServeFixtures.LABELS;
        List<String> keys = new ArrayList<>();
        actual.get("scores").fieldNames().forEachRemaining(keys::add);
        assertEquals(labels, keys, "scores in label-id order");
        for (int k = 0; k < labels.size(); k++) {
            assertEquals(expected.probabilities()[k], actual.get("scores").get(labels.get(k)).asDouble(), 0.0, labels.get(k));
        }
    }

    private static Prediction direct(String text) {
        return model.predict().apply(List.of(text)).get(0);
    }

    // ------------------------------------------------------------------------------------------ routes

    @Test
    void postAnalyzeAnswersWithTheDocumentedSchema() throws Exception {
        Answer a = postJson("analyze", Map.of("text", ServeFixtures.POSITIVE));
        assertEquals(200, a.status());
        List<String> fields = new ArrayList<>();
        a.body().fieldNames().forEachRemaining(fields::add);
        assertEquals(List.of("label", "confidence", "scores", "truncated", "tokens", "model", "latency_ms"), fields);
        assertEquals("positive", a.body().get("label").asText(), "the fixture model learned rising profits");
        assertMatches(direct(ServeFixtures.POSITIVE), a.body());
        assertFalse(a.body().get("truncated").asBoolean());
        assertEquals(model.tokenizer().encode(ServeFixtures.POSITIVE).length(), a.body().get("tokens").asInt());
        assertEquals("tiny-bert-test", a.body().get("model").asText());
        assertTrue(a.body().get("latency_ms").asDouble() > 0);
        assertEquals("negative", postJson("analyze", Map.of("text", ServeFixtures.NEGATIVE)).body().get("label").asText());
    }

    @Test
    void getAnalyzeAnswersLikePost() throws Exception {
        String text = "Neste said its revenue climbed by 4 % — “record” year ü";
        Answer g = get("analyze?text=" + URLEncoder.encode(text, StandardCharsets.UTF_8));
        assertEquals(200, g.status(), g.body().toString());
        assertMatches(direct(text), g.body());
        Answer p = postJson("analyze", Map.of("text", text));
        for (String f : List.of("label", "confidence", "scores", "truncated", "tokens", "model")) {
            assertEquals(p.body().get(f), g.body().get(f), f);
        }
        assertError(get("analyze"), 400, "missing query parameter 'text'");
        assertError(get("analyze?text=%20%20"), 400, "text is empty");
    }

    @Test
    void batchAnswersInInputOrder() throws Exception {
        List<String> texts = List.of(ServeFixtures.NEGATIVE, ServeFixtures.POSITIVE, "Orion said its results will be published on 3 March .",
                "Sampo said its pre-tax profit dropped by 9 % in the third quarter compared with last year the company said .");
        Answer a = postJson("analyze/batch", Map.of("texts", texts));
        assertEquals(200, a.status(), a.body().toString());
        JsonNode results = a.body().get("results");
        assertEquals(texts.size(), results.size());
        List<Prediction> expected = model.predict().apply(texts); // the same texts in one call: the same forward pass
        for (int i = 0; i < texts.size(); i++) {
            assertMatches(expected.get(i), results.get(i));
            assertEquals(model.tokenizer().encode(texts.get(i)).length(), results.get(i).get("tokens").asInt());
        }
        assertEquals(List.of("negative", "positive", "neutral", "negative"),
                List.of(results.get(0).get("label").asText(), results.get(1).get("label").asText(),
                        results.get(2).get("label").asText(), results.get(3).get("label").asText()));
        assertEquals("tiny-bert-test", a.body().get("model").asText());
        assertTrue(a.body().get("latency_ms").asDouble() > 0);
    }

    @Test
    void healthAndModelDescribeTheService() throws Exception {
        Answer h = get("health");
        assertEquals(200, h.status());
        assertEquals("ok", h.body().get("status").asText());
        assertEquals("tiny-bert-test", h.body().get("model").asText());
        for (String f : List.of("uptime_s", "forward_passes", "texts_analyzed", "mean_batch_size", "queued")) {
            assertTrue(h.body().has(f), f);
        }
        Answer m = get("model");
        assertEquals(200, m.status());
        assertEquals("tiny-bert-test", m.body().get("name").asText());
        assertEquals("full", m.body().get("technique").asText());
        assertEquals(ServeFixtures.LABELS, JSON.convertValue(m.body().get("labels"), List.class));
        assertEquals(ServeFixtures.MAX_SEQ_LENGTH, m.body().get("max_seq_length").asInt());
        assertEquals(ServeFixtures.heldOutAccuracy(), m.body().get("metrics").get("eval_accuracy").asDouble(), 0.0);
        JsonNode limits = m.body().get("limits");
        assertEquals(10_000, limits.get("max_chars").asInt());
        assertEquals(256, limits.get("max_batch_texts").asInt());
        assertEquals(BODY_CAP, limits.get("max_body_bytes").asLong());
        assertEquals(32, limits.get("micro_batch").asInt());
        assertEquals("adaptive", limits.get("micro_batch_policy").asText());
    }

    @Test
    void servesThePageAndItsAssetsLocally() throws Exception {
        for (String[] f : new String[][]{{"", "text/html"}, {"index.html", "text/html"}, {"app.js", "javascript"}, {"style.css", "text/css"}}) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(base.resolve(f[0])).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), f[0]);
            assertTrue(r.headers().firstValue("Content-Type").orElse("").contains(f[1]), f[0] + ": " + r.headers().map());
            assertFalse(r.body().contains("http://") || r.body().contains("https://"), f[0] + " loads nothing from elsewhere");
        }
    }

    // ------------------------------------------------------------------------------------------ errors

    @Test
    void badTextsAre400() throws Exception {
        assertError(postJson("analyze", Map.of("text", "")), 400, "text is empty");
        assertError(postJson("analyze", Map.of("text", " \t\n ")), 400, "text is empty");
        assertError(postJson("analyze", Map.of("txt", "hello")), 400, "missing field 'text'");
        assertError(post("analyze", "application/json", "{\"text\": 42}"), 400, "'text' must be a string");
        assertError(post("analyze", "application/json", "[\"hello\"]"), 400, "expected a JSON object");
        assertError(post("analyze", "application/json", ""), 400, "empty request body");
        assertError(postJson("analyze/batch", Map.of("texts", List.of("fine", "  "))), 400, "texts[1] is empty");
        assertError(postJson("analyze/batch", Map.of("texts", List.of())), 400, "'texts' is empty");
        assertError(post("analyze/batch", "application/json", "{\"texts\": \"one\"}"), 400, "must be an array");
        assertError(post("analyze/batch", "application/json", "{\"texts\": [\"a\", 3]}"), 400, "texts[1] must be a string");
    }

    @Test
    void malformedJsonIs400() throws Exception {
        assertError(post("analyze", "application/json", "{\"text\": \"unterminated"), 400, "malformed JSON");
        assertError(post("analyze", "application/json", "{text: 'single quotes'}"), 400, "malformed JSON");
        assertError(post("analyze/batch", "application/json; charset=utf-8", "{\"texts\": [\"a\",]}"), 400, "malformed JSON");
    }

    @Test
    void wrongContentTypeIs415() throws Exception {
        String body = "{\"text\": \"profit rose\"}";
        assertError(post("analyze", "text/plain", body), 415, "Content-Type must be application/json");
        assertError(post("analyze", "application/x-www-form-urlencoded", "text=profit"), 415, "not application/x-www-form-urlencoded");
        assertError(post("analyze", null, body), 415, "none given");
        assertError(post("analyze/batch", "text/json", "{\"texts\": [\"a\"]}"), 415, "Content-Type");
        // the media type is case-insensitive and parameters are allowed
        assertEquals(200, post("analyze", "Application/JSON; charset=UTF-8", body).status());
    }

    @Test
    void tooLongTextsAndTooLargeBatchesAre413() throws Exception {
        String ok = "a".repeat(10_000);
        assertEquals(200, postJson("analyze", Map.of("text", ok)).status(), "exactly the limit is fine");
        assertError(postJson("analyze", Map.of("text", ok + "a")), 413, "10001 characters (at most 10000)");
        assertError(get("analyze?text=" + "b".repeat(7000) + "%20" + "c".repeat(3001)), 413, "10002 characters");
        assertError(get("analyze?text=" + "d".repeat(40_000)), 414, "URI Too Long"); // past the URI room: Jetty's 414, as JSON
        assertEquals(200, postJson("analyze/batch", Map.of("texts", Collections.nCopies(256, "x"))).status());
        assertError(postJson("analyze/batch", Map.of("texts", Collections.nCopies(257, "x"))), 413, "too many texts: 257 (at most 256");
        assertError(postJson("analyze/batch", Map.of("texts", List.of("x", ok + "a"))), 413, "texts[1] is too long");
    }

    /** A declared Content-Length over the cap is refused from the headers alone: the body is never sent here. */
    @Test
    void bodyOverTheCapIsRefusedBeforeReading() throws Exception {
        try (Socket s = new Socket(base.getHost(), base.getPort())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(("POST /analyze HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: "
                    + (BODY_CAP + 1) + "\r\n\r\n{\"text\": \"").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            // no more bytes: if the server tried to read the body it would wait, and this read would time out
            String answer = new String(readResponse(s.getInputStream()), StandardCharsets.UTF_8);
            assertTrue(answer.startsWith("HTTP/1.1 413 "), answer);
            assertTrue(answer.contains("\"error\":\"request body of " + (BODY_CAP + 1) + " bytes is over the limit of " + BODY_CAP + "\""), answer);
        }
    }

    /** Reads one HTTP response: the headers, then Content-Length bytes of body. */
    private static byte[] readResponse(InputStream in) throws IOException {
        java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream();
        int headerEnd = -1, length = -1;
        while (true) {
            int c = in.read();
            assertTrue(c >= 0, "the connection closed before a full answer: " + buf);
            buf.write(c);
            String sofar = buf.toString(StandardCharsets.ISO_8859_1);
            if (headerEnd < 0 && sofar.endsWith("\r\n\r\n")) {
                headerEnd = buf.size();
                var m = java.util.regex.Pattern.compile("(?i)content-length: *(\\d+)").matcher(sofar);
                assertTrue(m.find(), sofar);
                length = Integer.parseInt(m.group(1));
            }
            if (headerEnd >= 0 && buf.size() == headerEnd + length) return buf.toByteArray();
        }
    }

    /** Without a Content-Length (chunked), reading stops one byte past the cap. */
    @Test
    void chunkedBodyOverTheCapIs413() throws Exception {
        byte[] big = ("{\"text\": \"" + "z".repeat((int) BODY_CAP) + "\"}").getBytes(StandardCharsets.UTF_8);
        var b = HttpRequest.newBuilder(base.resolve("analyze")).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(big)));
        Answer a = send(b);
        assertTrue(a.raw().request().headers().firstValue("Content-Length").isEmpty());
        assertError(a, 413, "request body is over the limit of " + BODY_CAP + " bytes");
    }

    @Test
    void unknownRoutesAre404AndWrongMethods405() throws Exception {
        assertError(get("nope"), 404, "no route GET /nope");
        assertError(get("analyze/nope"), 404, "no route GET /analyze/nope");
        assertError(postJson("predict", Map.of("text", "x")), 404, "no route POST /predict");
        Answer a = send(HttpRequest.newBuilder(base.resolve("analyze")).DELETE());
        assertError(a, 405, "method DELETE not allowed");
        assertEquals("GET, POST", a.raw().headers().firstValue("Allow").orElse(""));
        assertError(get("analyze/batch"), 405, "allowed: POST");
        assertError(postJson("health", Map.of()), 405, "allowed: GET");
    }

    // ------------------------------------------------------------------------------------------ truncation

    /** The model reads at most 32 tokens: a text of exactly 32 is not truncated, one token more is, and says so. */
    @Test
    void inputsLongerThanTheModelAreTruncatedAndSaySo() throws Exception {
        StringBuilder s = new StringBuilder("Fiskars said its net sales rose");
        while (model.tokenizer().encode(s.toString()).length() < ServeFixtures.MAX_SEQ_LENGTH) s.append(" again");
        String exact = s.toString(), over = exact + " again";
        assertEquals(ServeFixtures.MAX_SEQ_LENGTH, model.tokenizer().encode(exact).length());
        Answer a = postJson("analyze", Map.of("text", exact));
        assertFalse(a.body().get("truncated").asBoolean());
        assertEquals(ServeFixtures.MAX_SEQ_LENGTH, a.body().get("tokens").asInt());
        Answer b = postJson("analyze", Map.of("text", over));
        assertTrue(b.body().get("truncated").asBoolean());
        assertEquals(ServeFixtures.MAX_SEQ_LENGTH + 1, b.body().get("tokens").asInt());
        // the model saw the first 32 tokens only: the same prediction as the exact text ("again" is the dropped tail)
        assertMatches(direct(exact), b.body());
        Answer batch = postJson("analyze/batch", Map.of("texts", List.of(exact, over)));
        assertFalse(batch.body().get("results").get(0).get("truncated").asBoolean());
        assertTrue(batch.body().get("results").get(1).get("truncated").asBoolean());
    }

    // ------------------------------------------------------------------------------------------ concurrency

    /**
     * 96 different texts from 16 threads at once give exactly the answers they get one at a time, and the service
     * did batch them (fewer forward passes than texts).
     */
    @Test
    void concurrentClientsGetTheSequentialAnswers() throws Exception {
        List<String> texts = new ArrayList<>();
        for (var e : ServeFixtures.sentences(96, 99)) texts.add(e.text());
        List<JsonNode> sequential = new ArrayList<>();
        for (String t : texts) sequential.add(postJson("analyze", Map.of("text", t)).body());

        // a fresh service, so its counters count this test only
        try (var svc = new SentimentServer(new SentimentService(model, SentimentService.Limits.DEFAULTS), SentimentServer.Options.loopback(0))) {
            URI uri = svc.start();
            int threads = 16;
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            CyclicBarrier start = new CyclicBarrier(threads);
            List<Future<List<JsonNode>>> parts = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int from = t;
                parts.add(pool.submit(() -> {
                    start.await();
                    List<JsonNode> out = new ArrayList<>();
                    for (int i = from; i < texts.size(); i += threads) {
                        var r = http.send(HttpRequest.newBuilder(uri.resolve("analyze")).header("Content-Type", "application/json")
                                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(Map.of("text", texts.get(i))))).build(),
                                HttpResponse.BodyHandlers.ofString());
                        assertEquals(200, r.statusCode(), r.body());
                        out.add(JSON.readTree(r.body()));
                    }
                    return out;
                }));
            }
            JsonNode[] concurrent = new JsonNode[texts.size()];
            for (int t = 0; t < threads; t++) {
                List<JsonNode> got = parts.get(t).get(120, TimeUnit.SECONDS);
                for (int k = 0; k < got.size(); k++) concurrent[t + k * threads] = got.get(k);
            }
            pool.shutdown();
            int differentBits = 0;
            double worst = 0;
            for (int i = 0; i < texts.size(); i++) {
                JsonNode a = sequential.get(i), b = concurrent[i];
                assertEquals(a.get("label"), b.get("label"), texts.get(i));
                assertEquals(a.get("tokens"), b.get("tokens"), texts.get(i));
                for (String label : ServeFixtures.LABELS) {
                    double x = a.get("scores").get(label).asDouble(), y = b.get("scores").get(label).asDouble();
                    if (x != y) differentBits++;
                    worst = Math.max(worst, Math.abs(x - y));
                    // Batched rows are padded to the batch's longest text; masked padding changes no score beyond float
                    // rounding of the differently shaped GEMMs (FP32 logits: ~1e-7 relative).
                    assertEquals(x, y, 1e-6, texts.get(i) + " " + label);
                }
            }
            JsonNode health = JSON.readTree(http.send(HttpRequest.newBuilder(uri.resolve("health")).build(),
                    HttpResponse.BodyHandlers.ofString()).body());
            System.out.printf("concurrent vs sequential: %d texts, %d forward passes (mean batch %.2f), %d of %d scores not bit-identical, max |diff| %.2g%n",
                    texts.size(), health.get("forward_passes").asLong(), health.get("mean_batch_size").asDouble(), differentBits,
                    3 * texts.size(), worst);
            assertEquals(texts.size(), health.get("texts_analyzed").asLong());
            assertTrue(health.get("forward_passes").asLong() < texts.size(), "concurrent requests were batched: " + health);
        }
    }

    // ------------------------------------------------------------------------------------------ CORS

    @Test
    void corsIsOffByDefaultAndAllowsOnlyConfiguredOrigins() throws Exception {
        HttpResponse<String> plain = http.send(HttpRequest.newBuilder(base.resolve("health")).header("Origin", "http://localhost:3000").build(),
                HttpResponse.BodyHandlers.ofString());
        assertTrue(plain.headers().firstValue("Access-Control-Allow-Origin").isEmpty(), "no CORS unless configured");

        var opts = SentimentServer.Options.loopback(0).withCorsOrigins(List.of("http://localhost:3000"));
        try (var svc = new SentimentServer(new SentimentService(model, SentimentService.Limits.DEFAULTS), opts)) {
            URI uri = svc.start();
            HttpResponse<String> pre = http.send(HttpRequest.newBuilder(uri.resolve("analyze"))
                    .method("OPTIONS", HttpRequest.BodyPublishers.noBody()).header("Origin", "http://localhost:3000")
                    .header("Access-Control-Request-Method", "POST").header("Access-Control-Request-Headers", "content-type")
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertTrue(pre.statusCode() / 100 == 2, "preflight " + pre.statusCode());
            assertEquals("http://localhost:3000", pre.headers().firstValue("Access-Control-Allow-Origin").orElse(null));
            assertTrue(pre.headers().firstValue("Access-Control-Allow-Methods").orElse("").contains("POST"), pre.headers().map().toString());
            HttpResponse<String> actual = http.send(HttpRequest.newBuilder(uri.resolve("analyze")).header("Origin", "http://localhost:3000")
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"text\":\"profit rose\"}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, actual.statusCode());
            assertEquals("http://localhost:3000", actual.headers().firstValue("Access-Control-Allow-Origin").orElse(null));
            HttpResponse<String> other = http.send(HttpRequest.newBuilder(uri.resolve("health")).header("Origin", "http://evil.example").build(),
                    HttpResponse.BodyHandlers.ofString());
            assertNull(other.headers().firstValue("Access-Control-Allow-Origin").orElse(null), "an origin not configured gets no CORS grant");
        }
    }

    // ------------------------------------------------------------------------------------------ shutdown, overload

    /** The fixture model, but each forward pass signals {@code inForward} and then waits for {@code release}. */
    private static ServedModel heldModel(CountDownLatch inForward, CountDownLatch release) {
        return new ServedModel(texts -> {
            inForward.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            return model.predict().apply(texts);
        }, model.tokenizer(), model.info());
    }

    /** A request in flight when shutdown starts still gets its answer; afterwards the port is closed. */
    @Test
    void shutdownIsGraceful() throws Exception {
        CountDownLatch inForward = new CountDownLatch(1), release = new CountDownLatch(1);
        ServedModel slow = heldModel(inForward, release);
        var svc = new SentimentServer(new SentimentService(slow, SentimentService.Limits.DEFAULTS), SentimentServer.Options.loopback(0));
        URI uri = svc.start();
        CompletableFuture<HttpResponse<String>> inFlight = http.sendAsync(HttpRequest.newBuilder(uri.resolve("analyze"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"text\":\"profit rose\"}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertTrue(inForward.await(30, TimeUnit.SECONDS));
        CompletableFuture<Void> closing = CompletableFuture.runAsync(() -> {
            try {
                svc.close();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        Thread.sleep(300);
        assertFalse(closing.isDone(), "shutdown waits for the request in flight");
        release.countDown();
        HttpResponse<String> r = inFlight.get(30, TimeUnit.SECONDS);
        assertEquals(200, r.statusCode(), r.body());
        assertEquals(direct("profit rose").label(), JSON.readTree(r.body()).get("label").asText());
        closing.get(30, TimeUnit.SECONDS);
        assertThrows(ConnectException.class, () -> new Socket(uri.getHost(), uri.getPort()).close());
    }

    /** A full queue answers 503 at once instead of queueing without bound. */
    @Test
    void fullQueueIs503() throws Exception {
        CountDownLatch inForward = new CountDownLatch(1), release = new CountDownLatch(1);
        ServedModel slow = heldModel(inForward, release);
        var limits = new SentimentService.Limits(10_000, 4, 1, 0, MicroBatcher.Wait.ADAPTIVE, 4);
        try (var svc = new SentimentServer(new SentimentService(slow, limits), SentimentServer.Options.loopback(0))) {
            URI uri = svc.start();
            var req = HttpRequest.newBuilder(uri.resolve("analyze/batch")).header("Content-Type", "application/json");
            var first = http.sendAsync(req.POST(HttpRequest.BodyPublishers.ofString("{\"texts\":[\"a\"]}")).build(), HttpResponse.BodyHandlers.ofString());
            assertTrue(inForward.await(30, TimeUnit.SECONDS)); // the worker holds "a"; the queue (4) is empty
            var fills = http.sendAsync(req.POST(HttpRequest.BodyPublishers.ofString("{\"texts\":[\"b\",\"c\",\"d\"]}")).build(), HttpResponse.BodyHandlers.ofString());
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (JSON.readTree(http.send(HttpRequest.newBuilder(uri.resolve("health")).build(), HttpResponse.BodyHandlers.ofString())
                    .body()).get("queued").asInt() < 3) {
                assertTrue(System.nanoTime() < deadline, "3 texts queued");
                Thread.sleep(20);
            }
            // 3 of 4 places taken: 2 more texts do not fit, and the request is refused whole
            HttpResponse<String> over = http.send(req.POST(HttpRequest.BodyPublishers.ofString("{\"texts\":[\"e\",\"f\"]}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(503, over.statusCode(), over.body());
            assertTrue(JSON.readTree(over.body()).get("error").asText().contains("busy"), over.body());
            release.countDown();
            assertEquals(200, first.get(30, TimeUnit.SECONDS).statusCode());
            assertEquals(200, fills.get(30, TimeUnit.SECONDS).statusCode());
        }
    }
}
