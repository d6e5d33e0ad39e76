package org.finsent.core.nn;

import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.global.openblas_nolapack;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;

/**
 * Batched matrix products for attention: {@code C[i] = alpha · op(A[i]) · op(B[i])} over the leading dimensions of
 * two arrays of equal rank (≥ 3) and equal batch shape (no broadcasting), e.g. {@code [B,H,T,D] · [B,H,D,T]}.
 *
 * <p>Why not just {@code Nd4j.matmul}: in ND4J 1.0.0-M2.1 a rank-4 {@code matmul} runs libnd4j's own loop over the
 * batch at about a third of BLAS speed on attention's shapes (8·12 products of 128×128×64), and the
 * {@code batched_gemm} op's Java wrapper is broken (it omits the alpha/beta inputs). On the CPU backend this class
 * therefore calls OpenBLAS's {@code cblas_?gemm} once per matrix, straight on the arrays' memory (the OpenBLAS that
 * ND4J itself links; results are bit-identical to {@code Nd4j.matmul}, which ends in the same kernels), reading
 * strided views in place through BLAS's leading dimensions. Anywhere else — the CUDA backend, half precision,
 * layouts BLAS cannot read — it is {@code Nd4j.matmul}, so the hot path keeps running on every ND4J backend.
 */
public final class BatchedMatmul {
    private BatchedMatmul() {
    }

    /**
     * Whether products take the direct BLAS path: {@link FastPaths#enabled()} (false on CUDA, when OpenBLAS is
     * absent or with {@code -Dfinsent.fastPaths=false}).
     */
    public static boolean directBlas() {
        return FastPaths.enabled();
    }

    /** {@code op(a) · op(b)} per batch element; {@code op} transposes the last two dimensions when its flag is set. */
    public static INDArray matmul(INDArray a, INDArray b, boolean transA, boolean transB) {
        return matmul(a, b, transA, transB, 1.0);
    }

    /** {@code alpha · op(a) · op(b)} per batch element (a scale folded into the GEMM costs no extra pass). */
    public static INDArray matmul(INDArray a, INDArray b, boolean transA, boolean transB, double alpha) {
        return matmul(a, b, transA, transB, alpha, null);
    }

    /**
     * {@code alpha · op(a) · op(b)} per batch element, written into {@code out} when it is not null (any strides
     * whose last dimension is unit-stride, e.g. the {@code [B,H,T,D]} permuted view of a {@code [B,T,H,D]} buffer,
     * so that merging heads afterwards is a free reshape) and returned. Inputs may be strided views too (split heads
     * are {@code [B,T,H,D]} rows seen as {@code [B,H,T,D]}): the direct path reads each matrix in place through its
     * leading dimension, without copying.
     */
    public static INDArray matmul(INDArray a, INDArray b, boolean transA, boolean transB, double alpha, INDArray out) {
        int r = a.rank();
        if (r < 3 || b.rank() != r) {
            throw new IllegalArgumentException("batched matmul needs two arrays of equal rank >= 3, got "
                    + Arrays.toString(a.shape()) + " and " + Arrays.toString(b.shape()));
        }
        long m = transA ? a.size(r - 1) : a.size(r - 2), k = transA ? a.size(r - 2) : a.size(r - 1);
        long kb = transB ? b.size(r - 1) : b.size(r - 2), n = transB ? b.size(r - 2) : b.size(r - 1);
        long[] batchShape = Arrays.copyOf(a.shape(), r - 2);
        if (k != kb || !Arrays.equals(batchShape, Arrays.copyOf(b.shape(), r - 2))) {
            throw new IllegalArgumentException("batched matmul shape mismatch: " + Arrays.toString(a.shape())
                    + (transA ? "ᵀ" : "") + " · " + Arrays.toString(b.shape()) + (transB ? "ᵀ" : ""));
        }
        long[] outShape = Arrays.copyOf(batchShape, r);
        outShape[r - 2] = m;
        outShape[r - 1] = n;
        if (out != null && !Arrays.equals(out.shape(), outShape)) {
            throw new IllegalArgumentException("batched matmul output " + Arrays.toString(out.shape()) + " should be "
                    + Arrays.toString(outShape));
        }
        if (!Direct.usable(a, b, out)) {
            INDArray c = Nd4j.matmul(a, b, null, transA, transB, false);
            if (alpha != 1.0) c.muli(alpha);
            return out == null ? c : out.assign(c);
        }
        // beta = 0: BLAS never reads C, so the output need not be zero-filled
        INDArray c = out != null ? out : Nd4j.createUninitialized(a.dataType(), outShape, 'c');
        Direct.gemms(a, b, c, transA, transB, alpha, (int) m, (int) n, (int) k);
        return c;
    }

    /**
     * The OpenBLAS path; its own class so that OpenBLAS is only touched where {@link FastPaths} found it (which
     * probes it once and catches its absence).
     */
    static final class Direct {
        static boolean usable(INDArray a, INDArray b, INDArray out) {
            DataType t = a.dataType();
            return FastPaths.enabled() && (t == DataType.FLOAT || t == DataType.DOUBLE) && b.dataType() == t
                    && a.length() > 0 && b.length() > 0 && layout(a) != null && layout(b) != null
                    && (out == null || out.dataType() == t && layout(out) == Boolean.FALSE);
        }

