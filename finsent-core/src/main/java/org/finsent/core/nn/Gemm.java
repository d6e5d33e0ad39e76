package org.finsent.core.nn;

import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.global.openblas_nolapack;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@code c = alpha · op(a) · op(b) + beta · c} for 2-D arrays — {@link Nd4j#gemm(INDArray, INDArray, INDArray,
 * boolean, boolean, double, double)}'s contract, used by every layer's products.
 *
 * <p>On the CPU backend the rows of {@code c} (its columns when it has too few rows) are split over
 * {@link HostThreads} and each block is one
 * single-threaded {@code cblas_?gemm} call of the OpenBLAS ND4J links, instead of one call that OpenBLAS splits over
 * its own threads. Measured on BERT-Base shapes (2 threads): the same GEMM speed or a few percent more, bit-identical
 * results (each element's sum runs in the same order either way), and no second thread pool: OpenBLAS's workers spin
 * in {@code sched_yield} between calls and then compete for the cores with the element-wise kernels that run between
 * the GEMMs. OpenBLAS is set to one thread for the duration of each call and restored after it. Anywhere else (CUDA
 * backend, half precision, layouts BLAS cannot read in place) it is {@code Nd4j.gemm}.
 */
public final class Gemm {
    /** Rows of {@code c} below which a product is not split (the split's hand-off would cost more than it saves). */
    static final int MIN_ROWS_PER_THREAD = 64;

    private Gemm() {
    }

    /** {@code c = alpha · op(a) · op(b) + beta · c}; returns {@code c}. */
    public static INDArray gemm(INDArray a, INDArray b, INDArray c, boolean transA, boolean transB, double alpha,
                                double beta) {
        if (!usable(a, b, c)) return Nd4j.gemm(a, b, c, transA, transB, alpha, beta);
        if (checkShapes(a, b, c, transA, transB) == 0) return Nd4j.gemm(a, b, c, transA, transB, alpha, beta);
        run(a, b, c, transA, transB, alpha, beta, null);
        return c;
    }

    /**
     * {@code c = op(a) · op(b) + row} with {@code row} (a bias, length {@code c.size(1)}) added to every row of
     * {@code c}: a linear layer's forward. On the CPU path each block's rows are first filled with {@code row} and the
     * GEMM accumulates onto them (beta = 1), which saves the separate broadcast add's pass over {@code c}; the sum is
     * then {@code (row + p₁) + p₂ …} over OpenBLAS's K-blocks instead of {@code (p₁ + p₂ …) + row}, a difference in
     * the last bit of some elements.
     */
    public static INDArray gemmAddRow(INDArray a, INDArray b, INDArray row, INDArray c, boolean transA, boolean transB) {
        long n = c.size(1);
        boolean fill = usable(a, b, c) && row.dataType() == c.dataType() && row.length() == n
                && c.stride(0) == n && HostKernels.dense(row) && checkShapes(a, b, c, transA, transB) > 0;
        if (!fill) return gemm(a, b, c, transA, transB, 1.0, 0.0).addiRowVector(row);
        run(a, b, c, transA, transB, 1.0, 1.0, row);
        return c;
    }

    /** Throws unless {@code op(a) · op(b)} fits {@code c}; returns the inner dimension k. */
    private static long checkShapes(INDArray a, INDArray b, INDArray c, boolean transA, boolean transB) {
        long k = transA ? a.size(0) : a.size(1);
        long ma = transA ? a.size(1) : a.size(0), kb = transB ? b.size(1) : b.size(0), nb = transB ? b.size(0) : b.size(1);
        if (ma != c.size(0) || kb != k || nb != c.size(1)) {
            throw new IllegalArgumentException("gemm shape mismatch: " + java.util.Arrays.toString(a.shape())
                    + (transA ? "ᵀ" : "") + " · " + java.util.Arrays.toString(b.shape()) + (transB ? "ᵀ" : "")
                    + " → " + java.util.Arrays.toString(c.shape()));
        }
        return k;
    }

    private static void run(INDArray a, INDArray b, INDArray c, boolean transA, boolean transB, double alpha,
                            double beta, INDArray row) {
        long m = c.size(0), n = c.size(1);
        int threads = HostThreads.threads();
        int blocks = (int) Math.max(1, Math.min(threads, m / MIN_ROWS_PER_THREAD));
        // few rows (one short text; LoRA's r-row products): split the columns instead, each thread reading all of A
        // and its share of B — measured on [17, 384]·[384, 1536]: 328 → 157 µs, MiniLM at batch 1 14.5 → 9.5 ms
        int colBlocks = blocks > 1 ? 1 : (int) Math.max(1, Math.min(threads, n / MIN_ROWS_PER_THREAD));
        singleThreadedBlas(() -> {
            if (blocks > 1) {
                HostThreads.parallelFor(blocks, i -> block(a, b, c, transA, transB, alpha, beta, row,
                        edge(m, blocks, i), edge(m, blocks, i + 1), 0, n));
            } else if (colBlocks > 1) {
                if (row != null) fillRows(c, row, 0, m);
                HostThreads.parallelFor(colBlocks, j -> block(a, b, c, transA, transB, alpha, beta, null, 0, m,
                        edge(n, colBlocks, j), edge(n, colBlocks, j + 1)));
            } else {
                block(a, b, c, transA, transB, alpha, beta, row, 0, m, 0, n);
            }
        });
    }

    /** Rows {@code from..to} of the dense {@code c} set to {@code row}, through bulk buffer copies (no JNI). */
    private static void fillRows(INDArray c, INDArray row, long from, long to) {
        int n = (int) c.size(1);
        if (c.dataType() == DataType.FLOAT) {
            float[] r = row.toFloatVector();
            java.nio.FloatBuffer buf = HostKernels.floats(c);
            for (long i = from; i < to; i++) buf.put((int) (i * n), r);
        } else {
            double[] r = row.toDoubleVector();
            java.nio.DoubleBuffer buf = HostKernels.doubles(c);
            for (long i = from; i < to; i++) buf.put((int) (i * n), r);
        }
    }

    /**
     * Runs {@code body} with OpenBLAS set to one thread, then restores the thread count OpenBLAS had when this class
     * loaded. Through the function pointer itself: the presets' {@code blas_set_num_threads} looks the symbol up
     * (file checks, regular expressions) on every call, which cost more than the GEMMs' hand-off saved.
     */
    static void singleThreadedBlas(Runnable body) {
        if (Blas.THREADS <= 1) {
            body.run();
            return;
        }
        Blas.SET.call(1);
        try {
            body.run();
        } finally {
            Blas.SET.call(Blas.THREADS);
        }
    }

    /** OpenBLAS's {@code openblas_set_num_threads}, resolved once, and its thread count at start-up. */
    private static final class Blas {
        static final int THREADS = openblas_nolapack.blas_get_num_threads();
        // the presets' own wrapper type; its no-argument constructor (which allocates the native holder) is
        // protected, hence the empty subclass
        static final org.bytedeco.openblas.presets.openblas_nolapack.SetNumThreads SET =
                new org.bytedeco.openblas.presets.openblas_nolapack.SetNumThreads() {
                }.put(org.bytedeco.javacpp.Loader.addressof("openblas_set_num_threads"));
    }

    /** {@code op(a) · op(b)} into a new row-major array. */
    public static INDArray gemm(INDArray a, INDArray b, boolean transA, boolean transB) {
        long m = transA ? a.size(1) : a.size(0), n = transB ? b.size(0) : b.size(1);
        return gemm(a, b, Nd4j.createUninitialized(a.dataType(), m, n), transA, transB, 1.0, 0.0);
    }

    /** Block {@code i}'s first row (or column): edges on multiples of 16 (whole micro-kernel panels). */
    private static long edge(long m, int blocks, int i) {
        return i == blocks ? m : Math.min(m, (m * i / blocks + 15) / 16 * 16);
    }

    static boolean usable(INDArray a, INDArray b, INDArray c) {
        DataType t = c.dataType();
        return BatchedMatmul.directBlas() && (t == DataType.FLOAT || t == DataType.DOUBLE)
                && a.dataType() == t && b.dataType() == t && a.rank() == 2 && b.rank() == 2 && c.rank() == 2
                && c.length() > 0 && BatchedMatmul.Direct.layout(a) != null && BatchedMatmul.Direct.layout(b) != null
                && BatchedMatmul.Direct.layout(c) == Boolean.FALSE;
    }

    /**
     * The block rows {@code from..to} × columns {@code c0..c1} of {@code c}, one BLAS call on the calling thread
     * (each element's sum runs over the whole inner dimension in the same order whatever the block).
     */
    private static void block(INDArray a, INDArray b, INDArray c, boolean ta, boolean tb, double alpha, double beta,
                              INDArray row, long from, long to, long c0, long c1) {
        if (to <= from || c1 <= c0) return;
        if (row != null) fillRows(c, row, from, to);
        boolean colA = BatchedMatmul.Direct.layout(a), colB = BatchedMatmul.Direct.layout(b);
        int lda = BatchedMatmul.Direct.ld(a, colA), ldb = BatchedMatmul.Direct.ld(b, colB);
        int ldc = BatchedMatmul.Direct.ld(c, false);
        // a column-major operand is its transpose in row-major: flip its flag instead of copying it
        boolean opA = ta != colA, opB = tb != colB;
        // row r of op(a) starts at r·lda when op(a) is a read row-major, at r when it is read transposed; column j
        // of op(b) at j when read row-major, at j·ldb when read transposed
        long offA = opA ? from : from * lda, offB = opB ? c0 * ldb : c0, offC = from * ldc + c0;
        int m = (int) (to - from), n = (int) (c1 - c0), k = (int) (ta ? a.size(0) : a.size(1));
        int order = openblas_nolapack.CblasRowMajor;
        int tA = opA ? openblas_nolapack.CblasTrans : openblas_nolapack.CblasNoTrans;
        int tB = opB ? openblas_nolapack.CblasTrans : openblas_nolapack.CblasNoTrans;
        if (c.dataType() == DataType.FLOAT) {
            FloatPointer pa = new FloatPointer(a.data().addressPointer()), pb = new FloatPointer(b.data().addressPointer());
            FloatPointer pc = new FloatPointer(c.data().addressPointer());
            openblas_nolapack.cblas_sgemm(order, tA, tB, m, n, k, (float) alpha, pa.position(pa.position() + offA),
                    lda, pb.position(pb.position() + offB), ldb, (float) beta, pc.position(pc.position() + offC), ldc);
        } else {
            DoublePointer pa = new DoublePointer(a.data().addressPointer()), pb = new DoublePointer(b.data().addressPointer());
            DoublePointer pc = new DoublePointer(c.data().addressPointer());
            openblas_nolapack.cblas_dgemm(order, tA, tB, m, n, k, alpha, pa.position(pa.position() + offA),
                    lda, pb.position(pb.position() + offB), ldb, beta, pc.position(pc.position() + offC), ldc);
        }
    }
}
