package org.finsent.core.nn;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.random.impl.BernoulliDistribution;
import org.nd4j.linalg.api.rng.Random;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Inverted dropout: in training, zero each element with probability p and scale the rest by 1/(1−p); in eval, the
 * identity.
 *
 * <p><b>Where the masks come from.</b> Inside a {@link #keyed(long) keyed scope} (the trainer opens one per batch,
 * keyed by seed, epoch and batch index) the k-th mask drawn on this thread is a pure function of
 * {@code (key, k)}: a training run's masks are then fully determined by state a checkpoint already holds, so a
 * resumed run draws exactly the masks the uninterrupted run drew. Outside a scope the mask comes from the
 * generator given to the constructor (seeded once per model), whose position a checkpoint cannot capture.
 */
public final class Dropout {
    private final double p;
    private final Random rng;
    private INDArray mask; // null when the last forward was the identity

    /** The open scope of this thread, or null. */
    private static final ThreadLocal<Scope> SCOPE = new ThreadLocal<>();
    /** One reusable generator per thread, re-seeded before every keyed draw. */
    private static final ThreadLocal<Random> KEYED_RNG = ThreadLocal.withInitial(() -> Nd4j.getRandomFactory().getNewRandomInstance(0));

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
        Scope s = SCOPE.get();
        Random source = rng;
        if (s != null) {
            source = KEYED_RNG.get();
            source.setSeed(mix(s.key, s.draws++)); // sets the generator's whole state: nothing carries over between draws
        }
        Nd4j.getExecutioner().exec(new BernoulliDistribution(mask, 1 - p), source);
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

    /**
     * Until the returned scope is closed, every dropout mask drawn on this thread is a function of {@code key} and
     * of how many masks the scope has drawn before it (the forward pass's fixed order), and of nothing else.
     * Scopes nest: closing one restores the one it replaced.
     */
    public static Scope keyed(long key) {
        Scope s = new Scope(key, SCOPE.get());
        SCOPE.set(s);
        return s;
    }

    /** SplitMix64's finaliser over a combination of the parts: well-spread seeds from small, related numbers. */
    public static long mix(long... parts) {
        long h = 0x9E3779B97F4A7C15L;
        for (long v : parts) {
            h ^= v;
            h += 0x9E3779B97F4A7C15L;
            h = (h ^ (h >>> 30)) * 0xBF58476D1CE4E5B9L;
            h = (h ^ (h >>> 27)) * 0x94D049BB133111EBL;
            h ^= h >>> 31;
        }
        return h;
    }

    /** A keyed stream of masks on one thread (see {@link #keyed}). */
    public static final class Scope implements AutoCloseable {
        private final long key;
        private final Scope previous;
        private long draws;

        private Scope(long key, Scope previous) {
            this.key = key;
            this.previous = previous;
        }

        /** Masks drawn so far in this scope. */
        public long draws() {
            return draws;
        }

        @Override
        public void close() {
            if (SCOPE.get() != this) throw new IllegalStateException("dropout scopes must be closed in the order they were opened");
            if (previous != null) SCOPE.set(previous);
            else SCOPE.remove();
        }
    }
}
