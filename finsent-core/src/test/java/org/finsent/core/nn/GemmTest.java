package org.finsent.core.nn;

import org.bytedeco.openblas.global.openblas_nolapack;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.Random;
import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link Gemm} (rows split over {@link HostThreads}, single-threaded BLAS per block) against a naive product. */
class GemmTest {

    private static INDArray random(DataType type, Random rnd, char order, long rows, long cols) {
        double[] v = new double[(int) (rows * cols)];
        for (int i = 0; i < v.length; i++) v[i] = rnd.nextGaussian();
        return Nd4j.create(v, new long[]{rows, cols}, type).dup(order);
    }

    /** {@code alpha · op(a) · op(b) + beta · c0}, element by element in double. */
    private static double[][] naive(INDArray a, INDArray b, INDArray c0, boolean ta, boolean tb, double alpha, double beta) {
        long m = c0.size(0), n = c0.size(1), k = ta ? a.size(0) : a.size(1);
        double[][] out = new double[(int) m][(int) n];
        for (int r = 0; r < m; r++) {
            for (int c = 0; c < n; c++) {
                double s = 0;
                for (int x = 0; x < k; x++) {
                    s += (ta ? a.getDouble(x, r) : a.getDouble(r, x)) * (tb ? b.getDouble(c, x) : b.getDouble(x, c));
                }
                out[r][c] = alpha * s + beta * c0.getDouble(r, c);
            }
        }
        return out;
    }

    /** The layouts the model hands to a GEMM: row-major, column-major, a block of rows, a block of columns. */
    private static INDArray layout(int kind, DataType type, Random rnd, long rows, long cols) {
        return switch (kind) {
            case 0 -> random(type, rnd, 'c', rows, cols);
            case 1 -> random(type, rnd, 'f', rows, cols);
            case 2 -> random(type, rnd, 'c', rows + 9, cols).get(NDArrayIndex.interval(5, 5 + rows), NDArrayIndex.all());
            default -> random(type, rnd, 'c', rows, cols + 7).get(NDArrayIndex.all(), NDArrayIndex.interval(3, 3 + cols));
        };
    }

