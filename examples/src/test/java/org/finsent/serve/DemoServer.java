package org.finsent.serve;

import java.time.Duration;
import java.util.List;

/**
 * Runs the service on the test fixture model, for the load test and for looking at the page by hand:
 * <pre>mvn -q -pl examples -am test-compile exec:java -Dexec.classpathScope=test \
 *     -Dexec.mainClass=org.finsent.serve.DemoServer -Dexec.args="--port 8080 [--micro-batch N] [--batch-wait-ms MS]"</pre>
 * (The real entry point is {@code finsent serve --model DIR}; this one needs no model directory.)
 */
public final class DemoServer {
    public static void main(String[] args) throws Exception {
        int port = 8080, microBatch = 32;
        double waitMs = 5;
        for (int i = 0; i < args.length; i += 2) {
            switch (args[i]) {
                case "--port" -> port = Integer.parseInt(args[i + 1]);
                case "--micro-batch" -> microBatch = Integer.parseInt(args[i + 1]);
                case "--batch-wait-ms" -> waitMs = Double.parseDouble(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        var d = SentimentService.Limits.DEFAULTS;
        var limits = new SentimentService.Limits(d.maxChars(), d.maxBatchTexts(), microBatch, waitMs, d.queueCapacity());
        var server = new SentimentServer(new SentimentService(ServeFixtures.model(), limits),
                new SentimentServer.Options("127.0.0.1", port, SentimentServer.Options.DEFAULT_MAX_BODY_BYTES, List.of(), Duration.ofSeconds(10)));
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                server.close();
            } catch (Exception e) {
                e.printStackTrace();
            }
        }));
        System.out.println("demo serve: listening on " + server.start() + " (micro-batch " + microBatch + ", wait " + waitMs + " ms)");
        server.join();
    }
}
