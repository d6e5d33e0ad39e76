package org.finsent.train.optim;

import org.finsent.core.nn.Parameter;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

import java.util.List;
import java.util.SplittableRandom;

import static org.finsent.train.optim.AdamWTest.flat;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link GradClip} against direct computation: total = sqrt(Σ g²), scaled by maxNorm/(total+1e-6) when that is &lt; 1. */
class GradClipTest {

    static Parameter withGrad(String name, DataType type, double... g) {
        Parameter p = new Parameter(name, Nd4j.zeros(type, g.length));
        p.grad().assign(Nd4j.create(g).castTo(type));
        return p;
    }

    static Parameter frozen() {
        Parameter f = new Parameter("frozen.weight", Nd4j.create(new double[]{100, 100}));
        f.setTrainable(false);
        return f;
    }

    @Test
    void clipsThreeFourTwelveToMaxNorm() {
        Parameter a = withGrad("a.weight", DataType.DOUBLE, 3, 4), b = withGrad("b.bias", DataType.DOUBLE, 12);
        List<Parameter> ps = List.of(a, b, frozen());
        assertEquals(13.0, GradClip.globalNorm(ps), 1e-15);          // sqrt(9 + 16 + 144); frozen ignored
        assertEquals(13.0, GradClip.clipGlobalNorm(ps, 6.5), 1e-15); // returns the norm before clipping
        double c = 6.5 / (13.0 + 1e-6);
        assertArrayEquals(new double[]{3 * c, 4 * c}, flat(a.grad()), 1e-15);
        assertArrayEquals(new double[]{12 * c}, flat(b.grad()), 1e-15);
        double after = GradClip.globalNorm(ps);
        assertTrue(after < 6.5 && after > 6.5 - 1e-6, "clipped norm just under maxNorm: " + after);
    }

    @Test
    void leavesGradientsUntouchedBelowMaxNormAndClipsAtExactlyMaxNormLikeTorch() {
        Parameter a = withGrad("a.weight", DataType.DOUBLE, 3, 4);
        assertEquals(5.0, GradClip.clipGlobalNorm(List.of(a), 5.1), 1e-15);
        assertArrayEquals(new double[]{3, 4}, flat(a.grad()), 0.0);
        // torch: coef = 5/(5 + 1e-6) < 1, so a norm equal to maxNorm is still scaled (by 1 − 2e-7)
        GradClip.clipGlobalNorm(List.of(a), 5.0);
        assertArrayEquals(new double[]{3 * 5 / (5 + 1e-6), 4 * 5 / (5 + 1e-6)}, flat(a.grad()), 1e-15);
    }

    @Test
    void randomGradientsInBothTypesMatchDirectComputation() {
        for (DataType type : new DataType[]{DataType.DOUBLE, DataType.FLOAT}) {
            SplittableRandom r = new SplittableRandom(3);
            double[][] gs = new double[3][];
            Parameter[] ps = new Parameter[3];
            double sumSq = 0;
            for (int k = 0; k < 3; k++) {
                gs[k] = new double[5 + 7 * k];
                for (int i = 0; i < gs[k].length; i++) {
                    double v = r.nextGaussian();
                    gs[k][i] = type == DataType.FLOAT ? (float) v : v;
                    sumSq += gs[k][i] * gs[k][i];
                }
                ps[k] = withGrad("p" + k + ".weight", type, gs[k]);
            }
            double total = Math.sqrt(sumSq), max = 0.25 * total;
            double tol = type == DataType.DOUBLE ? 1e-13 : 1e-5;
            assertEquals(total, GradClip.clipGlobalNorm(List.of(ps), max), tol * total, type.toString());
            double c = max / (total + 1e-6);
            for (int k = 0; k < 3; k++) {
                double[] expected = gs[k].clone();
                for (int i = 0; i < expected.length; i++) expected[i] *= c;
                assertArrayEquals(expected, flat(ps[k].grad()), tol, type + " p" + k);
            }
        }
    }

    @Test
    void tiedParameterCountsOnce() {
        Parameter a = withGrad("wte.weight", DataType.DOUBLE, 3, 4);
        assertEquals(5.0, GradClip.globalNorm(List.of(a, a)), 1e-15);
    }

    @Test
    void nonFiniteGradients() {
        Parameter ok = withGrad("ok.weight", DataType.FLOAT, 1, 2);
        assertTrue(GradClip.allFinite(List.of(ok, frozen())));
        for (double bad : new double[]{Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY}) {
            Parameter p = withGrad("bad.weight", DataType.FLOAT, 0.5, bad, 1);
            assertFalse(GradClip.allFinite(List.of(ok, p)), "detects " + bad);
            double total = GradClip.clipGlobalNorm(List.of(ok, p), 1e-3);
            assertFalse(Double.isFinite(total));
            assertArrayEquals(new double[]{1, 2}, flat(ok.grad()), 0.0, "left untouched when the norm is " + total);
        }
        assertThrows(IllegalArgumentException.class, () -> GradClip.clipGlobalNorm(List.of(ok), 0));
    }
}
