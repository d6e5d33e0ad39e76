package org.finsent.core.model;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Language-model cross-entropy as Transformers computes it: mean of {@code −log softmax(z_r)[y_r]} over the rows
 * whose label is not {@link #IGNORE} (-100, PyTorch's {@code ignore_index}). Masked LM labels the row itself; causal
 * LM ({@link #causal}) shifts: row {@code t} of an example predicts the label at {@code t+1}, as
 * {@code GPT2LMHeadModel} does with {@code shift_logits = logits[..., :-1]}, {@code shift_labels = labels[..., 1:]}.
 * With no labelled row the loss is 0 with a zero gradient (PyTorch would give NaN; a batch without a masked token is
 * then simply a step without signal).
 */
public final class LanguageModelLoss {
    public static final int IGNORE = -100;

    private LanguageModelLoss() {
    }

    /** The loss, its gradient w.r.t. the logits, and how many rows it averaged over. */
    public record Result(double loss, INDArray dLogits, int count) {
    }

    /**
     * @param logits {@code [R, V]}
     * @param labels one per row, {@link #IGNORE} for rows that do not count
     */
    public static Result rows(INDArray logits, int[] labels) {
        long r = logits.rows(), v = logits.columns();
        if (labels.length != r) throw new IllegalArgumentException(labels.length + " labels for " + r + " rows");
        int count = 0;
        for (int y : labels) {
            if (y == IGNORE) continue;
            if (y < 0 || y >= v) throw new IllegalArgumentException("label " + y + " outside [0, " + v + ") and not " + IGNORE);
            count++;
        }
        if (count == 0) return new Result(0, Nd4j.zeros(logits.dataType(), r, v), 0);
        INDArray z = logits.subColumnVector(logits.max(true, 1));
        INDArray d = Transforms.exp(z, true);                 // softmax, then the gradient in place
        INDArray sum = d.sum(true, 1);
        d.diviColumnVector(sum);
        INDArray logSum = Transforms.log(sum, true);
        double[] keep = new double[(int) r];
        double total = 0;
        for (int n = 0; n < r; n++) {
            int y = labels[n];
            if (y == IGNORE) continue;
            keep[n] = 1;
            total += logSum.getDouble(n, 0) - z.getDouble(n, y);
            d.putScalar(n, y, d.getDouble(n, y) - 1);
        }
        if (count < r) d.muliColumnVector(Nd4j.createFromArray(keep).castTo(d.dataType()).reshape(r, 1));  // ignored rows: 0
        d.divi(count);
        return new Result(total / count, d, count);
    }

    /**
     * Causal LM: {@code labels [B][T]} aligned with the inputs (usually the input ids, {@link #IGNORE} at padding);
     * logits {@code [B·T, V]}. The last position of each example predicts nothing.
     */
    public static Result causal(INDArray logits, int[][] labels) {
        int b = labels.length, t = b == 0 ? 0 : labels[0].length;
        int[] shifted = new int[b * t];
        for (int n = 0; n < b; n++) {
            if (labels[n].length != t) throw new IllegalArgumentException("ragged labels: row " + n + " has " + labels[n].length + ", row 0 " + t);
            for (int i = 0; i < t; i++) shifted[n * t + i] = i + 1 < t ? labels[n][i + 1] : IGNORE;
        }
        return rows(logits, shifted);
    }
}
