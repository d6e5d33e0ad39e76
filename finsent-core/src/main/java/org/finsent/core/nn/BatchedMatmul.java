package org.finsent.core.nn;

import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.global.openblas_nolapack;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.Shape;
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
 * ND4J itself links; results are bit-identical to {@code Nd4j.matmul}, which ends in the same kernels). Anywhere
 * else — the CUDA backend, half precision, non-contiguous inputs — it is {@code Nd4j.matmul}, so the hot path
 * keeps running on every ND4J backend.
 */
public final class BatchedMatmul {
    private BatchedMatmul() {
    }

    /** Whether products take the direct BLAS path on this backend (false on CUDA or when OpenBLAS is absent). */
    public static boolean directBlas() {
        return Direct.AVAILABLE;
    }

    /** {@code op(a) · op(b)} per batch element; {@code op} transposes the last two dimensions when its flag is set. */
    public static INDArray matmul(INDArray a, INDArray b, boolean transA, boolean transB) {
        return matmul(a, b, transA, transB, 1.0);
    }

    /** {@code alpha · op(a) · op(b)} per batch element (a scale folded into the GEMM costs no extra pass). */
    public static INDArray matmul(INDArray a, INDArray b, boolean transA, boolean transB, double alpha) {
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
        if (!Direct.usable(a, b)) {
            INDArray c = Nd4j.matmul(a, b, null, transA, transB, false);
            return alpha == 1.0 ? c : c.muli(alpha);
        }
        long[] outShape = Arrays.copyOf(batchShape, r);
        outShape[r - 2] = m;
        outShape[r - 1] = n;
        // beta = 0: BLAS never reads C, so the output need not be zero-filled
        INDArray c = Nd4j.createUninitialized(a.dataType(), outShape, 'c');
        Direct.gemms(a, b, c, transA, transB, alpha, (int) m, (int) n, (int) k);
        return c;
    }

    /** The OpenBLAS path; its own class so that OpenBLAS is only loaded where ND4J runs on the CPU. */
    private static final class Direct {
        static final boolean AVAILABLE = probe();

        private static boolean probe() {
            try {
                if (!Nd4j.getEnvironment().isCPU()) return false;
                openblas_nolapack.blas_get_num_threads();   // loads the same libopenblas ND4J's CPU backend links
                return true;
            } catch (Throwable e) {   // NoClassDefFoundError / UnsatisfiedLinkError: use Nd4j.matmul
                return false;
            }
        }

        static boolean usable(INDArray a, INDArray b) {
            DataType t = a.dataType();
            return AVAILABLE && (t == DataType.FLOAT || t == DataType.DOUBLE) && b.dataType() == t
                    && contiguous(a) && contiguous(b) && a.length() > 0 && b.length() > 0;
        }

        private static boolean contiguous(INDArray x) {
            return x.ordering() == 'c' && Shape.hasDefaultStridesForShape(x);
        }

        static void gemms(INDArray a, INDArray b, INDArray c, boolean ta, boolean tb, double alpha, int m, int n, int k) {
            int r = a.rank();
            long batch = c.length() / ((long) m * n);
            long sa = a.size(r - 2) * a.size(r - 1), sb = b.size(r - 2) * b.size(r - 1), sc = (long) m * n;
            int lda = (int) a.size(r - 1), ldb = (int) b.size(r - 1), ldc = n;
            int opA = ta ? openblas_nolapack.CblasTrans : openblas_nolapack.CblasNoTrans;
            int opB = tb ? openblas_nolapack.CblasTrans : openblas_nolapack.CblasNoTrans;
            int order = openblas_nolapack.CblasRowMajor;
            // addressPointer() already points at a view's first element; position() then steps in elements
            if (a.dataType() == DataType.FLOAT) {
                FloatPointer pa = new FloatPointer(a.data().addressPointer());
                FloatPointer pb = new FloatPointer(b.data().addressPointer());
                FloatPointer pc = new FloatPointer(c.data().addressPointer());
                long oa = pa.position(), ob = pb.position(), oc = pc.position();
                for (long i = 0; i < batch; i++) {
                    openblas_nolapack.cblas_sgemm(order, opA, opB, m, n, k, (float) alpha, pa.position(oa + i * sa),
                            lda, pb.position(ob + i * sb), ldb, 0f, pc.position(oc + i * sc), ldc);
                }
            } else {
                DoublePointer pa = new DoublePointer(a.data().addressPointer());
                DoublePointer pb = new DoublePointer(b.data().addressPointer());
                DoublePointer pc = new DoublePointer(c.data().addressPointer());
                long oa = pa.position(), ob = pb.position(), oc = pc.position();
                for (long i = 0; i < batch; i++) {
                    openblas_nolapack.cblas_dgemm(order, opA, opB, m, n, k, alpha, pa.position(oa + i * sa),
                            lda, pb.position(ob + i * sb), ldb, 0.0, pc.position(oc + i * sc), ldc);
                }
            }
        }
    }
}
