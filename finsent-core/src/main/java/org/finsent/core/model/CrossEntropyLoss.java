package org.finsent.core.model;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Softmax cross-entropy with optional class weights, as PyTorch's {@code CrossEntropyLoss(weight=w)} with mean
 * reduction: {@code L = Σ_n w[y_n]·(−log softmax(z_n)[y_n]) / Σ_n w[y_n]}.
 * Backward: {@code dz_n = w[y_n]·(softmax(z_n) − onehot(y_n)) / Σ w[y_n]}.
 */
public final class CrossEntropyLoss {
    private final double[] classWeights; // null = all ones

    public CrossEntropyLoss(double[] classWeights) {
        this.classWeights = classWeights;
    }

    /** The loss and its gradient w.r.t. the logits. */
    public record Result(double loss, INDArray dLogits) {
    }

    public Result compute(INDArray logits, int[] labels) {
        long b = logits.rows(), c = logits.columns();
        if (labels.length != b) throw new IllegalArgumentException(labels.length + " labels for " + b + " rows");
        INDArray z = logits.subColumnVector(logits.max(true, 1));
        INDArray p = Transforms.exp(z, true);
        INDArray sum = p.sum(true, 1);
        p.diviColumnVector(sum);
        INDArray logSum = Transforms.log(sum, true);
        double total = 0, norm = 0;
        INDArray d = p.dup();
        for (int n = 0; n < b; n++) {
            int y = labels[n];
            if (y < 0 || y >= c) throw new IllegalArgumentException("label " + y + " outside [0, " + c + ")");
            double w = classWeights == null ? 1 : classWeights[y];
            total += w * (logSum.getDouble(n, 0) - z.getDouble(n, y));
            norm += w;
            d.putScalar(n, y, d.getDouble(n, y) - 1);
            d.getRow(n).muli(w);
        }
        return new Result(total / norm, d.divi(norm));
    }

}
