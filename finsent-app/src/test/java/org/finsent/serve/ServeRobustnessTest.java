package org.finsent.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The service under bad inputs and hostile clients (issue 22): a bad text fails only its own request, unknown
 * methods and malformed chunked bodies get JSON 4xx answers, a body sent at one byte per second is cut off with 408,
 * and a bounded soak — 250 clients sending their bodies at one byte per second plus normal traffic, loopback only,
 * a fixed number of requests — leaves {@code /health} fast and produces no 5xx.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class ServeRobustnessTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static SentimentServer start(ServedModel model, SentimentService.Limits limits, SentimentServer.Options options) throws Exception {
        SentimentServer s = new SentimentServer(new SentimentService(model, limits), options);
        s.start();
        return s;
    }

    private static HttpClient client() {
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
    }

    private static HttpRequest analyze(URI base, String text) throws IOException {
        return HttpRequest.newBuilder(base.resolve("analyze")).timeout(Duration.ofSeconds(60)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(Map.of("text", text)))).build();
    }

    /** A text of well over 64 tokens (the fixture model's positions) and under the character limit. */
    private static String overLong() {
        return "Kone said its operating profit rose by 12 % in the third quarter compared with last year .".repeat(8);
    }

    // ------------------------------------------------------------------------------------------ isolation

    /**
     * Five requests arrive within one micro-batch wait; one text is longer than the model's 64 positions (the model
     * is served with truncation at 10,000 tokens, which the commands refuse at load, so the forward pass throws).
     * The four good requests get the model's own predictions; the bad one gets its own 422. The same inside one
     * batch request, which names the text's index.
     */
    @Test
    void aBadTextInAMicroBatchFailsOnlyItsOwnRequest() throws Exception {
        ServedModel served = ServeFixtures.withTruncation(10_000);
        List<Integer> calls = Collections.synchronizedList(new ArrayList<>()); // texts per call of the model
        ServedModel unchecked = new ServedModel(in -> {
            calls.add(in.size());
            return served.predict().apply(in);
        }, served.tokenizer(), served.info());
        var limits = new SentimentService.Limits(10_000, 256, 32, 2_000, MicroBatcher.Wait.FIXED, 4096); // a fixed 2 s wait: the five requests share a batch
        try (SentimentServer server = start(unchecked, limits, SentimentServer.Options.loopback(0))) {
            URI base = server.uri();
            HttpClient http = client();
            List<String> texts = List.of(ServeFixtures.POSITIVE, ServeFixtures.NEGATIVE, overLong(), "Orion said its revenue was stable .",
                    "Nokia said its net sales grew by 3 % .");
            List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
            for (String t : texts) answers.add(http.sendAsync(analyze(base, t), HttpResponse.BodyHandlers.ofString()));
            for (int i = 0; i < texts.size(); i++) {
                HttpResponse<String> r = answers.get(i).get(60, TimeUnit.SECONDS);
                JsonNode j = JSON.readTree(r.body());
                if (i == 2) {
                    assertEquals(422, r.statusCode(), r.body());
                    assertTrue(j.get("error").asText().contains("cannot analyze this text") && j.get("error").asText().contains("64"), r.body());
                } else {
                    assertEquals(200, r.statusCode(), r.body());
                    var expected = ServeFixtures.model().predict().apply(List.of(texts.get(i))).get(0);
                    assertEquals(expected.label(), j.get("label").asText());
                    assertEquals(expected.confidence(), j.get("confidence").asDouble(), 0.0);
                }
            }
            assertEquals(List.of(5, 1, 1, 1, 1, 1), calls, "the five texts were one micro-batch, which failed and was run "
                    + "again text by text");

            HttpResponse<String> batch = http.send(HttpRequest.newBuilder(base.resolve("analyze/batch")).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(Map.of("texts", List.of(ServeFixtures.POSITIVE, overLong())))))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(422, batch.statusCode(), batch.body());
            assertTrue(JSON.readTree(batch.body()).get("error").asText().startsWith("texts[1]: cannot analyze this text"), batch.body());
            // and the service still answers
            assertEquals(200, http.send(analyze(base, ServeFixtures.POSITIVE), HttpResponse.BodyHandlers.ofString()).statusCode());
        }
    }

    // ------------------------------------------------------------------------------------------ raw HTTP

    record Raw(int status, Map<String, String> headers, String body) {
    }

    /** Sends {@code request} as is and reads one response (status, headers, Content-Length body). */
    private static Raw raw(URI base, String request) throws IOException {
        try (Socket s = new Socket(base.getHost(), base.getPort())) {
            s.setSoTimeout(30_000);
            s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            s.getOutputStream().flush();
            return readResponse(s.getInputStream());
        }
    }

    private static Raw readResponse(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) throw new IOException("connection closed before the end of the headers: " + head);
            head.write(b);
        }
        String[] lines = head.toString(StandardCharsets.ISO_8859_1).split("\r\n");
        int status = Integer.parseInt(lines[0].split(" ")[1]);
        Map<String, String> headers = new java.util.TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        for (int i = 1; i < lines.length; i++) {
            int c = lines[i].indexOf(':');
            if (c > 0) headers.put(lines[i].substring(0, c).trim(), lines[i].substring(c + 1).trim());
        }
        int length = Integer.parseInt(headers.getOrDefault("Content-Length", "0"));
        return new Raw(status, headers, new String(in.readNBytes(length), StandardCharsets.UTF_8));
    }

    private static void assertJsonError(Raw r, int status, String part) throws IOException {
        assertEquals(status, r.status(), r.toString());
        assertTrue(r.headers().getOrDefault("Content-Type", "").startsWith("application/json"), r.toString());
        JsonNode j = JSON.readTree(r.body());
        assertEquals(status, j.get("status").asInt(), r.toString());
        assertTrue(j.get("error").asText().contains(part), r.toString());
    }

    @Test
    void unknownMethodsAndMalformedChunkedBodiesGetJson4xx() throws Exception {
        try (SentimentServer server = start(ServeFixtures.model(), SentimentService.Limits.DEFAULTS, SentimentServer.Options.loopback(0))) {
            URI base = server.uri();
            Raw trace = raw(base, "TRACE / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
            assertJsonError(trace, 405, "method TRACE not allowed");
            assertEquals("GET, HEAD, POST", trace.headers().get("Allow"));
            assertJsonError(raw(base, "PUT /index.html HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"), 405, "method PUT");
            assertJsonError(raw(base, "BREW /nope HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"), 405, "method BREW");
            assertJsonError(raw(base, "DELETE /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"), 405, "allowed: GET");

            // a chunk size that is not hexadecimal, and a chunk longer than its size
            for (String body : List.of("ZZ\r\n{\"text\": \"x\"}\r\n0\r\n\r\n", "2\r\n{\"text\": \"x\"}\r\n0\r\n\r\n")) {
                Raw r = raw(base, "POST /analyze HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                        + "Transfer-Encoding: chunked\r\n\r\n" + body);
                assertJsonError(r, 400, "");
            }
            // still serving
            assertEquals(200, raw(base, "GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").status());
        }
    }

    /** A body trickling in at one byte per second is answered 408 soon after its first second, and the connection closed. */
    @Test
    void aBodySentAtOneBytePerSecondIsCutOffWith408() throws Exception {
        try (SentimentServer server = start(ServeFixtures.model(), SentimentService.Limits.DEFAULTS, SentimentServer.Options.loopback(0));
             Socket s = new Socket(server.uri().getHost(), server.uri().getPort())) {
            s.setSoTimeout(30_000);
            OutputStream out = s.getOutputStream();
            out.write(("POST /analyze HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            long t0 = System.nanoTime();
            Thread writer = new Thread(() -> {
                try {
                    for (int i = 0; i < 200; i++) {
                        out.write('{');
                        out.flush();
                        Thread.sleep(1000);
                    }
                } catch (IOException | InterruptedException closed) {
                    // the server closed the connection: expected
                }
            });
            writer.setDaemon(true);
            writer.start();
            Raw r = readResponse(s.getInputStream());
            double seconds = (System.nanoTime() - t0) / 1e9;
            assertJsonError(r, 408, "request body too slow");
            assertEquals("close", r.headers().get("Connection"));
            assertTrue(seconds < 10, "answered after " + seconds + " s, not after the whole body");
            writer.interrupt();
        }
    }

    // ------------------------------------------------------------------------------------------ soak

    /**
     * 250 connections send a body at one byte per second while 4 normal clients send a fixed number of /analyze
     * requests and /health is polled; everything on loopback, bounded (about 6 s), and it stops by itself. /health
     * must stay fast (a generous bound: every probe under 1 s), no request may get a 5xx, every slow client must be
     * answered 408 (not left hanging) and every normal request 200. The RSS before and after is printed, not
     * asserted.
     */
    @Test
    void slowBodiesDoNotStarveHealthOrCauseServerErrors() throws Exception {
        final int slowClients = 250, normalClients = 4, requestsEach = 40, healthProbes = 30;
        long rssBefore = rssKb();
        try (SentimentServer server = start(ServeFixtures.model(), SentimentService.Limits.DEFAULTS, SentimentServer.Options.loopback(0))) {
            URI base = server.uri();
            List<Socket> slow = Collections.synchronizedList(new ArrayList<>());
            for (int i = 0; i < slowClients; i++) {
                Socket s = new Socket(base.getHost(), base.getPort());
                s.setSoTimeout(30_000);
                s.getOutputStream().write(("POST /analyze HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                        + "Content-Length: 1000\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
                slow.add(s);
            }
            AtomicInteger slow408 = new AtomicInteger(), slowOther = new AtomicInteger();
            Thread trickle = new Thread(() -> { // one byte a second on every slow connection, until each is closed
                for (int round = 0; round < 20 && !slow.isEmpty(); round++) {
                    for (Socket s : List.copyOf(slow)) {
                        try {
                            s.getOutputStream().write('{');
                            s.getOutputStream().flush();
                        } catch (IOException closed) {
                            slow.remove(s);
                        }
                    }
                    try {
                        Thread.sleep(1000);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "trickle");
            trickle.setDaemon(true);
            trickle.start();
            List<Thread> readers = new ArrayList<>();
            for (Socket s : List.copyOf(slow)) {
                Thread t = new Thread(() -> {
                    try {
                        Raw r = readResponse(s.getInputStream());
                        (r.status() == 408 ? slow408 : slowOther).incrementAndGet();
                    } catch (IOException e) {
                        slowOther.incrementAndGet();
                    } finally {
                        try {
                            s.close();
                        } catch (IOException ignored) {
                            // closing
                        }
                    }
                });
                t.setDaemon(true);
                t.start();
                readers.add(t);
            }

            HttpClient http = client();
            AtomicInteger ok = new AtomicInteger(), serverErrors = new AtomicInteger(), otherStatus = new AtomicInteger();
            List<Thread> normal = new ArrayList<>();
            for (int c = 0; c < normalClients; c++) {
                Thread t = new Thread(() -> {
                    for (int i = 0; i < requestsEach; i++) {
                        try {
                            int st = http.send(analyze(base, ServeFixtures.sentences(1, i).get(0).text()), HttpResponse.BodyHandlers.ofString()).statusCode();
                            (st == 200 ? ok : st >= 500 ? serverErrors : otherStatus).incrementAndGet();
                            Thread.sleep(50);
                        } catch (IOException | InterruptedException e) {
                            otherStatus.incrementAndGet();
                        }
                    }
                });
                t.start();
                normal.add(t);
            }
            List<Double> healthMs = new ArrayList<>();
            for (int i = 0; i < healthProbes; i++) {
                long t0 = System.nanoTime();
                HttpResponse<String> h = http.send(HttpRequest.newBuilder(base.resolve("health")).timeout(Duration.ofSeconds(30)).build(),
                        HttpResponse.BodyHandlers.ofString());
                healthMs.add((System.nanoTime() - t0) / 1e6);
                assertEquals(200, h.statusCode(), h.body());
                Thread.sleep(150);
            }
            for (Thread t : normal) t.join(60_000);
            for (Thread t : readers) t.join(30_000);
            trickle.interrupt();
            long rssAfter = rssKb();

            double[] sorted = healthMs.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            double p50 = sorted[sorted.length / 2], p99 = sorted[(int) Math.ceil(0.99 * sorted.length) - 1], max = sorted[sorted.length - 1];
            System.out.printf(Locale.ROOT, "soak: %d slow clients (1 byte/s) + %d x %d /analyze + %d /health probes: /health p50 %.1f ms, "
                            + "p99 %.1f ms, max %.1f ms; /analyze 200: %d, 5xx: %d, other: %d; slow clients answered 408: %d, other: %d; "
                            + "RSS %d MB before, %d MB after%n", slowClients, normalClients, requestsEach, healthProbes, p50, p99, max,
                    ok.get(), serverErrors.get(), otherStatus.get(), slow408.get(), slowOther.get(), rssBefore / 1024, rssAfter / 1024);
            assertEquals(0, serverErrors.get(), "no 5xx");
            assertEquals(normalClients * requestsEach, ok.get(), "every normal request answered 200");
            assertEquals(slowClients, slow408.get(), "every slow client answered 408");
            assertTrue(max < 1000, "/health stayed fast under slow clients: " + Arrays.toString(sorted));
        }
    }

    /** This process's resident set size in KB (Linux /proc; -1 elsewhere). */
    private static long rssKb() throws IOException {
        Path status = Path.of("/proc/self/status");
        if (!Files.isReadable(status)) return -1;
        Matcher m = Pattern.compile("VmRSS:\\s+(\\d+) kB").matcher(Files.readString(status));
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }
}
