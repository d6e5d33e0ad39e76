package org.finsent.core.nn;

import org.finsent.core.nn.GradCheck;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every layer's backward against central finite differences in FP64 (see {@link GradCheck} for the error
 * formula). The scalar loss is {@code Σ out ∘ R} for a fixed random R, so dL/dout = R.
 */
class LayerGradientTest {
    static final DataType D = DataType.DOUBLE;

    static INDArray rand(long seed, long... shape) {
        INDArray x = Nd4j.zeros(D, shape);
        GradCheck.randomize(x, 0, 1, seed);
        return x;
    }

    static double dot(INDArray a, INDArray b) {
        return a.mul(b).sumNumber().doubleValue();
    }

    /** Input gradient check for a function out = f(x), given its backward. */
    static void checkInput(String what, INDArray x, Function<INDArray, INDArray> f, Function<INDArray, INDArray> backward) {
        INDArray out = f.apply(x);
        INDArray r = rand(99, out.shape());
        INDArray dx = backward.apply(r);
        GradCheck.check(what + " dx", x, dx, () -> dot(f.apply(x), r), 200, 1);
    }

    @Test
    void linearBothLayouts() {
        for (boolean conv : new boolean[]{false, true}) {
            Linear l = conv ? Linear.conv1d("c", 5, 7, D) : Linear.linear("l", 5, 7, true, D);
            GradCheck.randomize(l.weight.value(), 0, 0.5, 1);
            GradCheck.randomize(l.bias.value(), 0, 0.5, 2);
            INDArray x = rand(3, 4, 5), r = rand(4, 4, 7);
            l.forward(x);
            INDArray dx = l.backward(r);
            GradCheck.check("linear dx conv=" + conv, x, dx, () -> dot(l.forward(x), r), 100, 1);
            GradCheck.check("linear dW conv=" + conv, l.weight.value(), l.weight.grad(), () -> dot(l.forward(x), r), 100, 1);
            GradCheck.check("linear db conv=" + conv, l.bias.value(), l.bias.grad(), () -> dot(l.forward(x), r), 100, 1);
        }
    }

    /**
     * The bias gradient of 64 rows and more (the product with a row of ones): finite differences in FP64, and in both
     * types two backward calls accumulate Σ_n dy (summed here in FP64, row by row) into the gradient.
     */
    @Test
    void linearBiasGradientOfManyRows() {
        for (boolean conv : new boolean[]{false, true}) {
            Linear l = conv ? Linear.conv1d("c", 5, 7, D) : Linear.linear("l", 5, 7, true, D);
            GradCheck.randomize(l.weight.value(), 0, 0.5, 1);
            INDArray x = rand(3, 70, 5), r = rand(4, 70, 7);
            l.forward(x);
            l.backward(r);
            GradCheck.check("linear db, 70 rows, conv=" + conv, l.bias.value(), l.bias.grad(), () -> dot(l.forward(x), r), 100, 1);
            for (DataType type : new DataType[]{D, DataType.FLOAT}) {
                Linear m = conv ? Linear.conv1d("c", 5, 7, type) : Linear.linear("l", 5, 7, true, type);
                INDArray dy = rand(8, 130, 7).castTo(type);
                m.forward(rand(9, 130, 5).castTo(type));
                m.backward(dy);
                m.backward(dy);
                double[][] d = dy.castTo(D).toDoubleMatrix();
                for (int j = 0; j < 7; j++) {
                    double sum = 0;
                    for (double[] row : d) sum += row[j];
                    assertEquals(2 * sum, m.bias.grad().getDouble(j), type == D ? 1e-12 : 1e-4, conv + " " + type + " db[" + j + "]");
                }
            }
        }
    }

