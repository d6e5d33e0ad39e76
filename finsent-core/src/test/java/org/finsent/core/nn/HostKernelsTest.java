package org.finsent.core.nn;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Erf;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fused FP32 kernels against exact references computed in FP64 from the same FP32 inputs (ND4J's double erf
 * and exp, textbook softmax), against the ND4J-op paths they replace, and dropout's statistics.
 */
class HostKernelsTest {
    @AfterEach
    void restore() {
        HostKernels.enabled(true);
    }

    private static INDArray randn(Random r, double sd, long... shape) {
        INDArray x = Nd4j.create(DataType.FLOAT, shape);
        for (long i = 0; i < x.length(); i++) x.putScalar(i, (float) (r.nextGaussian() * sd));
        return x;
    }

    private static double maxAbs(INDArray a, INDArray b) {
        return Transforms.abs(a.castTo(DataType.DOUBLE).sub(b.castTo(DataType.DOUBLE)), false).maxNumber().doubleValue();
    }

    @Test
    void kernelsAreTakenForDenseFloatOnCpuOnly() {
        INDArray f = Nd4j.create(DataType.FLOAT, 4, 6);
        assertTrue(HostKernels.usable(f), "the CPU backend must take the fused path for dense FP32");
        assertFalse(HostKernels.usable(f.castTo(DataType.DOUBLE)), "FP64 keeps the exact ND4J ops");
        assertFalse(HostKernels.usable(f.transpose()), "strided views take the ND4J path");
        assertFalse(HostKernels.usable(Nd4j.create(DataType.FLOAT, 4, 6).get(
                org.nd4j.linalg.indexing.NDArrayIndex.all(), org.nd4j.linalg.indexing.NDArrayIndex.interval(1, 3))), "column slices have gaps");
        assertTrue(HostKernels.usable(Nd4j.create(DataType.FLOAT, 4, 6).get(
                org.nd4j.linalg.indexing.NDArrayIndex.interval(1, 3), org.nd4j.linalg.indexing.NDArrayIndex.all())), "row slices are dense");
        // what the model passes: the [B,1,T,Tk] attention mask (ND4J gives its size-1 dimension a non-default
        // stride) and the [B,H,T,Tk] scores
        INDArray mask = Attention.mask(new int[][]{{1, 1, 1}, {1, 1, 0}}, false, DataType.FLOAT);
        assertTrue(HostKernels.usable(mask), "attention mask " + java.util.Arrays.toString(mask.stride()));
        INDArray q = Attention.splitHeads(Nd4j.create(DataType.FLOAT, 6, 8), 2, 3, 2);
        assertTrue(HostKernels.usable(BatchedMatmul.matmul(q, q, false, true)), "attention scores");
        HostKernels.enabled(false);
        assertFalse(HostKernels.usable(f));
    }

    @Test
    void erfIsWithinItsBoundOfExactErf() {
        int n = 2_000_001;
        double[] xs = new double[n];
        for (int i = 0; i < n; i++) xs[i] = (float) (-6 + 12.0 * i / (n - 1));
        INDArray xd = Nd4j.createFromArray(xs);
        double[] exact = Nd4j.getExecutioner().exec(new Erf(xd, xd.ulike())).toDoubleVector();
        double worst = 0, worstNearZero = 0;
        for (int i = 0; i < n; i++) {
            double e = Math.abs(HostKernels.erf((float) xs[i]) - exact[i]);
            worst = Math.max(worst, e);
            if (Math.abs(xs[i]) < 0.5) worstNearZero = Math.max(worstNearZero, e);
        }
        assertTrue(worst <= 4.5e-7, "erf max abs error " + worst);
        assertTrue(worstNearZero <= 1.3e-7, "erf max abs error near 0: " + worstNearZero);
        assertEquals(1f, HostKernels.erf(4.5f));
        assertEquals(-1f, HostKernels.erf(-40f));
        assertEquals(0f, HostKernels.erf(0f));
    }

