package org.finsent.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.http.MimeTypes;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.CrossOriginHandler;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.eclipse.jetty.server.handler.ResourceHandler;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;
import org.eclipse.jetty.util.resource.ResourceFactory;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.regex.Pattern;

/**
 * {@code finsent serve}: the JSON API and the web page on an embedded Jetty 12 server (Jetty's core API, no
 * servlets).
 *
 * <p>Routes: {@code POST /analyze}, {@code GET /analyze?text=}, {@code POST /analyze/batch}, {@code GET /health},
 * {@code GET /model}, and the page's static files at {@code /} (classpath {@code org/finsent/serve/web}). Every
 * error, Jetty's own included (bad HTTP, URI too long, unknown route), is a JSON body
 * {@code {"error": "...", "status": N}}. See docs/SERVE.md.
 *
 * <p>Bodies: the {@code Content-Length} is checked against {@link Options#maxBodyBytes()} before a byte is read,
 * and a chunked body is read only up to that cap, so an oversized upload costs neither memory nor much time.
 * Bodies are read asynchronously (Jetty calls back when bytes arrive), and predictions finish asynchronously (the
 * {@link MicroBatcher}'s thread completes them), so neither a client that sends its body slowly nor a request
 * waiting for its batch holds a server thread: slow clients cannot starve {@code /health} or anyone else. A body
 * arriving slower than {@link Options#minBodyRate()} bytes per second (after its first second) is answered 408
 * and its connection closed; a connection silent for {@link Options#idleTimeout()} is closed by Jetty. (Jetty
 * 12's core server does not enforce {@code HttpConfiguration.setMinRequestDataRate}, and its
 * {@code MinimumDataRateHandler} measures the bytes of all requests together, so the rate is checked per request
 * here.) A body Jetty cannot parse (a malformed chunk) is 400. Any method other than GET, HEAD and POST is 405
 * with a JSON body, on every path.
 */
public final class SentimentServer implements AutoCloseable {
    private static final ObjectMapper JSON = JsonMapper.builder().build();
    private static final String JSON_UTF8 = "application/json; charset=utf-8";

    /**
     * @param host         interface to bind; loopback by default (the service has no authentication)
     * @param port         0 picks a free port
     * @param maxBodyBytes largest request body accepted (413 beyond)
     * @param corsOrigins  origins allowed to call the API from another page (exact, e.g. {@code http://localhost:3000},
     *                     or {@code *} for any); empty: no CORS headers, same-origin only
     * @param stopTimeout  how long shutdown waits for requests in flight
     * @param idleTimeout  a connection with no traffic for this long is closed (a request waiting for its body: 408)
     * @param minBodyRate  slowest accepted request body, bytes per second, checked from the body's second second on
     *                     (0: off)
     */
    public record Options(String host, int port, long maxBodyBytes, List<String> corsOrigins, Duration stopTimeout,
                          Duration idleTimeout, long minBodyRate) {
        public static final long DEFAULT_MAX_BODY_BYTES = 4L << 20;
        public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(30);
        public static final long DEFAULT_MIN_BODY_RATE = 1024;

        public Options {
            Objects.requireNonNull(host, "host");
            if (port < 0 || port > 65535) throw new IllegalArgumentException("port must be in [0, 65535]: " + port);
            if (maxBodyBytes < 64 || maxBodyBytes > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("maxBodyBytes must be in [64, 2^31-9]: " + maxBodyBytes);
            }
            corsOrigins = List.copyOf(corsOrigins);
            Objects.requireNonNull(stopTimeout, "stopTimeout");
            if (stopTimeout.isNegative()) throw new IllegalArgumentException("stopTimeout must be >= 0: " + stopTimeout);
            Objects.requireNonNull(idleTimeout, "idleTimeout");
            if (idleTimeout.toMillis() < 100) throw new IllegalArgumentException("idleTimeout must be at least 100 ms: " + idleTimeout);
            if (minBodyRate < 0) throw new IllegalArgumentException("minBodyRate must be >= 0 (0 = off): " + minBodyRate);
        }

        public Options(String host, int port, long maxBodyBytes, List<String> corsOrigins, Duration stopTimeout) {
            this(host, port, maxBodyBytes, corsOrigins, stopTimeout, DEFAULT_IDLE_TIMEOUT, DEFAULT_MIN_BODY_RATE);
        }

        public static Options loopback(int port) {
            return new Options("127.0.0.1", port, DEFAULT_MAX_BODY_BYTES, List.of(), Duration.ofSeconds(30));
        }

        public Options withCorsOrigins(List<String> origins) {
            return new Options(host, port, maxBodyBytes, origins, stopTimeout, idleTimeout, minBodyRate);
        }

        public Options withMaxBodyBytes(long bytes) {
            return new Options(host, port, bytes, corsOrigins, stopTimeout, idleTimeout, minBodyRate);
        }

        public Options withSlowClientLimits(Duration idle, long bytesPerSecond) {
            return new Options(host, port, maxBodyBytes, corsOrigins, stopTimeout, idle, bytesPerSecond);
        }
    }