    @Test
    void everyTransposeLayoutAndBetaMatchesTheNaiveProductInDouble() {
        Random rnd = new Random(11);
        // m = 301: rows split into blocks (edges on multiples of 16, a ragged last block); m = 37, n = 29: one
        // block; m = 17, n = 301: columns split
        for (long[] mn : new long[][]{{301, 29}, {37, 29}, {17, 301}}) {
            long m = mn[0], k = 45, n = mn[1];
            for (boolean ta : new boolean[]{false, true}) {
                for (boolean tb : new boolean[]{false, true}) {
                    for (int la = 0; la < 4; la++) {
                        for (int lb = 0; lb < 4; lb++) {
                            INDArray a = ta ? layout(la, DataType.DOUBLE, rnd, k, m) : layout(la, DataType.DOUBLE, rnd, m, k);
                            INDArray b = tb ? layout(lb, DataType.DOUBLE, rnd, n, k) : layout(lb, DataType.DOUBLE, rnd, k, n);
                            for (double beta : new double[]{0.0, 1.0}) {
                                // c itself a row-major view with a leading dimension larger than its width
                                INDArray c = layout(3, DataType.DOUBLE, rnd, m, n);
                                double[][] want = naive(a, b, c.dup(), ta, tb, 0.75, beta);
                                Gemm.gemm(a, b, c, ta, tb, 0.75, beta);
                                for (int r = 0; r < m; r++) {
                                    for (int col = 0; col < n; col++) {
                                        assertEquals(want[r][col], c.getDouble(r, col), 1e-12 * Math.max(1, Math.abs(want[r][col])),
                                                () -> "m=" + m + " ta=" + ta + " tb=" + tb + " layouts " + a.ordering() + "/" + b.ordering());
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void floatResultsAreBitIdenticalToNd4jGemmOnModelShapes() {
        // the claim in Gemm's documentation: splitting rows over threads does not change any element's arithmetic
        // (on the packed path: the small-kernel blocks below sum in another order)
        boolean small = Gemm.SmallKernels.enable(false);
        try {
            bitIdenticalToNd4jGemm();
        } finally {
            Gemm.SmallKernels.enable(small);
        }
    }

    private static void bitIdenticalToNd4jGemm() {
        // measured on OpenBLAS's SkylakeX kernels; with its Haswell kernels (OPENBLAS_CORETYPE=Haswell) its own
        // threaded call sums some elements in another order, so there the results are held to rounding bounds
        boolean exact = avx512(Gemm.SmallKernels.coreName());
        Random rnd = new Random(3);
        // the last two: one short text (17 tokens) and a LoRA rank-8 product, whose columns are split
        long[][] shapes = {{1024, 768, 768}, {1024, 768, 3072}, {1792, 384, 1536}, {300, 96, 160}, {17, 384, 1536}, {8, 1024, 768}};
        for (long[] s : shapes) {
            for (boolean tb : new boolean[]{false, true}) {
                INDArray x = random(DataType.FLOAT, rnd, 'c', s[0], s[1]);
                INDArray w = tb ? random(DataType.FLOAT, rnd, 'c', s[2], s[1]) : random(DataType.FLOAT, rnd, 'c', s[1], s[2]);
                INDArray ours = Nd4j.create(DataType.FLOAT, s[0], s[2]);
                INDArray theirs = Nd4j.create(DataType.FLOAT, s[0], s[2]);
                Gemm.gemm(x, w, ours, false, tb, 1.0, 0.0);
                Nd4j.gemm(x, w, theirs, false, tb, 1.0, 0.0);
                if (exact) {
                    org.junit.jupiter.api.Assertions.assertArrayEquals(theirs.data().asFloat(), ours.data().asFloat(),
                            () -> "bit for bit " + java.util.Arrays.toString(s));
                } else {
                    assertWithinDotBound(x, w, null, 0, null, ours, false, tb, s);
                }
                // and a weight gradient's shape: dW += dYᵀ · X accumulates into what is there
                INDArray dw = random(DataType.FLOAT, rnd, 'c', s[2], s[1]), dw2 = dw.dup(), dw0 = dw.dup();
                INDArray dy = random(DataType.FLOAT, rnd, 'c', s[0], s[2]);
                Gemm.gemm(dy, x, dw, true, false, 1.0, 1.0);
                Nd4j.gemm(dy, x, dw2, true, false, 1.0, 1.0);
                if (exact) {
                    org.junit.jupiter.api.Assertions.assertArrayEquals(dw2.data().asFloat(), dw.data().asFloat(),
                            () -> "dW bit for bit " + java.util.Arrays.toString(s));
                } else {
                    assertWithinDotBound(dy, x, dw0, 1.0, null, dw, true, false, s);
                }
            }
        }
    }

    /**
     * Products of a few FP32 rows in column blocks narrow enough for OpenBLAS's small-matrix kernels: every element
     * within the worst-case bound of a k-term FP32 dot product in any order, {@code k·2⁻²⁴·Σ|a||b|} (plus the
     * accumulated {@code c}), against FP64 — a misplaced block, a wrong offset or a skipped column is off by O(1).
     * Forced on, so the blocks are exercised on a core without small kernels too (there OpenBLAS packs each block).
     */
    @Test
    void fewRowFloatProductsInSmallKernelBlocksMatchFp64WithinTheDotProductBound() {
        boolean was = Gemm.SmallKernels.enable(true);
        try {
            Random rnd = new Random(17);
            // one short text through MiniLM's and BERT-Base's layers; a LoRA-rank product; 2 and 20 rows (the ends)
            long[][] shapes = {{17, 384, 1536}, {17, 1536, 384}, {17, 768, 3072}, {8, 1024, 768}, {2, 384, 384}, {20, 384, 1200}};
            for (long[] s : shapes) {
                long m = s[0], k = s[1], n = s[2];
                for (boolean ta : new boolean[]{false, true}) {
                    for (boolean tb : new boolean[]{false, true}) {
                        INDArray a = ta ? random(DataType.FLOAT, rnd, 'c', k, m) : random(DataType.FLOAT, rnd, 'c', m, k);
                        INDArray b = tb ? random(DataType.FLOAT, rnd, 'c', n, k) : random(DataType.FLOAT, rnd, 'c', k, n);
                        int width = Gemm.SmallKernels.width(a, b, Nd4j.create(DataType.FLOAT, m, n), ta, tb, m, k);
                        assertEquals(ta && tb, width == 0, () -> "small-kernel blocks for " + java.util.Arrays.toString(s) + " ta=" + ta + " tb=" + tb);
                        for (double beta : new double[]{0.0, 1.0}) {
                            INDArray c = random(DataType.FLOAT, rnd, 'c', m, n), c0 = c.dup();
                            Gemm.gemm(a, b, c, ta, tb, 1.0, beta);
                            assertWithinDotBound(a, b, c0, beta, null, c, ta, tb, s);
                        }
                        if (!ta) {   // a linear layer: the bias filled into C, then accumulated onto
                            INDArray bias = random(DataType.FLOAT, rnd, 'c', 1, n).reshape(n);
                            INDArray y = Nd4j.createUninitialized(DataType.FLOAT, m, n);
                            Gemm.gemmAddRow(a, b, bias, y, false, tb);
                            assertWithinDotBound(a, b, null, 0, bias, y, false, tb, s);
                        }
                    }
                }
            }
        } finally {
            Gemm.SmallKernels.enable(was);
        }
    }

    /** The path switches itself on from OpenBLAS's own report of its core; a broken lookup would silently turn it off. */
    @Test
    void smallKernelsFollowTheCoreOpenBlasReports() {
        String core = Gemm.SmallKernels.coreName();
        assertTrue(!core.isBlank(), "openblas_get_corename() found and answered");
        if (System.getProperty("finsent.smallGemm") == null) {
            assertEquals(avx512(core), Gemm.SmallKernels.AVAILABLE, () -> "core " + core);
        }
    }

    private static boolean avx512(String core) {
        String lower = core.toLowerCase(java.util.Locale.ROOT);
        return lower.contains("skylakex") || lower.contains("cooperlake") || lower.contains("sapphirerapids");
    }

    private static void assertWithinDotBound(INDArray a, INDArray b, INDArray c0, double beta, INDArray bias, INDArray got,
                                             boolean ta, boolean tb, long[] s) {
        double[][] da = (ta ? a.transpose() : a).toDoubleMatrix(), db = (tb ? b.transpose() : b).toDoubleMatrix();
        double[][] dc = got.toDoubleMatrix(), d0 = c0 == null ? null : c0.toDoubleMatrix();
        double[] dbias = bias == null ? null : bias.toDoubleVector();
        int m = da.length, k = db.length, n = db[0].length;
        double u = Math.scalb(1.0, -24);
        for (int r = 0; r < m; r++) {
            for (int col = 0; col < n; col++) {
                double exact = 0, abs = 0;
                for (int x = 0; x < k; x++) {
                    exact += da[r][x] * db[x][col];
                    abs += Math.abs(da[r][x] * db[x][col]);
                }
                double add = (d0 == null ? 0 : beta * d0[r][col]) + (dbias == null ? 0 : dbias[col]);
                double bound = (k + 2) * u * (abs + Math.abs(add)) + u * Math.abs(exact + add);
                int rr = r, cc = col;
                assertEquals(exact + add, dc[r][col], bound, () -> java.util.Arrays.toString(s) + " ta=" + ta + " tb=" + tb
                        + " beta=" + beta + " bias=" + (dbias != null) + " at " + rr + "," + cc);
            }
        }
    }

    @Test
    void gemmAddRowAddsTheRowToEveryRowOfTheProduct() {
        Random rnd = new Random(13);
        for (DataType type : new DataType[]{DataType.DOUBLE, DataType.FLOAT}) {
            for (long[] mn : new long[][]{{301, 29}, {37, 29}, {17, 301}}) {   // rows split, one block, columns split
                long m = mn[0];
                int n = (int) mn[1];
                for (boolean tb : new boolean[]{false, true}) {
                    INDArray x = random(type, rnd, 'c', m, 45);
                    INDArray w = tb ? random(type, rnd, 'c', n, 45) : random(type, rnd, 'c', 45, n);
                    INDArray bias = random(type, rnd, 'c', 1, n).reshape(n);
                    INDArray zero = Nd4j.zeros(DataType.DOUBLE, m, n);
                    double[][] want = naive(x.castTo(DataType.DOUBLE), w.castTo(DataType.DOUBLE), zero, false, tb, 1.0, 0.0);
                    // dense output: the fill-then-accumulate path; a strided view: the add-afterwards fallback
                    for (INDArray y : new INDArray[]{Nd4j.createUninitialized(type, m, n), layout(3, type, rnd, m, n)}) {
                        Gemm.gemmAddRow(x, w, bias, y, false, tb);
                        double tol = type == DataType.DOUBLE ? 1e-12 : 2e-5;
                        for (int r = 0; r < m; r++) {
                            for (int c = 0; c < n; c++) {
                                double e = want[r][c] + bias.getDouble(c);
                                assertEquals(e, y.getDouble(r, c), tol * Math.max(1, Math.abs(e)), type + " m=" + m + " tb=" + tb);
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void openBlasThreadCountIsRestoredAfterACall() {
        int before = openblas_nolapack.blas_get_num_threads();
        Random rnd = new Random(5);
        Gemm.gemm(random(DataType.FLOAT, rnd, 'c', 512, 64), random(DataType.FLOAT, rnd, 'c', 64, 64),
                Nd4j.create(DataType.FLOAT, 512, 64), false, false, 1.0, 0.0);
        assertEquals(before, openblas_nolapack.blas_get_num_threads());
    }

    @Test
    void mismatchedShapesAreRejected() {
        INDArray a = Nd4j.create(DataType.FLOAT, 4, 5), b = Nd4j.create(DataType.FLOAT, 6, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Gemm.gemm(a, b, Nd4j.create(DataType.FLOAT, 4, 3), false, false, 1.0, 0.0));
        assertTrue(e.getMessage().contains("[4, 5]"), e.getMessage());
    }

    @Test
    void parallelForRunsEveryIndexOnceAndRethrowsTheFirstFailure() {
        for (int count : new int[]{1, 2, 3, 1000}) {
            AtomicIntegerArray seen = new AtomicIntegerArray(count);
            HostThreads.parallelFor(count, i -> {
                seen.incrementAndGet(i);
                // a nested call (a kernel inside a kernel) runs on its caller rather than deadlocking
                HostThreads.parallelFor(3, j -> { });
            });
            for (int i = 0; i < count; i++) assertEquals(1, seen.get(i), "index " + i + " of " + count);
        }
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> HostThreads.parallelFor(100, i -> {
            if (i == 57) throw new IllegalStateException("index 57");
        }));
        assertEquals("index 57", e.getMessage());
        // and the pool still works afterwards
        AtomicIntegerArray after = new AtomicIntegerArray(10);
        HostThreads.parallelFor(10, after::incrementAndGet);
        for (int i = 0; i < 10; i++) assertEquals(1, after.get(i));
    }
}
