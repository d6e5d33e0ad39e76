package org.finsent.train;

import org.finsent.core.model.SequenceClassifier;
import org.finsent.tokenizers.Tokenizer;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * The study's {@code predict_sentiment}: text in, label, confidence and every class probability out.
 *
 * <p>Texts are tokenized like training (same truncation, dynamic padding) and run in batches of similar length.
 * Probabilities are the softmax of the logits, computed in double. Thread-safe: tokenization runs concurrently,
 * but the forward pass holds the model's monitor, because a model caches activations for its backward pass and
 * two concurrent forwards would overwrite each other's caches. The model is put in evaluation mode (dropout off)
 * for every call; do not predict with a model that is training. Each calling thread keeps one ND4J workspace, the
 * size of the largest batch it ran, for its forward passes (a service that predicts from one thread keeps one).
 */
public final class Predictor {
    private final SequenceClassifier model;
    private final Batcher batcher;
    private final List<String> labelNames;
    private final int batchSize;
    private final StepMemory memory = new StepMemory();
    private static final String WORKSPACE = "finsent-predict";

    /**
     * One prediction.
     *
     * @param labelId       argmax class id
     * @param label         its name
     * @param confidence    its probability
     * @param probabilities every class's probability, by id (sums to 1)
     */
    public record Prediction(int labelId, String label, double confidence, double[] probabilities) {
        @Override
        public String toString() {
            return String.format(java.util.Locale.ROOT, "%s (%.3f) %s", label, confidence, Arrays.toString(probabilities));
        }
    }

    /**
     * @param labelNames   class names by id
     * @param maxSeqLength truncation length (use the training run's)
     * @param batchSize    texts per forward pass
     */
    public Predictor(SequenceClassifier model, Tokenizer tokenizer, List<String> labelNames, int maxSeqLength, int batchSize) {
        this.model = Objects.requireNonNull(model, "model");
        this.batcher = new Batcher(tokenizer, maxSeqLength);
        this.labelNames = List.copyOf(labelNames);
        if (batchSize < 1) throw new IllegalArgumentException("batchSize must be >= 1: " + batchSize);
        this.batchSize = batchSize;
    }

    /** A predictor with the trainer's model, tokenizer, labels, sequence length and evaluation batch size. */
    public static Predictor of(SequenceClassifier model, Trainer trainer) {
        return new Predictor(model, trainer.batcher().tokenizer(), trainer.labelNames(), trainer.args().maxSeqLength(),
                trainer.args().perDeviceEvalBatchSize());
    }

    public Prediction predict(String text) {
        return predict(List.of(text)).get(0);
    }

    /** Predictions in the order of {@code texts}. */
    public List<Prediction> predict(List<String> texts) {
        if (texts.isEmpty()) return List.of();
        Batcher.Tokenized data = batcher.tokenizeTexts(texts);
        Prediction[] out = new Prediction[texts.size()];
        for (Batcher.LabeledBatch b : batcher.evalBatches(data, batchSize)) {
            double[][] logits;
            // The forward's activations live in this thread's workspace, reused by the next call: without it a server
            // predicting all day grows by every batch's activations until a GC (see StepMemory). Only the logits,
            // copied to Java arrays, leave the scope.
            synchronized (model) {
                try (MemoryWorkspace ws = StepMemory.step(WORKSPACE)) {
                    model.train(false);
                    INDArray z = model.forward(b.batch());
                    logits = z.toDoubleMatrix();
                }
            }
            if (logits[0].length != labelNames.size()) {
                throw new IllegalStateException("the model has " + logits[0].length + " outputs but " + labelNames.size() + " label names");
            }
            for (int r = 0; r < logits.length; r++) out[b.indices()[r]] = fromLogits(logits[r]);
            memory.check();
        }
        return List.of(out);
    }

    private Prediction fromLogits(double[] z) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : z) max = Math.max(max, v);
        double[] p = new double[z.length];
        double sum = 0;
        for (int k = 0; k < z.length; k++) sum += p[k] = Math.exp(z[k] - max);
        int best = 0;
        for (int k = 0; k < z.length; k++) {
            p[k] /= sum;
            if (p[k] > p[best]) best = k;
        }
        return new Prediction(best, labelNames.get(best), p[best], p);
    }
}