    private final SentimentService service;
    private final Options options;
    private final Server server;
    private final ServerConnector connector;
    private final long startedNanos = System.nanoTime();

    public SentimentServer(SentimentService service, Options options) {
        this.service = Objects.requireNonNull(service, "service");
        this.options = Objects.requireNonNull(options, "options");
        QueuedThreadPool threads = new QueuedThreadPool(200, 8);
        threads.setName("finsent-http");
        server = new Server(threads);
        HttpConfiguration http = new HttpConfiguration();
        // GET /analyze?text= carries the text in the URI: room for a text at the character limit (ASCII percent-encodes
        // to at most 3 bytes a character), so such a text gets the API's 413, not a bare 414. Longer URIs are 414.
        http.setRequestHeaderSize((int) Math.min(1 << 20, Math.max(8192, 3L * service.limits().maxChars() + 4096)));
        http.setSendServerVersion(false);
        connector = new ServerConnector(server, new HttpConnectionFactory(http));
        connector.setHost(options.host());
        connector.setPort(options.port());
        connector.setIdleTimeout(options.idleTimeout().toMillis());
        server.addConnector(connector);
        server.setErrorHandler(new JsonErrorHandler());

        ResourceHandler page = new ResourceHandler();
        page.setBaseResource(ResourceFactory.of(page).newClassLoaderResource("org/finsent/serve/web"));
        page.setDirAllowed(false);
        page.setWelcomeFiles("index.html");
        page.setCacheControl("no-cache");
        Handler app = new Handler.Sequence(new Api(), page);
        if (!options.corsOrigins().isEmpty()) app = cors(app, options.corsOrigins());
        server.setHandler(new GracefulHandler(app));
        server.setStopTimeout(options.stopTimeout().toMillis());
    }

    private static Handler cors(Handler app, List<String> origins) {
        CrossOriginHandler cors = new CrossOriginHandler();
        // Jetty takes regular expressions; users give origins, so quote them ("*" stays Jetty's wildcard).
        Set<String> patterns = new java.util.LinkedHashSet<>();
        for (String o : origins) patterns.add(o.equals("*") ? "*" : Pattern.quote(o));
        cors.setAllowedOriginPatterns(patterns);
        cors.setAllowedMethods(Set.of("GET", "POST", "OPTIONS"));
        cors.setAllowedHeaders(Set.of("Content-Type"));
        cors.setPreflightMaxAge(Duration.ofHours(1));
        cors.setHandler(app);
        return cors;
    }

    /** Starts listening; returns the base URI (with the actual port when the port was 0). */
    public URI start() throws Exception {
        server.start();
        return uri();
    }

    public URI uri() {
        String host = options.host().contains(":") ? "[" + options.host() + "]" : options.host();
        return URI.create("http://" + host + ":" + connector.getLocalPort() + "/");
    }

    public SentimentService service() {
        return service;
    }

    public void join() throws InterruptedException {
        server.join();
    }

