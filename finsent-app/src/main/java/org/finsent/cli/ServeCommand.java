package org.finsent.cli;

import org.finsent.serve.MicroBatcher;
import org.finsent.serve.ModelInfo;
import org.finsent.serve.SentimentServer;
import org.finsent.serve.SentimentService;
import org.finsent.serve.ServedModel;
import org.finsent.train.FineTunedModel;
import org.finsent.train.Predictor;
import org.finsent.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
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
        description = "Serve a fine-tuned model over HTTP: POST /analyze, GET /analyze?text=, POST /analyze/batch, "
                + "GET /health, GET /model, and a web page at /. See docs/SERVE.md.")
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

    @Option(names = "--batch-wait-ms", paramLabel = "MS",
            description = "Longest wait for a forward pass to fill; 0 never waits (default: 5). See --batch-policy for when it waits.")
    double batchWaitMs = D.microBatchWaitMs();

    @Option(names = "--batch-policy", paramLabel = "POLICY", converter = WaitConverter.class,
            description = "When a forward pass waits for companions: adaptive (only when the previous batch says more clients "
                    + "are coming; a lone request runs at once) or fixed (every batch that is not full waits the whole "
                    + "--batch-wait-ms). Default: adaptive.")
    MicroBatcher.Wait batchPolicy = D.microBatchPolicy();

    static final class WaitConverter implements picocli.CommandLine.ITypeConverter<MicroBatcher.Wait> {
        @Override
        public MicroBatcher.Wait convert(String value) {
            try {
                return MicroBatcher.Wait.parse(value);
            } catch (IllegalArgumentException e) {
                throw new picocli.CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }

    @Option(names = "--queue", paramLabel = "N", description = "Most texts waiting for the model; beyond is 503 (default: 4096).")
    int queue = D.queueCapacity();

    @Option(names = "--cors-origin", paramLabel = "ORIGIN", split = ",",
            description = "Origin allowed to call the API from another page (repeatable or comma-separated; * for any). Default: none (same origin only).")
    List<String> corsOrigins = new ArrayList<>();

    @Option(names = "--stop-timeout-s", paramLabel = "S", defaultValue = "30", description = "How long shutdown waits for requests in flight (default: ${DEFAULT-VALUE}).")
    int stopTimeoutS;

    @Option(names = "--idle-timeout-s", paramLabel = "S", description = "Close a connection silent for this long (default: 30).")
    double idleTimeoutS = SentimentServer.Options.DEFAULT_IDLE_TIMEOUT.toMillis() / 1000.0;

    @Option(names = "--min-body-rate", paramLabel = "BYTES_PER_S",
            description = "Slowest accepted request body after its first second; slower is 408 (default: 1024; 0 = off).")
    long minBodyRate = SentimentServer.Options.DEFAULT_MIN_BODY_RATE;

    @Override
    public Integer call() throws Exception {
        SentimentServer server = start();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("finsent serve: stopping (finishing requests in flight)");
            try {
                server.close();
            } catch (Exception e) {
                System.err.println("finsent serve: error while stopping: " + e);
            }
        }, "finsent-serve-shutdown"));
        ModelInfo info = server.service().info();
        System.out.printf("finsent serve: listening on %s (model %s: %s, max %d tokens; Ctrl+C stops)%n", server.uri(),
                info.name(), info.labels(), info.maxSeqLength());
        server.join();
        return FinSentCli.OK;
    }

    /** Loads the model and starts the server (what {@link #call} does before it waits; tests stop it with close). */
    SentimentServer start() throws Exception {
        // Jetty logs its start-up at INFO; the command prints its own line, so only Jetty's warnings remain.
        System.setProperty("org.slf4j.simpleLogger.log.org.eclipse.jetty", "warn");
        var limits = new SentimentService.Limits(maxChars, maxBatchTexts, microBatch, batchWaitMs, batchPolicy, queue);
        if (stopTimeoutS < 0) throw new IllegalArgumentException("--stop-timeout-s must be >= 0: " + stopTimeoutS);
        if (!(idleTimeoutS >= 0.1 && idleTimeoutS <= 86_400)) {
            throw new IllegalArgumentException("--idle-timeout-s must be in [0.1, 86400]: " + idleTimeoutS);
        }
        if (minBodyRate < 0) throw new IllegalArgumentException("--min-body-rate must be >= 0 (0 = off): " + minBodyRate);
        var options = new SentimentServer.Options(host, port, maxBodyBytes, corsOrigins, Duration.ofSeconds(stopTimeoutS),
                Duration.ofMillis(Math.round(idleTimeoutS * 1000)), minBodyRate);
        SentimentServer server = new SentimentServer(new SentimentService(loadModel(model, microBatch), limits), options);
        server.start();
        return server;
    }

    /** A directory written by {@code finsent train} (FineTunedModel) as the service's model. */
    static ServedModel loadModel(Path dir, int microBatch) throws IOException {
        FineTunedModel m = loadChecked(dir);
        FineTunedModel.Info i = m.info();
        // its own Predictor: batches of the micro-batch size (the shared m.predictor() uses 32)
        Predictor predictor = new Predictor(m.model(), m.tokenizer(), m.labels(), m.maxSeqLength(), microBatch);
        Path name = dir.toAbsolutePath().normalize().getFileName();
        ModelInfo info = new ModelInfo(name == null ? dir.toString() : name.toString(), i.baseModel(),
                String.join("+", i.techniques()), m.labels(), m.maxSeqLength(), i.metrics());
        return ServedModel.of(predictor, m.tokenizer(), info);
    }

    /**
     * {@link FineTunedModel#load}, refusing a directory whose truncation length is more than the model can take
     * (a text that long would fail in the forward pass instead of being truncated).
     */
    static FineTunedModel loadChecked(Path dir) throws IOException {
        FineTunedModel m = FineTunedModel.load(dir);
        int limit = Trainer.maxInputTokens(m.model());
        if (m.maxSeqLength() > limit) {
            throw new IllegalArgumentException(dir.resolve(FineTunedModel.INFO_FILE) + ": max_seq_length " + m.maxSeqLength()
                    + " is more than the model takes (" + limit + " tokens); set it to at most " + limit);
        }
        return m;
    }
}