    /** backwardAdd (dx summed into a residual gradient inside the GEMM) = that gradient + backward's dx, same weight gradients. */
    @Test
    void linearBackwardAddEqualsBackwardPlusTheSum() {
        for (boolean conv : new boolean[]{false, true}) {
            for (DataType type : new DataType[]{D, DataType.FLOAT}) {
                INDArray[] grads = new INDArray[2], dx = new INDArray[2];
                INDArray x = rand(3, 70, 5).castTo(type), dy = rand(4, 70, 7).castTo(type), sum = rand(5, 70, 5).castTo(type);
                for (int way = 0; way < 2; way++) {
                    Linear l = conv ? Linear.conv1d("c", 5, 7, type) : Linear.linear("l", 5, 7, true, type);
                    l.weight.value().assign(rand(6, l.weight.value().shape()));
                    l.weight.zeroGrad();
                    l.forward(x);
                    if (way == 0) {
                        dx[0] = sum.add(l.backward(dy));
                    } else {
                        INDArray acc = sum.dup();
                        assertSame(acc, l.backwardAdd(dy, acc), "returns the sum it added into");
                        dx[1] = acc;
                    }
                    grads[way] = l.weight.grad().dup();
                }
                double tol = type == D ? 1e-13 : 1e-5;
                assertTrue(dx[0].equalsWithEps(dx[1], tol), conv + " " + type + " dx");
                assertTrue(grads[0].equalsWithEps(grads[1], 0), conv + " " + type + " weight gradient unchanged");
            }
        }
    }

    @Test
    void frozenLinearHasNoGradientBufferAndStillPropagates() {
        Linear l = Linear.linear("l", 5, 3, true, D);
        GradCheck.randomize(l.weight.value(), 0, 0.5, 1);
        l.weight.setTrainable(false);
        assertNull(l.weight.grad());
        INDArray x = rand(3, 4, 5), r = rand(4, 4, 3);
        l.forward(x);
        INDArray dx = l.backward(r);
        GradCheck.check("frozen linear dx", x, dx, () -> dot(l.forward(x), r), 100, 1);
        assertNull(l.weight.grad());
    }

    @Test
    void gradientsAccumulateUntilZeroed() {
        Linear l = Linear.linear("l", 3, 2, true, D);
        GradCheck.randomize(l.weight.value(), 0, 0.5, 1);
        INDArray x = rand(3, 4, 3), r = rand(4, 4, 2);
        l.forward(x);
        l.backward(r);
        INDArray once = l.weight.grad().dup();
        l.forward(x);
        l.backward(r);
        assertTrue(l.weight.grad().equalsWithEps(once.mul(2), 1e-12));
        l.weight.zeroGrad();
        assertEquals(0, l.weight.grad().sumNumber().doubleValue(), 0);
    }

    @Test
    void layerNorm() {
        LayerNorm ln = new LayerNorm("ln", 6, 1e-5, D);
        GradCheck.randomize(ln.weight.value(), 1, 0.3, 1);
        GradCheck.randomize(ln.bias.value(), 0, 0.3, 2);
        INDArray x = rand(3, 5, 6), r = rand(4, 5, 6);
        ln.forward(x);
        INDArray dx = ln.backward(r);
        GradCheck.check("layernorm dx", x, dx, () -> dot(ln.forward(x), r), 100, 1);
        GradCheck.check("layernorm dγ", ln.weight.value(), ln.weight.grad(), () -> dot(ln.forward(x), r), 100, 1);
        GradCheck.check("layernorm dβ", ln.bias.value(), ln.bias.grad(), () -> dot(ln.forward(x), r), 100, 1);
    }

    @Test
    void geluBothFlavours() {
        for (Gelu g : Gelu.values()) {
            INDArray x = rand(5, 4, 9).muli(3);
            checkInput("gelu " + g, x, g::forward, dy -> g.backward(dy, x));
        }
    }

