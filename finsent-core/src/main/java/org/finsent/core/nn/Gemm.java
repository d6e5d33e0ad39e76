package org.finsent.core.nn;

import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.openblas.global.openblas_nolapack;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@code c = alpha · op(a) · op(b) + beta · c} for 2-D arrays — {@link Nd4j#gemm(INDArray, INDArray, INDArray,
 * boolean, boolean, double, double)}'s contract, used by every layer's products.
 *
 * <p>Where {@link FastPaths} allows (CPU backend, OpenBLAS loadable, not switched off) the rows of {@code c} (its
 * columns when it has too few rows) are split over {@link HostThreads} and each block is one single-threaded
 * {@code cblas_?gemm} call of the OpenBLAS ND4J links, instead of one call that OpenBLAS splits over its own threads:
 * the same GEMM speed or a little more, bit-identical results on OpenBLAS's SkylakeX kernels (each element's sum runs
 * in the same order either way; not for FP32 products of a few rows, which {@link SmallKernels} cuts for OpenBLAS's
 * small-matrix kernels; and with its Haswell kernels OpenBLAS's own threaded call sums some elements in another
 * order, so there they agree to rounding only), and no second thread pool: OpenBLAS's workers spin
 * in {@code sched_yield} between calls and then compete for the cores with the element-wise kernels that run between
 * the GEMMs. OpenBLAS is set to one thread for the duration of each call and restored after it. Anywhere else (CUDA
 * backend, fast paths off, half precision, layouts BLAS cannot read in place) it is {@code Nd4j.gemm}.
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

    /**
     * A product on host memory, for a projection's forward on rows kept outside ND4J arrays (a model's single-sequence
     * path): {@code c = alpha · a · op(w) + beta · c}, {@code op(w) = wᵀ} when {@code transW} (Hugging Face's
     * {@code [out, in]} weights; {@code w} itself for GPT-2's Conv1D layout), with {@code a} {@code [m, k]} and
     * {@code c} {@code [m, n]} row-major at the pointers' positions, leading dimensions {@code lda} and {@code ldc}.
     * With {@code bias} (then beta must be 1) every row of c is first set to it, as {@link #gemmAddRow} does. It runs
     * the blocks and BLAS calls {@link #gemm} / {@link #gemmAddRow} run on arrays of that layout, so it gives the
     * same bits. Only where {@link FastPaths} is on (the caller checks).
     */
    public static void productRows(FloatPointer a, int lda, int m, INDArray w, boolean transW, double alpha, double beta,
                                   float[] bias, FloatPointer c, int ldc) {
        if (w.dataType() != DataType.FLOAT || w.rank() != 2 || BatchedMatmul.Direct.layout(w) != Boolean.FALSE) {
            throw new IllegalArgumentException("productRows needs a dense row-major FP32 weight: " + w.shapeInfoToString());
        }
        int k = (int) (transW ? w.size(1) : w.size(0)), n = (int) (transW ? w.size(0) : w.size(1));
        if (bias != null && (bias.length != n || beta != 1.0)) {
            throw new IllegalArgumentException("bias of length " + bias.length + " for " + n + " columns, beta " + beta);
        }
        Product p = new Product(a, lda, false, new FloatPointer(w.data().addressPointer()),
                BatchedMatmul.Direct.ld(w, false), transW, c, ldc, m, n, k, true);
        run(p, alpha, beta, bias);
    }

    /**
     * One product on host memory: row-major {@code c [m, n]} (leading dimension ldc) from {@code op(a) [m, k]} and
     * {@code op(b) [k, n]}; opA/opB say whether BLAS reads the operand transposed (a column-major operand is its
     * transpose in row-major: its flag flipped instead of a copy). The pointers' positions are the first elements.
     */
    private record Product(Pointer a, int lda, boolean opA, Pointer b, int ldb, boolean opB, Pointer c, int ldc,
                           int m, int n, int k, boolean fp32) {
        static Product of(INDArray a, INDArray b, INDArray c, boolean ta, boolean tb) {
            boolean colA = BatchedMatmul.Direct.layout(a), colB = BatchedMatmul.Direct.layout(b);
            boolean fp32 = c.dataType() == DataType.FLOAT;
            return new Product(pointer(a, fp32), BatchedMatmul.Direct.ld(a, colA), ta != colA, pointer(b, fp32),
                    BatchedMatmul.Direct.ld(b, colB), tb != colB, pointer(c, fp32), BatchedMatmul.Direct.ld(c, false),
                    (int) c.size(0), (int) c.size(1), (int) (ta ? a.size(0) : a.size(1)), fp32);
        }

        // addressPointer() already points at a view's first element; its position then steps in elements
        private static Pointer pointer(INDArray x, boolean fp32) {
            return fp32 ? new FloatPointer(x.data().addressPointer()) : new DoublePointer(x.data().addressPointer());
        }
    }

    private static void run(INDArray a, INDArray b, INDArray c, boolean transA, boolean transB, double alpha,
                            double beta, INDArray row) {
        Object values = row == null ? null : c.dataType() == DataType.FLOAT ? HostKernels.vector(row) : row.toDoubleVector();
        run(Product.of(a, b, c, transA, transB), alpha, beta, values);
    }

    /** {@code row}: null, or the float[] / double[] every row of c starts from (then beta is 1). */
    private static void run(Product p, double alpha, double beta, Object row) {
        long m = p.m(), n = p.n();
        int threads = HostThreads.threads();
        int blocks = (int) Math.max(1, Math.min(threads, m / MIN_ROWS_PER_THREAD));
        // few rows (one short text; LoRA's r-row products): split the columns instead, each thread reading all of A
        // and its share of B (a row split would leave all but one thread idle)
        int colBlocks = blocks > 1 ? 1 : (int) Math.max(1, Math.min(threads, n / MIN_ROWS_PER_THREAD));
        int narrow = blocks > 1 ? 0 : SmallKernels.width(p.fp32(), p.opA(), p.opB(), m, p.k(), n);
        singleThreadedBlas(() -> {
            if (narrow > 0) {
                // a few rows: column blocks narrow enough for OpenBLAS's unpacked small-matrix kernels (SmallKernels)
                if (row != null) fillRows(p, row, 0, m);
                // every thread gets blocks, narrower still when the product has fewer blocks than threads
                long w = n >= 32 && (n + narrow - 1) / narrow < threads ? ((n + threads - 1) / threads + 15) / 16 * 16 : narrow;
                int count = (int) ((n + w - 1) / w), parts = Math.min(threads, count);
                HostThreads.parallelFor(parts, j -> {
                    for (int q = count * j / parts; q < count * (j + 1) / parts; q++) {
                        block(p, alpha, beta, null, 0, m, q * w, Math.min(n, (q + 1) * w));
                    }
                });
            } else if (blocks > 1) {
                HostThreads.parallelFor(blocks, i -> block(p, alpha, beta, row, edge(m, blocks, i), edge(m, blocks, i + 1), 0, n));
            } else if (colBlocks > 1) {
                if (row != null) fillRows(p, row, 0, m);
                HostThreads.parallelFor(colBlocks, j -> block(p, alpha, beta, null, 0, m,
                        edge(n, colBlocks, j), edge(n, colBlocks, j + 1)));
            } else {
                block(p, alpha, beta, row, 0, m, 0, n);
            }
        });
    }

    /** Rows {@code from..to} of c set to {@code row}, through bulk buffer copies (no JNI). */
    private static void fillRows(Product p, Object row, long from, long to) {
        int n = p.n();
        if (p.fp32()) {
            float[] r = (float[]) row;
            FloatPointer c = (FloatPointer) p.c();
            java.nio.FloatBuffer buf = new FloatPointer(c).limit(c.position() + (to - 1) * p.ldc() + n).asBuffer();
            for (long i = from; i < to; i++) buf.put((int) (i * p.ldc()), r, 0, n);
        } else {
            double[] r = (double[]) row;
            DoublePointer c = (DoublePointer) p.c();
            java.nio.DoubleBuffer buf = new DoublePointer(c).limit(c.position() + (to - 1) * p.ldc() + n).asBuffer();
            for (long i = from; i < to; i++) buf.put((int) (i * p.ldc()), r, 0, n);
        }
    }

    /**
     * Runs {@code body} with OpenBLAS set to one thread, then restores the count of {@link #blasThreads(int)} (by
     * default the one OpenBLAS had when this class loaded). Through the function pointer itself: the presets'
     * {@code blas_set_num_threads} looks the symbol up (file checks, regular expressions) on every call, which cost
     * more than the GEMMs' hand-off saved.
     */
    static void singleThreadedBlas(Runnable body) {
        int threads = Blas.threads;
        if (threads <= 1) {
            body.run();
            return;
        }
        Blas.SET.call(1);
        try {
            body.run();
        } finally {
            Blas.SET.call(threads);
        }
    }

    /**
     * Sets the threads of the OpenBLAS that FinSent's products call, and the count its single-threaded blocks restore
     * (a Spark executor's task cores, say). Set it before products run in other threads: a block that began earlier
     * restores the count it began with.
     */
    public static void blasThreads(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1: " + threads);
        Blas.threads = threads;
        Blas.SET.call(threads);
    }

    /** The thread count of the OpenBLAS that FinSent's products call, as that library reports it now. */
    public static int blasThreadsInEffect() {
        return Blas.get();
    }

    /**
     * OpenBLAS (0.3.16 on, x86-64 AVX-512 cores: SkylakeX, Cooperlake, SapphireRapids) computes products it deems
     * small with kernels that read A and B in place instead of packing them into panels first. For a few rows (one
     * short text at inference: [17, 384]·[1536, 384]ᵀ) the packing of B is most of the call, so FP32 products of
     * {@value #MAX_ROWS} rows or fewer are cut into column blocks narrow enough to be "small" by OpenBLAS's own rule
     * ({@code sgemm_small_kernel_permit_skylakex.c}, in column-major terms — a row-major call is its transpose:
     * M·N·K ≤ 10⁶; TN (our NT) also M·N ≤ 1200 and K ≥ 32; TT never). Up to about 20 rows that is faster than the
     * packed call (docs/BENCHMARKS.md has the measurements); beyond, the packing pays for itself, hence
     * {@value #MAX_ROWS}. The small kernels sum in another order than the packed ones: last-bit differences from
     * {@code Nd4j.gemm} on these shapes (GemmTest bounds them against FP64). FP64 products keep the packed path.
     * {@code -Dfinsent.smallGemm=false} turns this off; {@code true} forces it on another core (for tests). Either
     * way it only runs where {@link FastPaths} lets the direct BLAS path run.
     */
    static final class SmallKernels {
        static final int MAX_ROWS = 20;
        static final boolean AVAILABLE = enabled();
        private static volatile boolean on = AVAILABLE;

        /** Turns the path on or off (tests: the packed path's bit-identity, the blocks on any core); returns the old state. */
        static boolean enable(boolean enabled) {
            boolean was = on;
            on = enabled;
            return was;
        }

        private static boolean enabled() {
            String forced = System.getProperty("finsent.smallGemm");
            if (forced != null) return Boolean.parseBoolean(forced);
            String core = coreName().toLowerCase(java.util.Locale.ROOT);
            return core.contains("skylakex") || core.contains("cooperlake") || core.contains("sapphirerapids");
        }

        /** OpenBLAS's {@code openblas_get_corename()} (the core its dynamic dispatch chose), or "" when unknown. */
        static String coreName() {
            try {
                org.bytedeco.javacpp.Loader.load(openblas_nolapack.class);   // the symbol is found in loaded libraries only
                org.bytedeco.javacpp.Pointer f = org.bytedeco.javacpp.Loader.addressof("openblas_get_corename");
                long address = f == null ? 0 : f.address();
                if (address == 0) return "";
                return com.sun.jna.Function.getFunction(new com.sun.jna.Pointer(address)).invokeString(new Object[0], false);
            } catch (RuntimeException | LinkageError e) {
                return "";
            }
        }

        /**
         * The column-block width (a multiple of 16 when possible) that keeps each block of this product on the small
         * kernels, or 0 when the product should keep the packed path.
         */
        static int width(INDArray a, INDArray b, INDArray c, boolean ta, boolean tb, long m, long k) {
            return width(c.dataType() == DataType.FLOAT, ta != BatchedMatmul.Direct.layout(a),
                    tb != BatchedMatmul.Direct.layout(b), m, k, c.size(1));
        }

        /** The same for a product described by its BLAS flags ({@code opA}, {@code opB}) and {@code c}'s n columns. */
        static int width(boolean fp32, boolean opA, boolean opB, long m, long k, long n) {
            if (!on || !fp32 || m < 2 || m > MAX_ROWS || k < 1) return 0;
            if (opA && opB) return 0;                       // column-major TT: no small kernel
            long w = 1_000_000L / (m * k);                  // M·N·K ≤ 10⁶
            if (opB && !opA) {                              // column-major TN
                if (k < 32) return 0;
                w = Math.min(w, 1200 / m);
            }
            if (w >= 16) w = w / 16 * 16;                  // whole AVX-512 vectors of C
            return w < 8 ? 0 : (int) Math.min(w, n);
        }
    }

    /**
     * {@code openblas_set_num_threads} and {@code openblas_get_num_threads} of the OpenBLAS that
     * {@code openblas_nolapack}'s products call, resolved once in that library, and the thread count single-threaded
     * blocks restore. ND4J loads a second copy (the presets' {@code openblas}, with LAPACK), and the presets'
     * {@code blas_get_num_threads} reports that copy's count (-1 before ND4J loads), not the products' copy's: read at
     * start-up, it is not the count to restore.
     */
    private static final class Blas {
        private static final com.sun.jna.NativeLibrary LIB = library();
        // the presets' own wrapper type; its no-argument constructor (which allocates the native holder) is
        // protected, hence the empty subclass
        static final org.bytedeco.openblas.presets.openblas_nolapack.SetNumThreads SET =
                new org.bytedeco.openblas.presets.openblas_nolapack.SetNumThreads() {
                }.put(address("openblas_set_num_threads"));
        private static final com.sun.jna.Function GET = LIB == null ? null : LIB.getFunction("openblas_get_num_threads");
        static volatile int threads = get();

        static int get() {
            return GET != null ? GET.invokeInt(new Object[0]) : openblas_nolapack.blas_get_num_threads();
        }

        private static com.sun.jna.NativeLibrary library() {
            org.bytedeco.javacpp.Loader.load(openblas_nolapack.class);
            try {
                for (var e : org.bytedeco.javacpp.Loader.getLoadedLibraries().entrySet()) {
                    if (e.getKey().startsWith("openblas_nolapack") && e.getValue() != null) {
                        return com.sun.jna.NativeLibrary.getInstance(e.getValue());
                    }
                }
            } catch (RuntimeException | LinkageError e) { // JNA unusable here
            }
            return null; // a platform that names it otherwise: the process-wide lookup, right when one copy is loaded
        }

        private static Pointer address(String symbol) {
            if (LIB == null) return org.bytedeco.javacpp.Loader.addressof(symbol);
            long fn = com.sun.jna.Pointer.nativeValue(LIB.getFunction(symbol));
            return new Pointer() {
                {
                    address = fn;
                }
            };
        }
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
    private static void block(Product p, double alpha, double beta, Object row, long from, long to, long c0, long c1) {
        if (to <= from || c1 <= c0) return;
        if (row != null) fillRows(p, row, from, to);
        // row r of op(a) starts at r·lda when op(a) is read row-major, at r when it is read transposed; column j
        // of op(b) at j when read row-major, at j·ldb when read transposed
        long offA = p.opA() ? from : from * p.lda(), offB = p.opB() ? c0 * p.ldb() : c0, offC = from * p.ldc() + c0;
        int m = (int) (to - from), n = (int) (c1 - c0), k = p.k();
        int order = openblas_nolapack.CblasRowMajor;
        int tA = p.opA() ? openblas_nolapack.CblasTrans : openblas_nolapack.CblasNoTrans;
        int tB = p.opB() ? openblas_nolapack.CblasTrans : openblas_nolapack.CblasNoTrans;
        // each block its own pointer objects: position() is state
        if (p.fp32()) {
            FloatPointer pa = new FloatPointer(p.a()), pb = new FloatPointer(p.b()), pc = new FloatPointer(p.c());
            openblas_nolapack.cblas_sgemm(order, tA, tB, m, n, k, (float) alpha, pa.position(pa.position() + offA),
                    p.lda(), pb.position(pb.position() + offB), p.ldb(), (float) beta, pc.position(pc.position() + offC), p.ldc());
        } else {
            DoublePointer pa = new DoublePointer(p.a()), pb = new DoublePointer(p.b()), pc = new DoublePointer(p.c());
            openblas_nolapack.cblas_dgemm(order, tA, tB, m, n, k, alpha, pa.position(pa.position() + offA),
                    p.lda(), pb.position(pb.position() + offB), p.ldb(), beta, pc.position(pc.position() + offC), p.ldc());
        }
    }
}