    /**
     * Graceful shutdown: stop accepting connections, let requests in flight finish (up to the stop timeout), then
     * drain the batcher.
     */
    @Override
    public void close() throws Exception {
        try {
            server.stop();
        } finally {
            service.close();
        }
    }

    // ------------------------------------------------------------------------------------------ the API routes

    private final class Api extends Handler.Abstract {
        @Override
        public boolean handle(Request request, Response response, Callback callback) {
            long t0 = System.nanoTime();
            String path = Request.getPathInContext(request);
            String method = request.getMethod();
            try {
                switch (path) {
                    case "/health" -> {
                        allow(response, method, "GET");
                        send(response, callback, 200, health());
                    }
                    case "/model" -> {
                        allow(response, method, "GET");
                        send(response, callback, 200, model());
                    }
                    case "/analyze" -> {
                        allow(response, method, "GET", "POST");
                        if (HttpMethod.GET.is(method) || HttpMethod.HEAD.is(method)) reply(response, callback, service.analyze(queryText(request), t0));
                        else reply(response, callback, readJson(request).thenCompose(body -> service.analyze(textField(body), t0)));
                    }
                    case "/analyze/batch" -> {
                        allow(response, method, "POST");
                        reply(response, callback, readJson(request).thenCompose(body -> service.analyzeBatch(textsField(body), t0)));
                    }
                    default -> {
                        // TRACE, PUT, DELETE, ... elsewhere: a JSON 405 (the page's files are GET only)
                        if (!KNOWN_METHODS.contains(method)) allow(response, method, "GET", "HEAD", "POST");
                        return false; // the page's files, else 404
                    }
                }
            } catch (ApiException e) {
                sendError(response, callback, e.status(), e.getMessage());
            } catch (RuntimeException e) {
                sendError(response, callback, 500, "internal error: " + e);
            }
            return true;
        }

        private void reply(Response response, Callback callback, CompletableFuture<?> result) {
            result.whenComplete((value, err) -> {
                if (err == null) {
                    send(response, callback, 200, value);
                    return;
                }
                Throwable cause = err;
                while (cause instanceof CompletionException && cause.getCause() != null) cause = cause.getCause();
                if (cause instanceof ApiException a) {
                    // the rest of a refused body is not read: the connection cannot carry another request
                    if (a.status() == 408 || a.status() == 413) response.getHeaders().put(HttpHeader.CONNECTION, "close");
                    sendError(response, callback, a.status(), a.getMessage());
                } else if (cause instanceof org.eclipse.jetty.http.HttpException h) {
                    // Jetty could not read the body (a malformed chunk, ...): the client's fault, with Jetty's status
                    response.getHeaders().put(HttpHeader.CONNECTION, "close");
                    sendError(response, callback, h.getCode(), "bad request body: " + (h.getReason() != null ? h.getReason()
                            : org.eclipse.jetty.http.HttpStatus.getMessage(h.getCode())));
                } else if (cause instanceof java.util.concurrent.TimeoutException) {
                    response.getHeaders().put(HttpHeader.CONNECTION, "close");
                    sendError(response, callback, 408, "request body not received in time (idle timeout)");
                } else if (cause instanceof IOException e) { // the client went away or broke the connection mid-body
                    response.getHeaders().put(HttpHeader.CONNECTION, "close");
                    sendError(response, callback, 400, "incomplete request body: " + e.getMessage());
                } else if (cause instanceof IllegalArgumentException e) {
                    // the model refused this one input (the batcher ran it alone, so it is this input's fault)
                    sendError(response, callback, 422, "cannot analyze this text: " + e.getMessage());
                } else {
                    sendError(response, callback, 500, "prediction failed: " + cause);
                }
            });
        }
    }

    private static final Set<String> KNOWN_METHODS = Set.of("GET", "HEAD", "POST");

    /** 405 with an {@code Allow} header unless {@code method} is one of {@code allowed} (HEAD goes with GET). */
    private static void allow(Response response, String method, String... allowed) {
        for (String m : allowed) if (m.equals(method)) return;
        if (method.equals("HEAD") && allowed[0].equals("GET")) return;
        response.getHeaders().put(HttpHeader.ALLOW, String.join(", ", allowed));
        throw new ApiException(405, "method " + method + " not allowed here; allowed: " + String.join(", ", allowed));
    }