    @Test
    void geluForwardAndBackwardMatchFp64() {
        Random r = new Random(1);
        INDArray x = randn(r, 2.5, 300, 517);   // not a multiple of the chunk size: a ragged last chunk
        INDArray dy = randn(r, 1, 300, 517);
        Gelu.Output saved = Gelu.ERF.forwardSaving(x);
        INDArray y = saved.y();
        INDArray dx = Gelu.ERF.backward(dy, x, saved.saved());
        INDArray dxNoSave = Gelu.ERF.backward(dy, x, null);
        // exact: the ND4J ops in FP64 (exact erf) on the same FP32 inputs
        INDArray xd = x.castTo(DataType.DOUBLE), dyd = dy.castTo(DataType.DOUBLE);
        Gelu.Output savedD = Gelu.ERF.forwardSaving(xd);
        INDArray yd = savedD.y();
        INDArray dxd = Gelu.ERF.backward(dyd, xd, savedD.saved());
        assertTrue(maxAbs(y, yd) < 4.3e-7 * 12, "gelu " + maxAbs(y, yd)); // |x| ≤ 10 here: erf's bound × |x|
        assertTrue(maxAbs(saved.saved(), savedD.saved()) <= 2.2e-7, "Φ " + maxAbs(saved.saved(), savedD.saved()));
        assertTrue(maxAbs(dx, dxd) < 5e-6, "gelu' " + maxAbs(dx, dxd));
        assertArrayEquals(dx.data().asFloat(), dxNoSave.data().asFloat(), "recomputing Φ gives the same gradient");
        // and the ND4J-op FP32 path it replaces (glibc erff, ND4J exp): the same to within erf's approximation
        HostKernels.enabled(false);
        Gelu.Output savedN = Gelu.ERF.forwardSaving(x);
        INDArray yn = savedN.y();
        INDArray dxn = Gelu.ERF.backward(dy, x, savedN.saved());
        assertTrue(maxAbs(y, yn) < 4.3e-6, "vs ND4J path " + maxAbs(y, yn));
        assertTrue(maxAbs(dx, dxn) < 5e-6, "vs ND4J path' " + maxAbs(dx, dxn));
    }

