package org.finsent.core.nn;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.SplittableRandom;
import java.util.function.DoubleSupplier;


/**
 * Gradient checking for anyone writing a layer (FinSent's own tests use it): central finite differences in FP64. For a tensor X with analytic gradient A (from backward) and numeric gradient
 * N_i = (L(X + h·e_i) − L(X − h·e_i)) / 2h over the checked entries i, the error is
 * <pre>  rel = ‖A − N‖₂ / max(‖A‖₂ + ‖N‖₂, 1e-12)  </pre>
 * (entries of A and N restricted to the checked ones), and the check requires {@code rel ≤ 1e-5}, or
 * {@code ‖A − N‖₂ ≤ 1e-9} for gradients that are zero in exact arithmetic (BERT's key bias, which the softmax
 * cancels): 1e-9 is above the rounding noise of central differences with h = 1e-5 on an O(1) loss
 * (~ε·|L|/h ≈ 1e-11 per entry) and far below any real gradient here.
 */
public final class GradCheck {
    public static final double H = 1e-5;
    public static final double TOLERANCE = 1e-5;
    public static final double ZERO_GRADIENT_NOISE = 1e-9;

    private GradCheck() {
    }

    /**
     * Checks up to {@code maxEntries} entries of {@code x} (all when it is small): {@code loss} recomputes the
     * scalar loss from scratch, {@code analytic} holds dL/dx from one backward at the unperturbed point.
     * @return the relative error
     * @throws AssertionError when the check fails, with both norms and the largest difference
     */
    public static double check(String what, INDArray x, INDArray analytic, DoubleSupplier loss, int maxEntries, long seed) {
        long n = x.length();
        INDArray flat = x.reshape(n);       // x must be C-ordered and contiguous: a view
        INDArray aFlat = analytic.reshape(n);
        long[] idx;
        if (n <= maxEntries) {
            idx = new long[(int) n];
            for (int i = 0; i < n; i++) idx[i] = i;
        } else {
            SplittableRandom r = new SplittableRandom(seed);
            idx = r.longs(maxEntries, 0, n).toArray();
        }
        double diff2 = 0, a2 = 0, n2 = 0, maxAbs = 0;
        for (long i : idx) {
            double orig = flat.getDouble(i);
            flat.putScalar(i, orig + H);
            double lp = loss.getAsDouble();
            flat.putScalar(i, orig - H);
            double lm = loss.getAsDouble();
            flat.putScalar(i, orig);
            double num = (lp - lm) / (2 * H), ana = aFlat.getDouble(i);
            diff2 += (ana - num) * (ana - num);
            a2 += ana * ana;
            n2 += num * num;
            maxAbs = Math.max(maxAbs, Math.abs(ana - num));
        }
        double rel = Math.sqrt(diff2) / Math.max(Math.sqrt(a2) + Math.sqrt(n2), 1e-12);
        check(rel <= TOLERANCE || Math.sqrt(diff2) <= ZERO_GRADIENT_NOISE, String.format("%s: relative error %.3e > %.0e (max abs diff %.3e, |A| %.3e, |N| %.3e)",
                what, rel, TOLERANCE, maxAbs, Math.sqrt(a2), Math.sqrt(n2)));
        return rel;
    }

    private static void check(boolean ok, String message) {
        if (!ok) throw new AssertionError(message);
    }

    /** Fills x with N(0, std²) values (deterministic). */
    public static void randomize(INDArray x, double mean, double std, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        INDArray flat = x.reshape(x.length());
        for (long i = 0; i < x.length(); i++) flat.putScalar(i, mean + std * gaussian(r));
    }

    static double gaussian(SplittableRandom r) {
        double u = r.nextDouble(), v = r.nextDouble();
        return Math.sqrt(-2 * Math.log(1 - u)) * Math.cos(2 * Math.PI * v);
    }
}