    @Test
    void geluValuesMatchTheirFormulas() {
        double[] xs = {-4, -1.5, -0.3, 0, 0.2, 1, 2.5, 6};
        INDArray x = Nd4j.createFromArray(xs);
        INDArray erf = Gelu.ERF.forward(x), tanh = Gelu.TANH.forward(x);
        for (int i = 0; i < xs.length; i++) {
            double v = xs[i];
            double exact = 0.5 * v * (1 + org.apache.commons.math3.special.Erf.erf(v / Math.sqrt(2)));
            double approx = 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));
            assertEquals(exact, erf.getDouble(i), 1e-14, "erf gelu at " + v);
            assertEquals(approx, tanh.getDouble(i), 1e-14, "tanh gelu at " + v);
        }
    }

    @Test
    void embeddingWithRepeatedIds() {
        Embedding e = new Embedding("e", 7, 4, D);
        GradCheck.randomize(e.weight.value(), 0, 1, 1);
        INDArray ids = Nd4j.createFromArray(3, 1, 3, 6, 0, 3);
        INDArray r = rand(2, 6, 4);
        e.forward(ids);
        e.backward(r);
        GradCheck.check("embedding dW", e.weight.value(), e.weight.grad(), () -> dot(e.forward(ids), r), 100, 1);
    }

    @Test
    void embeddingBackwardWithManyRepeatedIdsMatchesALoop() {
        // scatter-add must not lose updates when threads meet the same row (repeated positions in a batch)
        for (DataType type : new DataType[]{DataType.FLOAT, D}) {
            Embedding e = new Embedding("e", 8, 64, type);
            int n = 4096;
            int[] ids = new int[n];
            for (int i = 0; i < n; i++) ids[i] = i % 8;
            INDArray dy = Nd4j.ones(type, n, 64);
            for (int rep = 0; rep < 20; rep++) {
                e.weight.zeroGrad();
                e.forward(Nd4j.createFromArray(ids));
                e.backward(dy);
                assertEquals(n / 8 * 64 * 8.0, e.weight.grad().sumNumber().doubleValue(), 1e-6, "no lost updates, " + type);
                assertEquals(n / 8.0, e.weight.grad().getDouble(3, 17), 1e-6);
            }
        }
    }

    @Test
    void attentionWithPaddingAndCausalMasks() {
        int b = 2, h = 2, t = 4, d = 3;
        int[][] mask = {{1, 1, 1, 1}, {1, 1, 1, 0}};
        for (boolean causal : new boolean[]{false, true}) {
            INDArray q = rand(1, b, h, t, d), k = rand(2, b, h, t, d), v = rand(3, b, h, t, d), r = rand(4, b, h, t, d);
            INDArray m = Attention.mask(mask, causal, D);
            Attention.Grads g = Attention.backward(r, Attention.forward(q, k, v, m, null, false).cache(), null);
            java.util.function.DoubleSupplier loss = () -> dot(Attention.forward(q, k, v, m, null, false).out(), r);
            GradCheck.check("attention dQ causal=" + causal, q, g.dq(), loss, 200, 1);
            GradCheck.check("attention dK causal=" + causal, k, g.dk(), loss, 200, 1);
            GradCheck.check("attention dV causal=" + causal, v, g.dv(), loss, 200, 1);
        }
    }

    @Test
    void attentionWithExtraKeyRows() {
        // prefix tuning prepends rows to K and V: Tk > T
        int b = 2, h = 2, t = 3, tk = 5, d = 2;
        INDArray q = rand(1, b, h, t, d), k = rand(2, b, h, tk, d), v = rand(3, b, h, tk, d), r = rand(4, b, h, t, d);
        Attention.Grads g = Attention.backward(r, Attention.forward(q, k, v, null, null, false).cache(), null);
        java.util.function.DoubleSupplier loss = () -> dot(Attention.forward(q, k, v, null, null, false).out(), r);
        GradCheck.check("attention(prefix) dK", k, g.dk(), loss, 200, 1);
        GradCheck.check("attention(prefix) dV", v, g.dv(), loss, 200, 1);
    }

    @Test
    void dropoutBackwardReusesTheForwardMaskAndIsIdentityInEval() {
        Dropout dr = new Dropout(0.5, Nd4j.getRandomFactory().getNewRandomInstance(7));
        INDArray x = Nd4j.ones(D, 200, 50);
        INDArray y = dr.forward(x, true);
        double kept = y.gt(0).castTo(D).meanNumber().doubleValue();
        assertEquals(0.5, kept, 0.02, "about half kept");
        assertEquals(2.0, y.maxNumber().doubleValue(), 1e-12, "kept values scaled by 1/(1-p)");
        INDArray dx = dr.backward(Nd4j.ones(D, 200, 50));
        assertTrue(dx.equalsWithEps(y, 0), "backward applies the same mask");
        assertTrue(dr.forward(x, false) == x, "eval: identity");
    }
}