    private Map<String, Object> health() {
        MicroBatcher.Stats s = service.stats();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("status", "ok");
        m.put("model", service.info().name());
        m.put("uptime_s", Math.round((System.nanoTime() - startedNanos) / 1e7) / 100.0);
        m.put("forward_passes", s.batches());
        m.put("texts_analyzed", s.items());
        m.put("mean_batch_size", Math.round(s.meanBatchSize() * 100) / 100.0);
        m.put("queued", s.queued());
        return m;
    }

    private Map<String, Object> model() {
        Map<String, Object> m = new LinkedHashMap<>(JSON.convertValue(service.info(), Map.class));
        Map<String, Object> limits = new LinkedHashMap<>(JSON.convertValue(service.limits(), Map.class));
        limits.put("max_body_bytes", options.maxBodyBytes());
        m.put("limits", limits);
        return m;
    }

    private static String queryText(Request request) {
        Fields q = Request.extractQueryParameters(request);
        Fields.Field f = q.get("text");
        if (f == null) throw new ApiException(400, "missing query parameter 'text' (GET /analyze?text=...)");
        return f.getValue();
    }

    /**
     * Checks the content type and declared size (before reading: failures throw {@link ApiException} at once), then
     * reads the body asynchronously and parses it.
     */
    private CompletableFuture<JsonNode> readJson(Request request) {
        String type = request.getHeaders().get(HttpHeader.CONTENT_TYPE);
        String mime = type == null ? null : MimeTypes.getContentTypeWithoutCharset(type).trim();
        if (mime == null || !mime.equalsIgnoreCase("application/json")) {
            throw new ApiException(415, "Content-Type must be application/json" + (type == null ? " (none given)" : ", not " + type));
        }
        long declared = request.getLength();
        if (declared > options.maxBodyBytes()) {
            throw new ApiException(413, "request body of " + declared + " bytes is over the limit of " + options.maxBodyBytes());
        }
        BodyReader reader = new BodyReader(request, (int) options.maxBodyBytes(), options.minBodyRate());
        reader.run();
        return reader.result.thenApply(SentimentServer::parseJson);
    }

    /** A request body as JSON, or a 400 saying what is wrong with it (the service's parsing, fuzzed on its own). */
    static JsonNode parseJson(byte[] body) {
        if (body.length == 0) throw new ApiException(400, "empty request body (expected JSON)");
        try {
            return JSON.readTree(body);
        } catch (IOException e) {
            String m = e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
            throw new ApiException(400, "malformed JSON: " + m);
        }
    }

    /**
     * Reads a request body without blocking: takes what has arrived, asks Jetty to call back when more does, and
     * completes {@link #result} at the end of the body. Stops at the size cap (413) and when the body arrives slower
     * than the minimum rate (408).
     */
    private static final class BodyReader implements Runnable {
        private static final long GRACE_NANOS = 1_000_000_000L;
        final CompletableFuture<byte[]> result = new CompletableFuture<>();
        private final Request request;
        private final int cap;
        private final long minRate;
        private final long start = System.nanoTime();
        private final java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();

        BodyReader(Request request, int cap, long minRate) {
            this.request = request;
            this.cap = cap;
            this.minRate = minRate;
        }

        @Override
        public void run() {
            try {
                while (!result.isDone()) {
                    org.eclipse.jetty.io.Content.Chunk chunk = request.read();
                    if (chunk == null) {
                        if (tooSlow()) return;
                        request.demand(this);
                        return;
                    }
                    if (org.eclipse.jetty.io.Content.Chunk.isFailure(chunk)) {
                        result.completeExceptionally(chunk.getFailure());
                        return;
                    }
                    java.nio.ByteBuffer b = chunk.getByteBuffer();
                    int n = b.remaining();
                    if ((long) bytes.size() + n > cap) {
                        chunk.release();
                        result.completeExceptionally(new ApiException(413, "request body is over the limit of " + cap + " bytes"));
                        return;
                    }
                    byte[] part = new byte[n];
                    b.get(part);
                    bytes.write(part, 0, n);
                    boolean last = chunk.isLast();
                    chunk.release();
                    if (last) {
                        result.complete(bytes.toByteArray());
                        return;
                    }
                    if (tooSlow()) return;
                }
            } catch (RuntimeException e) {
                result.completeExceptionally(e);
            }
        }

