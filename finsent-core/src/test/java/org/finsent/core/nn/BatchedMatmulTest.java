package org.finsent.core.nn;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link BatchedMatmul} against a naive triple loop in plain Java (FP64 accumulation). */
class BatchedMatmulTest {

    /** Naive {@code alpha · op(a[i]) · op(b[i])} for rank-4 inputs, read element by element through getDouble. */
    private static double[] naive(INDArray a, INDArray b, boolean ta, boolean tb, double alpha) {
        long b0 = a.size(0), b1 = a.size(1);
        long m = ta ? a.size(3) : a.size(2), k = ta ? a.size(2) : a.size(3), n = tb ? b.size(2) : b.size(3);
        double[] out = new double[(int) (b0 * b1 * m * n)];
        int o = 0;
        for (long i = 0; i < b0; i++) {
            for (long j = 0; j < b1; j++) {
                for (long r = 0; r < m; r++) {
                    for (long c = 0; c < n; c++) {
                        double s = 0;
                        for (long x = 0; x < k; x++) {
                            double av = ta ? a.getDouble(i, j, x, r) : a.getDouble(i, j, r, x);
                            double bv = tb ? b.getDouble(i, j, c, x) : b.getDouble(i, j, x, c);
                            s += av * bv;
                        }
                        out[o++] = alpha * s;
                    }
                }
            }
        }
        return out;
    }

    private static INDArray random(DataType type, Random rnd, long... shape) {
        long n = 1;
        for (long s : shape) n *= s;
        double[] v = new double[(int) n];
        for (int i = 0; i < v.length; i++) v[i] = rnd.nextGaussian();
        return Nd4j.create(v, shape, type);
    }

    @Test
    void theDirectBlasPathIsTakenOnTheCpuBackend() {
        // if this fails the fast path silently fell back to Nd4j.matmul (OpenBLAS not loadable)
        assertTrue(BatchedMatmul.directBlas());
    }

    @Test
    void everyTransposeCombinationMatchesTheNaiveProductInDouble() {
        Random rnd = new Random(7);
        for (boolean ta : new boolean[]{false, true}) {
            for (boolean tb : new boolean[]{false, true}) {
                // m=5, k=3, n=4 over a [2,3] batch; non-square so a wrong lda/ldb or flag cannot pass
                INDArray a = ta ? random(DataType.DOUBLE, rnd, 2, 3, 3, 5) : random(DataType.DOUBLE, rnd, 2, 3, 5, 3);
                INDArray b = tb ? random(DataType.DOUBLE, rnd, 2, 3, 4, 3) : random(DataType.DOUBLE, rnd, 2, 3, 3, 4);
                INDArray c = BatchedMatmul.matmul(a, b, ta, tb, 0.125);
                assertArrayEquals(new long[]{2, 3, 5, 4}, c.shape());
                assertArrayEquals(naive(a, b, ta, tb, 0.125), c.dup().data().asDouble(), 1e-13, "ta=" + ta + " tb=" + tb);
            }
        }
    }

    @Test
    void floatResultsEqualNd4jMatmulBitForBit() {
        Random rnd = new Random(11);
        INDArray q = random(DataType.FLOAT, rnd, 2, 4, 9, 8), k = random(DataType.FLOAT, rnd, 2, 4, 7, 8);
        INDArray s = BatchedMatmul.matmul(q, k, false, true);
        INDArray ref = Nd4j.matmul(q, k, null, false, true, false);
        assertArrayEquals(ref.data().asFloat(), s.data().asFloat(), 0f);
        assertArrayEquals(naive(q, k, false, true, 1), s.data().asDouble(), 1e-4);
    }

    @Test
    void viewsWithAnOffsetAreReadFromTheirFirstElement() {
        Random rnd = new Random(3);
        INDArray bigA = random(DataType.DOUBLE, rnd, 5, 2, 4, 3), bigB = random(DataType.DOUBLE, rnd, 5, 2, 3, 6);
        // a contiguous slab starting at example 2: a view with a non-zero offset
        INDArray a = bigA.get(NDArrayIndex.interval(2, 4), NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all());
        INDArray b = bigB.get(NDArrayIndex.interval(1, 3), NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all());
        assertTrue(a.isView() && a.offset() > 0);
        INDArray c = BatchedMatmul.matmul(a, b, false, false);
        assertArrayEquals(naive(a, b, false, false, 1), c.dup().data().asDouble(), 1e-13);
    }

    @Test
    void headViewsAreReadInPlaceForEveryTransposeCombination() {
        Random rnd = new Random(5);
        for (boolean ta : new boolean[]{false, true}) {
            for (boolean tb : new boolean[]{false, true}) {
                // [B·T, H·D] rows seen as [B,H,T,D] (leading dimension H·D), as Attention.splitHeads returns them
                INDArray a = Attention.splitHeads(random(DataType.DOUBLE, rnd, 2 * 5, 3 * 4), 2, 5, 3);   // [2,3,5,4]
                INDArray b = Attention.splitHeads(random(DataType.DOUBLE, rnd, 2 * (ta ? 5 : 4), 3 * (tb ? 4 : 6)),
                        2, ta ? 5 : 4, 3);
                if (tb) b = Attention.splitHeads(random(DataType.DOUBLE, rnd, 2 * 6, 3 * (ta ? 5 : 4)), 2, 6, 3);
                assertTrue(BatchedMatmul.Direct.layout(a) == Boolean.FALSE && BatchedMatmul.Direct.layout(b) == Boolean.FALSE);
                INDArray c = BatchedMatmul.matmul(a, b, ta, tb, 2.0);
                assertArrayEquals(naive(a, b, ta, tb, 2.0), c.dup().data().asDouble(), 1e-13, "ta=" + ta + " tb=" + tb);
            }
        }
    }