        /**
         * How BLAS can read the matrices (last two dimensions) of {@code x} in place: FALSE for row-major (unit
         * stride along columns, leading dimension = the row stride), TRUE for column-major (read as the row-major
         * transpose), null when neither (the caller falls back). Strides of size-1 dimensions do not matter.
         */
        static Boolean layout(INDArray x) {
            int r = x.rank();
            long rows = x.size(r - 2), cols = x.size(r - 1), sr = x.stride(r - 2), sc = x.stride(r - 1);
            for (int i = 0; i < r - 2; i++) if (x.size(i) > 1 && x.stride(i) < 0) return null;
            if ((cols == 1 || sc == 1) && (rows == 1 || sr >= cols) && sr < Integer.MAX_VALUE) return Boolean.FALSE;
            if ((rows == 1 || sr == 1) && (cols == 1 || sc >= rows) && sc < Integer.MAX_VALUE) return Boolean.TRUE;
            return null;
        }

        static int ld(INDArray x, boolean colMajor) {
            int r = x.rank();
            long ld = colMajor ? (x.size(r - 1) == 1 ? x.size(r - 2) : x.stride(r - 1))
                    : (x.size(r - 2) == 1 ? x.size(r - 1) : x.stride(r - 2));
            return (int) Math.max(1, ld);
        }

        /** Element offset of batch element {@code i} (row-major over the batch dimensions) from the first element. */
        private static long offset(INDArray x, long i) {
            long off = 0;
            for (int d = x.rank() - 3; d >= 0; d--) {
                long size = x.size(d);
                off += (i % size) * x.stride(d);
                i /= size;
            }
            return off;
        }

        /**
         * Runs the batch's products. Attention's matrices are small (BERT-Base: 128×128×64, 2 MFLOP each) and
         * OpenBLAS splits each one over its threads, synchronising them per call: measured (async-profiler, wall
         * clock) the calling thread spent two thirds of these products spinning in OpenBLAS's {@code sched_yield}.
         * So the matrices are shared out over {@link HostThreads} instead, each product single-threaded (OpenBLAS
         * is set to one thread for the call; each product's arithmetic is unchanged, so is the result).
         */
        static void gemms(INDArray a, INDArray b, INDArray c, boolean ta, boolean tb, double alpha, int m, int n, int k) {
            long batch = c.length() / ((long) m * n);
            int threads = HostThreads.threads();
            if (threads <= 1 || batch < 2L * threads || batch > Integer.MAX_VALUE) {
                gemms(a, b, c, ta, tb, alpha, m, n, k, 0, batch);
                return;
            }
            int chunks = (int) Math.min(batch, 4L * threads);   // a few per thread: balance at little hand-off cost
            Gemm.singleThreadedBlas(() -> HostThreads.parallelFor(chunks, ch -> gemms(a, b, c, ta, tb, alpha, m, n, k,
                    batch * ch / chunks, batch * (ch + 1) / chunks)));
        }

        /** Products {@code from} (inclusive) to {@code to} (exclusive) of the batch, on the calling thread. */
        static void gemms(INDArray a, INDArray b, INDArray c, boolean ta, boolean tb, double alpha,
                                  int m, int n, int k, long from, long to) {
            boolean colA = layout(a), colB = layout(b);
            int lda = ld(a, colA), ldb = ld(b, colB), ldc = ld(c, false);
            // a column-major operand is its transpose in row-major: flip its flag instead of copying it
            int opA = ta != colA ? openblas_nolapack.CblasTrans : openblas_nolapack.CblasNoTrans;
            int opB = tb != colB ? openblas_nolapack.CblasTrans : openblas_nolapack.CblasNoTrans;
            int order = openblas_nolapack.CblasRowMajor;
            // addressPointer() already points at a view's first element; position() then steps in elements
            // (each caller its own pointer objects: position() is state)
            if (a.dataType() == DataType.FLOAT) {
                FloatPointer pa = new FloatPointer(a.data().addressPointer());
                FloatPointer pb = new FloatPointer(b.data().addressPointer());
                FloatPointer pc = new FloatPointer(c.data().addressPointer());
                long oa = pa.position(), ob = pb.position(), oc = pc.position();
                for (long i = from; i < to; i++) {
                    openblas_nolapack.cblas_sgemm(order, opA, opB, m, n, k, (float) alpha, pa.position(oa + offset(a, i)),
                            lda, pb.position(ob + offset(b, i)), ldb, 0f, pc.position(oc + offset(c, i)), ldc);
                }
            } else {
                DoublePointer pa = new DoublePointer(a.data().addressPointer());
                DoublePointer pb = new DoublePointer(b.data().addressPointer());
                DoublePointer pc = new DoublePointer(c.data().addressPointer());
                long oa = pa.position(), ob = pb.position(), oc = pc.position();
                for (long i = from; i < to; i++) {
                    openblas_nolapack.cblas_dgemm(order, opA, opB, m, n, k, alpha, pa.position(oa + offset(a, i)),
                            lda, pb.position(ob + offset(b, i)), ldb, 0.0, pc.position(oc + offset(c, i)), ldc);
                }
            }
        }
    }
}