        /** Fails the read with 408 when, after the first second, fewer than minRate bytes per second have arrived. */
        private boolean tooSlow() {
            if (minRate <= 0) return false;
            long elapsed = System.nanoTime() - start;
            if (elapsed <= GRACE_NANOS || bytes.size() >= minRate * (elapsed / 1e9)) return false;
            result.completeExceptionally(new ApiException(408, String.format(java.util.Locale.ROOT,
                    "request body too slow: %d bytes in %.1f s (at least %d bytes/s)", bytes.size(), elapsed / 1e9, minRate)));
            return true;
        }
    }

    static String textField(JsonNode body) {
        if (!body.isObject()) throw new ApiException(400, "expected a JSON object {\"text\": \"...\"}");
        JsonNode t = body.get("text");
        if (t == null || t.isNull()) throw new ApiException(400, "missing field 'text'");
        if (!t.isTextual()) throw new ApiException(400, "'text' must be a string, not " + t.getNodeType().toString().toLowerCase());
        return t.textValue();
    }

    static List<String> textsField(JsonNode body) {
        if (!body.isObject()) throw new ApiException(400, "expected a JSON object {\"texts\": [\"...\", ...]}");
        JsonNode t = body.get("texts");
        if (t == null || t.isNull()) throw new ApiException(400, "missing field 'texts' (an array of strings)");
        if (!t.isArray()) throw new ApiException(400, "'texts' must be an array of strings");
        List<String> out = new ArrayList<>(t.size());
        for (int i = 0; i < t.size(); i++) {
            if (!t.get(i).isTextual()) throw new ApiException(400, "texts[" + i + "] must be a string");
            out.add(t.get(i).textValue());
        }
        return out;
    }

    private static void send(Response response, Callback callback, int status, Object body) {
        byte[] bytes;
        try {
            bytes = JSON.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            status = 500;
            bytes = errorJson(500, "could not write the answer: " + e.getOriginalMessage());
        }
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, JSON_UTF8);
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
        response.write(true, ByteBuffer.wrap(bytes), callback);
    }

    private static void sendError(Response response, Callback callback, int status, String message) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("error", message);
        m.put("status", status);
        send(response, callback, status, m);
    }

    private static byte[] errorJson(int status, String message) {
        try {
            return JSON.writeValueAsBytes(Map.of("error", message, "status", status));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Jetty's own errors (404 for an unknown route, 414, 431, bad HTTP…) as the same JSON as the API's. */
    private static final class JsonErrorHandler extends ErrorHandler {
        /** Jetty writes no body for methods other than GET, POST and HEAD: every error here has its JSON body. */
        @Override
        public boolean errorPageForMethod(String method) {
            return true;
        }

        @Override
        protected void generateResponse(Request request, Response response, int code, String message, Throwable cause,
                                        Callback callback) {
            String text = code == 404 ? "no route " + request.getMethod() + " " + Request.getPathInContext(request)
                    : message != null ? message : org.eclipse.jetty.http.HttpStatus.getMessage(code);
            // Jetty drops the connection after a request it could not parse (414, 431, 400): say so, or a client
            // that pools connections sends its next request into the closed one.
            if (code != 404) response.getHeaders().put(HttpHeader.CONNECTION, "close");
            sendError(response, callback, code, text);
        }

        @Override
        public ByteBuffer badMessageError(int status, String reason, org.eclipse.jetty.http.HttpFields.Mutable fields) {
            fields.put(HttpHeader.CONTENT_TYPE, JSON_UTF8);
            return ByteBuffer.wrap(errorJson(status, reason == null ? org.eclipse.jetty.http.HttpStatus.getMessage(status) : reason));
        }
    }
}