    @Test
    void columnMajorOperandsAreReadAsTransposes() {
        Random rnd = new Random(6);
        INDArray a = random(DataType.DOUBLE, rnd, 2, 3, 4, 5).permute(0, 1, 3, 2);   // [2,3,5,4], unit stride down rows
        INDArray b = random(DataType.DOUBLE, rnd, 2, 3, 4, 2);
        assertEquals(Boolean.TRUE, BatchedMatmul.Direct.layout(a));
        for (boolean ta : new boolean[]{false, true}) {
            INDArray bb = ta ? random(DataType.DOUBLE, rnd, 2, 3, 5, 2) : b;
            INDArray c = BatchedMatmul.matmul(a, bb, ta, false, 0.5);
            assertArrayEquals(naive(a, bb, ta, false, 0.5), c.dup().data().asDouble(), 1e-13, "ta=" + ta);
        }
    }

    @Test
    void writesIntoAStridedOutputAndMergingHeadsIsThenFree() {
        Random rnd = new Random(8);
        INDArray q = random(DataType.FLOAT, rnd, 2, 3, 5, 4), v = random(DataType.FLOAT, rnd, 2, 3, 5, 4);
        INDArray p = random(DataType.FLOAT, rnd, 2, 3, 5, 5);
        INDArray buf = Nd4j.zeros(DataType.FLOAT, 2, 5, 3, 4);                       // [B,T,H,D]
        INDArray out = buf.permute(0, 2, 1, 3);                                       // seen as [B,H,T,D]
        INDArray o = BatchedMatmul.matmul(p, v, false, false, 1.0, out);
        assertTrue(o == out);
        assertArrayEquals(Nd4j.matmul(p, v, null, false, false, false).data().asFloat(), o.dup('c').data().asFloat(), 0f);
        INDArray rows = Attention.mergeHeads(o);                                     // [B·T, H·D]
        assertArrayEquals(new long[]{10, 12}, rows.shape());
        assertArrayEquals(buf.data().asFloat(), rows.dup('c').data().asFloat(), 0f);
        rows.putScalar(0, 0, 42f);
        assertEquals(42f, buf.getFloat(0, 0, 0, 0), "mergeHeads of a [B,T,H,D] buffer's view must not copy");
        assertThrows(IllegalArgumentException.class, () -> BatchedMatmul.matmul(p, v, false, false, 1.0, q.reshape(2, 3, 4, 5)));
    }

    @Test
    void layoutsBlasCannotReadFallBackAndStayCorrect() {
        Random rnd = new Random(5);
        // neither dimension of each matrix has unit stride: Nd4j.matmul does it
        INDArray a = random(DataType.DOUBLE, rnd, 2, 5, 3, 4, 2).get(NDArrayIndex.all(), NDArrayIndex.all(),
                NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.point(1)).permute(0, 2, 1, 3);   // [2,3,5,4]
        assertEquals(null, BatchedMatmul.Direct.layout(a));
        INDArray b = random(DataType.DOUBLE, rnd, 2, 3, 4, 2);
        INDArray c = BatchedMatmul.matmul(a, b, false, false, 2.0);
        assertArrayEquals(naive(a, b, false, false, 2.0), c.dup().data().asDouble(), 1e-13);
    }

    @Test
    void rankThreeWorks() {
        Random rnd = new Random(9);
        INDArray a = random(DataType.DOUBLE, rnd, 3, 4, 5), b = random(DataType.DOUBLE, rnd, 3, 6, 5);
        INDArray c = BatchedMatmul.matmul(a, b, false, true);
        INDArray ref = Nd4j.matmul(a, b, null, false, true, false);
        assertArrayEquals(new long[]{3, 4, 6}, c.shape());
        assertArrayEquals(ref.data().asDouble(), c.data().asDouble(), 1e-13);
    }

    @Test
    void mismatchedShapesAreRejectedWithTheShapesInTheMessage() {
        INDArray a = Nd4j.zeros(DataType.DOUBLE, 2, 3, 4, 5), b = Nd4j.zeros(DataType.DOUBLE, 2, 3, 4, 5);
        var e = assertThrows(IllegalArgumentException.class, () -> BatchedMatmul.matmul(a, b, false, false));
        assertTrue(e.getMessage().contains("[2, 3, 4, 5]"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> BatchedMatmul.matmul(a, Nd4j.zeros(DataType.DOUBLE, 3, 3, 5, 4), false, false));
        assertThrows(IllegalArgumentException.class,
                () -> BatchedMatmul.matmul(Nd4j.zeros(DataType.DOUBLE, 4, 5), Nd4j.zeros(DataType.DOUBLE, 5, 4), false, false));
        assertEquals(0, BatchedMatmul.matmul(a, b, false, true).sumNumber().doubleValue());
    }
}
