package org.finsent.core.nn;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.random.impl.BernoulliDistribution;
import org.nd4j.linalg.api.rng.Random;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Inverted dropout: in training, zero each element with probability p and scale the rest by 1/(1−p); in eval, the
 * identity. The mask comes from a generator seeded once per model, so a run is reproducible.
 */
public final class Dropout {
    private final double p;
    private final Random rng;
    private INDArray mask; // null when the last forward was the identity

    /** @param rng shared, seeded generator (null allowed when p == 0) */
    public Dropout(double p, Random rng) {
        if (p < 0 || p >= 1) throw new IllegalArgumentException("dropout probability must be in [0, 1), got " + p);
        this.p = p;
        this.rng = rng;
    }

    public INDArray forward(INDArray x, boolean training) {
        if (!training || p == 0) {
            mask = null;
            return x;
        }
        mask = x.ulike();
        Nd4j.getExecutioner().exec(new BernoulliDistribution(mask, 1 - p), rng);
        mask.muli(1 / (1 - p));
        return x.mul(mask);
    }

    public INDArray backward(INDArray dy) {
        return mask == null ? dy : dy.mul(mask);
    }

    /** Whether the last forward was the identity (evaluation, or p = 0): then backward is too. */
    public boolean identity() {
        return mask == null;
    }

    /** The last training forward's scaled mask (0 or 1/(1−p)); null after an identity forward. */
    INDArray mask() {
        return mask;
    }

    public double p() {
        return p;
    }
}