    /**
     * GPT-2's tanh GELU kernel (FP32) against the formula in FP64 on the same inputs — random values, a ragged last
     * chunk, and a sweep of −30..30 (deep in both tails) — and against the ND4J-op FP32 path it replaces.
     */
    @Test
    void geluTanhForwardAndBackwardMatchFp64() {
        Random r = new Random(2);
        INDArray x = randn(r, 2.5, 300, 517), dy = randn(r, 1, 300, 517);
        float[] sweep = new float[6001];
        for (int i = 0; i < sweep.length; i++) sweep[i] = -30f + i * 0.01f;
        for (INDArray in : new INDArray[]{x, Nd4j.createFromArray(sweep)}) {
            INDArray g = in == x ? dy : Nd4j.onesLike(in);
            INDArray y = Gelu.TANH.forward(in), dx = Gelu.TANH.backward(g, in);
            float[] xs = in.dup().data().asFloat(), ys = y.dup().data().asFloat(), ds = dx.dup().data().asFloat(),
                    gs = g.dup().data().asFloat();
            double worstY = 0, worstD = 0;
            for (int i = 0; i < xs.length; i++) {
                double v = xs[i], u = Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v);
                // 1 + tanh(u), exactly where FP64 can: below u = −5 it cancels even in FP64 (tanh(−15) = −1 + 2e−13
                // keeps 3 digits), so there 1 + tanh(u) = 2e^{2u}/(1 + e^{2u}), the identity written out
                double onePlusT = u > -5 ? 1 + Math.tanh(u) : 2 * Math.exp(2 * u) / (1 + Math.exp(2 * u));
                double wantY = 0.5 * v * onePlusT;
                double wantD = (0.5 * onePlusT + 0.5 * v * onePlusT * (2 - onePlusT) * Math.sqrt(2 / Math.PI)
                        * (1 + 3 * 0.044715 * v * v)) * gs[i];
                // a few ulps, times the conditioning of y = x·σ(2u) in u: FP32 rounding of u (a few ulps) moves y by
                // the relative 2|u|(1 − σ)·δ, ~2|u|·δ in the left tail, where y falls as e^{2u} (the ND4J path
                // returns 0 there: 1 + tanh(u) = 0 in FP32), ~0 on the right
                double cond = 1 + 2 * Math.abs(u) * (1 - onePlusT / 2);
                double tolY = 6e-7 * Math.abs(wantY) * cond + 1e-30;
                double tolD = 6e-7 * (Math.abs(wantD) + Math.abs(gs[i])) * cond + 1e-30;
                assertTrue(Math.abs(ys[i] - wantY) <= tolY, "gelu_new(" + v + ") = " + ys[i] + ", want " + wantY);
                assertTrue(Math.abs(ds[i] - wantD) <= tolD, "gelu_new'(" + v + ")·dy = " + ds[i] + ", want " + wantD);
                worstY = Math.max(worstY, Math.abs(ys[i] - wantY));
                worstD = Math.max(worstD, Math.abs(ds[i] - wantD));
            }
            System.out.printf("gelu_new kernel vs FP64: max abs error %.2e (y), %.2e (dx)%n", worstY, worstD);
        }
        // the ND4J-op FP32 path it replaces: the same function, up to FP32 rounding of its nine passes
        INDArray y = Gelu.TANH.forward(x), dx = Gelu.TANH.backward(dy, x);
        HostKernels.enabled(false);                                   // (re-enabled after each test)
        INDArray yn = Gelu.TANH.forward(x), dxn = Gelu.TANH.backward(dy, x);
        assertTrue(maxAbs(y, yn) < 2e-6, "vs ND4J path " + maxAbs(y, yn));
        assertTrue(maxAbs(dx, dxn) < 5e-6, "vs ND4J path' " + maxAbs(dx, dxn));
    }

    @Test
    void expIsWithinOneUlpAndUnderflowsToZero() {
        int n = 1 << 20;
        float[] a = new float[n], x = new float[n];
        for (int i = 0; i < n; i++) a[i] = x[i] = (float) (-88 + 176.0 * i / (n - 1));
        HostKernels.expInPlace(a, n, HostKernels.Scratch.get(n));
        double worst = 0;
        for (int i = 0; i < n; i++) {
            double exact = Math.exp(x[i]);
            if (exact < Float.MIN_NORMAL) continue;          // below FP32's normal range: checked as 0 below
            worst = Math.max(worst, Math.abs(a[i] - exact) / Math.ulp((float) exact));
        }
        assertTrue(worst <= 1.0, "exp max error " + worst + " ulp");
        float[] edge = {0f, -0f, 1f, -1e-30f, -87.5f, -1000f, -Float.MAX_VALUE};
        HostKernels.expInPlace(edge, edge.length, HostKernels.Scratch.get(edge.length));
        assertArrayEquals(new float[]{1f, 1f, (float) Math.E, 1f, 0f, 0f, 0f}, edge, 1e-7f);
        assertEquals(0f, edge[6], 0f, "a masked score must give exactly 0");
    }

    @Test
    void layerNormForwardAndBackwardMatchFp64() {
        Random r = new Random(6);
        int n = 300, c = 768;                                  // 85 rows a chunk: a ragged last chunk
        INDArray x = randn(r, 3, n, c).addi(0.7), dy = randn(r, 1, n, c);
        LayerNorm f = new LayerNorm("ln", c, 1e-12, DataType.FLOAT), d = new LayerNorm("ln", c, 1e-12, DataType.DOUBLE);
        INDArray g = randn(r, 1, c), b = randn(r, 1, c);
        f.weight.value().assign(g);
        f.bias.value().assign(b);
        d.weight.value().assign(g.castTo(DataType.DOUBLE));
        d.bias.value().assign(b.castTo(DataType.DOUBLE));
        for (LayerNorm ln : new LayerNorm[]{f, d}) {
            ln.weight.setTrainable(true);
            ln.bias.setTrainable(true);
            ln.weight.grad().assign(0.5);                       // gradients accumulate into what is there
            ln.bias.grad().assign(0.5);
        }
        INDArray y = f.forward(x), yd = d.forward(x.castTo(DataType.DOUBLE));
        INDArray dx = f.backward(dy), dxd = d.backward(dy.castTo(DataType.DOUBLE));
        assertTrue(maxAbs(y, yd) < 2e-6, "y " + maxAbs(y, yd));
        assertTrue(maxAbs(dx, dxd) < 2e-6, "dx " + maxAbs(dx, dxd));
        assertTrue(maxAbs(f.weight.grad(), d.weight.grad()) < 2e-5, "dγ " + maxAbs(f.weight.grad(), d.weight.grad()));
        assertTrue(maxAbs(f.bias.grad(), d.bias.grad()) < 2e-5, "dβ " + maxAbs(f.bias.grad(), d.bias.grad()));
        // a row-slice view (offset into its buffer) gives what its copy gives
        INDArray view = x.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(10, 200), org.nd4j.linalg.indexing.NDArrayIndex.all());
        assertTrue(HostKernels.usable(view));
        assertArrayEquals(f.forward(view.dup()).data().asFloat(), f.forward(view).dup().data().asFloat());
        // the cache-passing form (Pfeiffer adapters) takes the same path
        INDArray y2 = f.forwardCached(x).y();
        assertArrayEquals(y.data().asFloat(), y2.data().asFloat());
        // the residual form LN(x + res), summed inside the kernel's pass, is LN of ND4J's x.add(res) bit for bit
        // and leaves both inputs as they were
        INDArray res = randn(r, 1, n, c), xCopy = x.dup(), resCopy = res.dup();
        INDArray y3 = f.forward(x, res);
        assertArrayEquals(f.forward(x.add(res)).data().asFloat(), y3.data().asFloat());
        assertEquals(xCopy, x);
        assertEquals(resCopy, res);
        // and the ND4J-op FP32 path agrees to rounding
        HostKernels.enabled(false);
        INDArray yn = f.forward(x);
        INDArray dxn = f.backward(dy);
        // (the fused kernel accumulates in double, so it is the closer of the two to FP64)
        assertTrue(maxAbs(y, yd) <= maxAbs(yn, yd), "fused y further from FP64 than the ND4J-op path");
        assertTrue(maxAbs(dx, dxd) <= maxAbs(dxn, dxd), "fused dx further from FP64 than the ND4J-op path");
    }

    /** Textbook masked softmax in double from the FP32 scores. */
    private static double[][] softmaxRef(INDArray s, INDArray mask) {
        long b = s.size(0), h = s.size(1), t = s.size(2), tk = s.size(3);
        double[][] out = new double[(int) (b * h * t)][(int) tk];
        for (int bi = 0; bi < b; bi++) for (int hi = 0; hi < h; hi++) for (int ti = 0; ti < t; ti++) {
            double[] row = out[(int) ((bi * h + hi) * t + ti)];
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (int j = 0; j < tk; j++) {
                row[j] = (double) (s.getFloat(bi, hi, ti, j) + (mask == null ? 0f : mask.getFloat(bi, 0, ti, j)));
                max = Math.max(max, row[j]);
            }
            for (int j = 0; j < tk; j++) sum += row[j] = Math.exp(row[j] - max);
            for (int j = 0; j < tk; j++) row[j] /= sum;
        }
        return out;
    }

    @Test
    void softmaxMatchesFp64AndTheNd4jPathWithPaddingMask() {
        Random r = new Random(4);
        int b = 3, h = 4, t = 37, prefix = 5, tk = t + prefix;
        INDArray s = randn(r, 3, b, h, t, tk);
        int[][] pad = new int[b][t];
        for (int i = 0; i < b; i++) for (int j = 0; j < t - 9 * i; j++) pad[i][j] = 1;
        INDArray mask = Attention.mask(pad, false, prefix, DataType.FLOAT);
        double[][] ref = softmaxRef(s, mask);
        INDArray fused = s.dup();
        HostKernels.softmaxRows(fused, mask);
        double worst = 0;
        for (int row = 0; row < ref.length; row++) {
            for (int j = 0; j < tk; j++) {
                float got = fused.reshape(ref.length, tk).getFloat(row, j);
                if (ref[row][j] == 0) assertEquals(0f, got, "masked key must get exactly 0");
                worst = Math.max(worst, Math.abs(got - ref[row][j]));
            }
        }
        assertTrue(worst < 2e-7, "softmax vs FP64 " + worst);
        // through Attention.forward, against its ND4J-op path
        INDArray q = randn(r, 1, b, h, t, 8), k = randn(r, 1, b, h, tk, 8), v = randn(r, 1, b, h, tk, 8);
        Attention.Output r1 = Attention.forward(q, k, v, mask, null, false);
        HostKernels.enabled(false);
        Attention.Output r2 = Attention.forward(q, k, v, mask, null, false);
        INDArray o1 = r1.out(), o2 = r2.out();
        assertTrue(maxAbs(r1.cache().probs(), r2.cache().probs()) < 2e-7, "probs vs ND4J " + maxAbs(r1.cache().probs(), r2.cache().probs()));
        assertTrue(maxAbs(o1, o2) < 1e-6, "attention output vs ND4J " + maxAbs(o1, o2));
    }

    @Test
    void fusedAttentionForwardIsBitIdenticalToTheSeparatePasses() {
        assertTrue(HostKernels.active() && BatchedMatmul.directBlas(), "the CPU backend must take the fused path");
        Random r = new Random(11);
        int b = 4, h = 6, t = 23, d = 8, p = 3;                 // 24 (example, head) pairs: several groups per thread
        int[][] pad = new int[b][t];
        for (int i = 0; i < b; i++) for (int j = 0; j < t - 5 * i; j++) pad[i][j] = 1;
        INDArray mask = Attention.mask(pad, false, p, DataType.FLOAT);                 // padding + prefix columns
        // what BertLayer passes: split-head views of [B·T, H·D] rows, K and V with prefix rows in front
        INDArray q = Attention.splitHeads(randn(r, 1, b * t, h * d), b, t, h);
        INDArray k = Attention.withPrefix(randn(r, 1, p, h * d), Attention.splitHeads(randn(r, 1, b * t, h * d), b, t, h), h);
        INDArray v = Attention.withPrefix(randn(r, 1, p, h * d), Attention.splitHeads(randn(r, 1, b * t, h * d), b, t, h), h);
        INDArray probs = BatchedMatmul.matmul(q, k, false, true, 1 / Math.sqrt(d));   // the three separate passes
        HostKernels.softmaxRows(probs, mask);
        for (double pDrop : new double[]{0, 0.3}) {
            for (boolean training : new boolean[]{false, true}) {
                Dropout drop = new Dropout(pDrop, Nd4j.getRandomFactory().getNewRandomInstance(3));
                Attention.Output res = Attention.forward(q, k, v, mask, drop, training);
                INDArray o = res.out();
                Attention.Cache c = res.cache();
                String at = "p=" + pDrop + " training=" + training;
                assertEquals(0.0, maxAbs(c.probs(), probs), "probabilities, " + at);
                assertEquals(training && pDrop > 0, c.dropped() != c.probs(), "dropout applied only when active, " + at);
                assertEquals(0.0, maxAbs(o, BatchedMatmul.matmul(c.dropped(), v, false, false)), "output, " + at);
            }
        }
    }

    @Test
    void softmaxBackwardMatchesTheNd4jPathWithDropout() {
        Random r = new Random(5);
        int b = 2, h = 3, t = 19;
        INDArray q = randn(r, 1, b, h, t, 8), k = randn(r, 1, b, h, t, 8), v = randn(r, 1, b, h, t, 8);
        INDArray dOut = randn(r, 1, b, h, t, 8);
        INDArray mask = Attention.mask(new int[][]{ones(t), ones(t - 6)}, false, DataType.FLOAT);
        for (double p : new double[]{0, 0.25}) {
            Dropout drop = new Dropout(p, Nd4j.getRandomFactory().getNewRandomInstance(7));
            Attention.Cache c = Attention.forward(q, k, v, mask, drop, true).cache();
            HostKernels.enabled(true);
            Attention.Grads fused = Attention.backward(dOut, c, drop);
            HostKernels.enabled(false);
            Attention.Grads ops = Attention.backward(dOut, c, drop); // same cache and dropout mask
            HostKernels.enabled(true);
            assertTrue(maxAbs(fused.dq(), ops.dq()) < 1e-6, "dq " + p + ": " + maxAbs(fused.dq(), ops.dq()));
            assertTrue(maxAbs(fused.dk(), ops.dk()) < 1e-6, "dk " + p + ": " + maxAbs(fused.dk(), ops.dk()));
            assertEquals(0, maxAbs(fused.dv(), ops.dv()), "dv does not go through the kernel");
        }
    }

    private static int[] ones(int valid) {
        int[] m = new int[19];
        java.util.Arrays.fill(m, 0, valid, 1);
        return m;
    }
}
