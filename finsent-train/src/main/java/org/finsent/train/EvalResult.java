package org.finsent.train;

import org.finsent.core.metrics.ClassificationMetrics;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One evaluation: the loss over the whole evaluation set and scikit-learn-exact classification metrics (accuracy,
 * precision / recall / F1 macro and weighted, confusion matrix in {@link ClassificationMetrics#confusionMatrix()}).
 *
 * @param loss          the training loss function (same class weights) over the whole set: {@code Σ w·nll / Σ w},
 *                      independent of how the set was cut into batches
 * @param metrics       predictions (argmax of the logits) against the labels
 * @param predictions   the predicted class per example, in input order
 * @param runtimeSeconds wall time of the evaluation
 */
public record EvalResult(double loss, ClassificationMetrics metrics, int[] predictions, double runtimeSeconds) {

    /**
     * A metric by Hugging Face-style name, with or without the {@code eval_} prefix: {@code loss}, {@code accuracy},
     * {@code f1_macro}, {@code f1_weighted}, {@code precision_macro}, {@code recall_macro},
     * {@code precision_weighted}, {@code recall_weighted}.
     */
    public double metric(String name) {
        String n = name.startsWith("eval_") ? name.substring(5) : name;
        return switch (n) {
            case "loss" -> loss;
            case "accuracy" -> metrics.accuracy();
            case "f1_macro" -> metrics.macroF1();
            case "f1_weighted" -> metrics.weightedF1();
            case "precision_macro" -> metrics.macroPrecision();
            case "recall_macro" -> metrics.macroRecall();
            case "precision_weighted" -> metrics.weightedPrecision();
            case "recall_weighted" -> metrics.weightedRecall();
            default -> throw new IllegalArgumentException("unknown metric '" + name + "'");
        };
    }

    /** {@code eval_loss}, {@code eval_accuracy}, ... and {@code eval_confusion_matrix} (rows = true class), for JSON. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("eval_loss", loss);
        for (String k : new String[]{"accuracy", "f1_macro", "f1_weighted", "precision_macro", "recall_macro",
                "precision_weighted", "recall_weighted"}) {
            m.put("eval_" + k, metric(k));
        }
        m.put("eval_confusion_matrix", metrics.confusionMatrix().toArray());
        m.put("eval_samples", metrics.confusionMatrix().total());
        m.put("eval_runtime_s", runtimeSeconds);
        return m;
    }
}
