package org.finsent.serve;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import org.finsent.train.Predictor.Prediction;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;

/**
 * The service behind the HTTP routes, without HTTP: validates texts, sends them through the {@link MicroBatcher}
 * and shapes the answers. Thread-safe.
 */
public final class SentimentService implements AutoCloseable {

    /** Limits and batching; {@link #DEFAULTS} are the documented defaults of {@code finsent serve}. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Limits(int maxChars, int maxBatchTexts, int microBatch, double microBatchWaitMs,
                         MicroBatcher.Wait microBatchPolicy, int queueCapacity) {
        public static final Limits DEFAULTS = new Limits(10_000, 256, 32, 5, MicroBatcher.Wait.ADAPTIVE, 4096);

        public Limits {
            java.util.Objects.requireNonNull(microBatchPolicy, "microBatchPolicy");
            if (maxChars < 1) throw new IllegalArgumentException("maxChars must be >= 1: " + maxChars);
            if (maxBatchTexts < 1) throw new IllegalArgumentException("maxBatchTexts must be >= 1: " + maxBatchTexts);
            if (queueCapacity < maxBatchTexts) {
                throw new IllegalArgumentException("queueCapacity (" + queueCapacity + ") must hold one full batch request ("
                        + maxBatchTexts + " texts)");
            }
        }
    }

    /** One answer (JSON field names as the issue's {@code POST /analyze}). */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonPropertyOrder({"label", "confidence", "scores", "truncated", "tokens", "model", "latency_ms"})
    public record Analysis(String label, double confidence, Map<String, Double> scores, boolean truncated, int tokens,
                           String model, double latencyMs) {
    }

    /** The answer of {@code POST /analyze/batch}: results in the order of the texts. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonPropertyOrder({"results", "model", "latency_ms"})
    public record BatchAnalysis(List<Analysis> results, String model, double latencyMs) {
    }

    private final ServedModel model;
    private final Limits limits;
    private final MicroBatcher<String, Prediction> batcher;

    public SentimentService(ServedModel model, Limits limits) {
        this.model = Objects.requireNonNull(model, "model");
        this.limits = Objects.requireNonNull(limits, "limits");
        this.batcher = new MicroBatcher<>(model.predict(), limits.microBatch(), limits.microBatchWaitMs(),
                limits.microBatchPolicy(), limits.queueCapacity());
    }

    public ModelInfo info() {
        return model.info();
    }

    public Limits limits() {
        return limits;
    }

    public MicroBatcher.Stats stats() {
        return batcher.stats();
    }

    /**
     * Analyzes one text.
     *
     * @param startNanos {@link System#nanoTime()} when the request arrived (for {@code latency_ms})
     * @throws ApiException 400 for a missing or blank text, 413 for one over the character limit, 503 when the
     *                      queue is full or the service is stopping; the future fails with the model's
     *                      {@link IllegalArgumentException} (the server's 422) when the model refuses this text
     *                      (the {@link MicroBatcher} isolates it from the texts batched with it)
     */
    public CompletableFuture<Analysis> analyze(String text, long startNanos) {
        int tokens = check(text, "text");
        CompletableFuture<Prediction> p = submit(List.of(text)).get(0);
        return p.thenApply(pred -> analysis(pred, tokens, millisSince(startNanos)));
    }

    /** Analyzes up to {@link Limits#maxBatchTexts()} texts; the same errors as {@link #analyze}, naming the index. */
    public CompletableFuture<BatchAnalysis> analyzeBatch(List<String> texts, long startNanos) {
        if (texts == null) throw new ApiException(400, "missing field 'texts' (an array of strings)");
        if (texts.isEmpty()) throw new ApiException(400, "'texts' is empty");
        if (texts.size() > limits.maxBatchTexts()) {
            throw new ApiException(413, "too many texts: " + texts.size() + " (at most " + limits.maxBatchTexts() + " per request)");
        }
        int[] tokens = new int[texts.size()];
        for (int i = 0; i < texts.size(); i++) tokens[i] = check(texts.get(i), "texts[" + i + "]");
        List<CompletableFuture<Prediction>> futures = submit(texts);
        return CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).handle((done, failed) -> {
            double ms = millisSince(startNanos);
            List<Analysis> out = new ArrayList<>(texts.size());
            for (int i = 0; i < texts.size(); i++) {
                CompletableFuture<Prediction> f = futures.get(i);
                if (f.isCompletedExceptionally()) {
                    Throwable e = f.handle((v, t) -> t instanceof java.util.concurrent.CompletionException c && c.getCause() != null ? c.getCause() : t).join();
                    if (e instanceof IllegalArgumentException) throw new ApiException(422, "texts[" + i + "]: cannot analyze this text: " + e.getMessage());
                    throw e instanceof RuntimeException r ? r : new java.util.concurrent.CompletionException(e);
                }
                out.add(analysis(f.join(), tokens[i], ms));
            }
            return new BatchAnalysis(out, model.info().name(), ms);
        });
    }

    private List<CompletableFuture<Prediction>> submit(List<String> texts) {
        try {
            return batcher.submitAll(texts);
        } catch (RejectedExecutionException e) {
            throw new ApiException(503, "service unavailable: " + e.getMessage());
        }
    }

    /** Validates one text and returns its untruncated token count. */
    private int check(String text, String what) {
        checkText(text, what, limits.maxChars());
        return model.tokenCount(text);
    }

    /** A text the service accepts: present, not blank, at most {@code maxChars} characters; else a 4xx. */
    static void checkText(String text, String what, int maxChars) {
        if (text == null) throw new ApiException(400, "missing " + what + " (a string)");
        if (text.isBlank()) throw new ApiException(400, what + " is empty");
        if (text.length() > maxChars) {
            throw new ApiException(413, what + " is too long: " + text.length() + " characters (at most " + maxChars + ")");
        }
    }

    private Analysis analysis(Prediction p, int tokens, double latencyMs) {
        List<String> labels = model.info().labels();
        if (p.probabilities().length != labels.size()) {
            throw new IllegalStateException("the model gave " + p.probabilities().length + " scores for " + labels.size() + " labels");
        }
        Map<String, Double> scores = new LinkedHashMap<>();
        for (int k = 0; k < labels.size(); k++) scores.put(labels.get(k), p.probabilities()[k]);
        return new Analysis(p.label(), p.confidence(), scores, tokens > model.info().maxSeqLength(), tokens,
                model.info().name(), latencyMs);
    }

    private static double millisSince(long startNanos) {
        return Math.round((System.nanoTime() - startNanos) / 1e4) / 100.0; // 0.01 ms resolution
    }

    /** Finishes every queued text, then stops the batching thread. */
    @Override
    public void close() {
        batcher.close();
    }
}
