package org.finsent.cli;

import org.finsent.serve.SentimentServer;
import org.finsent.serve.SentimentService;
import org.finsent.serve.ServedModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code finsent serve}: the sentiment web service and page (docs/SERVE.md). Stops gracefully on Ctrl+C / SIGTERM:
 * requests in flight finish, then the process exits.
 */
@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Serve a fine-tuned model: POST /analyze, GET /analyze?text=, POST /analyze/batch, GET /health,",
                "GET /model, and a web page at /. See docs/SERVE.md."})
public final class ServeCommand implements Callable<Integer> {
    private static final SentimentService.Limits D = SentimentService.Limits.DEFAULTS;

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "A fine-tuned model directory (finsent train's output).")
    Path model;

    @Option(names = "--host", paramLabel = "HOST", defaultValue = "127.0.0.1",
            description = "Interface to listen on (default: ${DEFAULT-VALUE}, loopback only; 0.0.0.0 for every interface).")
    String host;

    @Option(names = "--port", paramLabel = "N", defaultValue = "8080", description = "Port (default: ${DEFAULT-VALUE}; 0 picks a free one).")
    int port;

    @Option(names = "--max-chars", paramLabel = "N", description = "Longest text in characters; longer is 413 (default: 10000).")
    int maxChars = D.maxChars();

    @Option(names = "--max-batch-texts", paramLabel = "N", description = "Most texts per POST /analyze/batch; more is 413 (default: 256).")
    int maxBatchTexts = D.maxBatchTexts();

    @Option(names = "--max-body-bytes", paramLabel = "N", description = "Largest request body; larger is 413, refused before reading (default: 4194304).")
    long maxBodyBytes = SentimentServer.Options.DEFAULT_MAX_BODY_BYTES;

    @Option(names = "--micro-batch", paramLabel = "N", description = "Most texts per forward pass when requests arrive together; 1 turns batching off (default: 32).")
    int microBatch = D.microBatch();

    @Option(names = "--batch-wait-ms", paramLabel = "MS", description = "Longest wait for a forward pass to fill (default: 5).")
    double batchWaitMs = D.microBatchWaitMs();

    @Option(names = "--queue", paramLabel = "N", description = "Most texts waiting for the model; beyond is 503 (default: 4096).")
    int queue = D.queueCapacity();

    @Option(names = "--cors-origin", paramLabel = "ORIGIN", split = ",",
            description = "Origin allowed to call the API from another page (repeatable or comma-separated; * for any). Default: none (same origin only).")
    List<String> corsOrigins = new ArrayList<>();

    @Option(names = "--stop-timeout-s", paramLabel = "S", defaultValue = "30", description = "How long shutdown waits for requests in flight (default: ${DEFAULT-VALUE}).")
    int stopTimeoutS;

    @Override
    public Integer call() throws Exception {
        if (!Files.isDirectory(model)) throw new IOException("model directory not found: " + model);
        var limits = new SentimentService.Limits(maxChars, maxBatchTexts, microBatch, batchWaitMs, queue);
        var options = new SentimentServer.Options(host, port, maxBodyBytes, corsOrigins, Duration.ofSeconds(stopTimeoutS));
        ServedModel served = loadModel(model, microBatch);
        SentimentServer server = new SentimentServer(new SentimentService(served, limits), options);
        URI uri = server.start();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("finsent serve: stopping (finishing requests in flight)");
            try {
                server.close();
            } catch (Exception e) {
                System.err.println("finsent serve: error while stopping: " + e);
            }
        }, "finsent-serve-shutdown"));
        System.out.printf("finsent serve: listening on %s (model %s: %s, max %d tokens)%n", uri, served.info().name(),
                served.info().labels(), served.info().maxSeqLength());
        server.join();
        return 0;
    }

    /**
     * THE place where a model directory becomes a {@link ServedModel}.
     *
     * <p>PLUG-IN POINT (issue 7 / the training CLI issue): {@code org.finsent.train.FineTunedModel} is being written in
     * parallel and has not landed yet. When it does, this becomes:
     * <pre>
     * FineTunedModel m = FineTunedModel.load(dir);
     * return ServedModel.of(new Predictor(m.model(), m.tokenizer(), m.labels(), m.maxSeqLength(), microBatch),
     *         m.tokenizer(), new ModelInfo(dir.getFileName().toString(), m.card().baseModel(), m.card().technique(),
     *         m.labels(), m.maxSeqLength(), m.card().metrics()));
     * </pre>
     */
    static ServedModel loadModel(Path dir, int microBatch) {
        throw new IllegalStateException("cannot load " + dir + ": loading fine-tuned model directories (FineTunedModel) "
                + "is not in this build yet; embed the service with org.finsent.serve.SentimentServer meanwhile");
    }
}
