package org.finsent.serve;

import org.finsent.tokenizers.Tokenizer;
import org.finsent.tokenizers.TokenizerOptions;
import org.finsent.train.Predictor;
import org.finsent.train.Predictor.Prediction;

import java.util.List;
import java.util.Objects;
import java.util.function.Function;

/**
 * A model as the service needs it: a batched predict function, the tokenizer (to tell whether an input will be
 * truncated) and its {@link ModelInfo}.
 *
 * @param predict   texts to predictions, in order (usually {@link Predictor#predict(List)}); called from one
 *                  thread at a time by the {@link MicroBatcher}
 * @param tokenizer the tokenizer the predictor uses (its truncation options are ignored here)
 */
public record ServedModel(Function<List<String>, List<Prediction>> predict, Tokenizer tokenizer, ModelInfo info) {
    public ServedModel {
        Objects.requireNonNull(predict, "predict");
        Objects.requireNonNull(info, "info");
        tokenizer = tokenizer.withOptions(tokenizer.options().withPadding(TokenizerOptions.Padding.NONE)
                .withTruncation(0, TokenizerOptions.Truncation.NONE));
    }

    /** A model served by a {@link Predictor}. */
    public static ServedModel of(Predictor predictor, Tokenizer tokenizer, ModelInfo info) {
        return new ServedModel(predictor::predict, tokenizer, info);
    }

    /** Made-up texts of a few lengths for {@link #warmUp} (no data set's sentences). */
    private static final List<String> WARM_UP_TEXTS = List.of(
            "Profit fell.",
            "The company expects sales to grow next year .",
            "Quarterly revenue rose 4 % to 120 million euros , while operating costs were flat compared with a year earlier .",
            "The board proposed a dividend of 0.50 per share and said the outlook for the rest of the year remains "
                    + "uncertain because orders from its largest customers slowed in the second half , the statement said .");

    /**
     * Runs the model on made-up texts at every power-of-two batch size up to {@code maxBatch} (and {@code maxBatch}
     * itself), round after round until {@code seconds} have passed, at least one round. Returns the forward passes run.
     */
    public int warmUp(double seconds, int maxBatch) {
        if (!(seconds >= 0) || Double.isInfinite(seconds)) throw new IllegalArgumentException("warm-up seconds must be >= 0: " + seconds);
        if (maxBatch < 1) throw new IllegalArgumentException("maxBatch must be >= 1: " + maxBatch);
        if (seconds == 0) return 0;
        List<Integer> sizes = new java.util.ArrayList<>();
        for (int s = 1; s < maxBatch; s *= 2) sizes.add(s);
        sizes.add(maxBatch);
        long end = System.nanoTime() + (long) (seconds * 1e9);
        int passes = 0, next = 0;
        do {
            for (int size : sizes) {
                List<String> batch = new java.util.ArrayList<>(size);
                for (int i = 0; i < size; i++) batch.add(WARM_UP_TEXTS.get(next++ % WARM_UP_TEXTS.size()));
                predict.apply(batch);
                passes++;
            }
        } while (System.nanoTime() < end);
        return passes;
    }

    /**
     * The text's length in tokens, special tokens included, before truncation: the input is truncated when this
     * exceeds {@link ModelInfo#maxSeqLength()}.
     */
    public int tokenCount(String text) {
        return tokenizer.encode(text).length();
    }
}
