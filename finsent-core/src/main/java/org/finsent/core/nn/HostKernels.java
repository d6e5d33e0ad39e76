package org.finsent.core.nn;

import org.bytedeco.javacpp.FloatPointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.Shape;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.FloatBuffer;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;

/**
 * Fused FP32 element-wise kernels over host memory, for ND4J's CPU backend only (callers check {@link #usable}
 * and otherwise take their ND4J-op path, which the CUDA backend always does).
 *
 * <p>Why: as ND4J ops, GELU, dropout and softmax are 5–7 whole-tensor passes each (plus ND4J's erf, which runs
 * at ~12 ns an element); these kernels make one pass, on 64 Ki-element chunks copied into Java arrays so that
 * the JIT vectorises the arithmetic. Each keeps the ND4J path's formula and FP32 rounding step by step; where it
 * must differ it says so:
 * <ul>
 *   <li>erf is Eigen's single-precision rational approximation (the one XLA and TVM use): at most 4.5e-7 (measured 4.45e-7) from
 *       the exact erf (measured against double-precision erf over [-6, 6] in {@code HostKernelsTest}; PyTorch's
 *       own vectorised float erf, Abramowitz–Stegun 7.1.26, is specified at 1.5e-7). FP64 models keep ND4J's
 *       exact erf, so every golden test against PyTorch still runs on exact arithmetic.</li>
 *   <li>exp is {@code (float) Math.exp(double)} (correctly rounded in all but rare double-rounding cases).</li>
 *   <li>softmax sums its exponentials in double.</li>
 *   <li>dropout masks come from {@link SplittableRandom} streams seeded from the model's ND4J generator (one
 *       stream per chunk, so the mask does not depend on the thread count); ND4J's Bernoulli op runs at about
 *       half the speed.</li>
 * </ul>
 * Work is split over ND4J's thread count ({@code OMP_NUM_THREADS}).
 */
public final class HostKernels {
    static final int CHUNK = 1 << 16;
    private static final boolean CPU = isCpu();
    private static volatile boolean enabled = !Boolean.getBoolean("finsent.nd4jElementwise");
    private static volatile ForkJoinPool pool;

    private HostKernels() {
    }

    private static boolean isCpu() {
        try {
            return Nd4j.getEnvironment().isCPU();
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** For tests and benchmarks: false makes every caller take its ND4J-op path. */
    public static void enabled(boolean on) {
        enabled = on;
    }

    /** True when every array is a dense, C-ordered FP32 array on the CPU backend (the kernels' precondition). */
    public static boolean usable(INDArray... xs) {
        if (!CPU || !enabled) return false;
        for (INDArray x : xs) {
            if (x == null || x.dataType() != DataType.FLOAT || x.length() >= Integer.MAX_VALUE
                    || x.ordering() != 'c' || !Shape.hasDefaultStridesForShape(x)) return false;
        }
        return true;
    }

    // ---------------------------------------------------------------- GELU (erf)

    /** {@code y = x·Φ(x)}, {@code Φ(x) = 0.5·(1 + erf(x·(1/√2)))}; writes y and Φ (saved for the backward). */
    public static void geluErf(INDArray x, INDArray y, INDArray cdf) {
        int n = (int) x.length();
        FloatBuffer bx = floats(x), by = floats(y), bc = floats(cdf);
        chunks(n, c -> {
            int s = c * CHUNK, len = Math.min(CHUNK, n - s);
            float[][] w = scratch(3);
            float[] ax = w[0], ay = w[1], ac = w[2];
            bx.get(s, ax, 0, len);
            for (int i = 0; i < len; i++) {
                float xi = ax[i];
                float phi = (erf(xi * 0.70710677f) + 1f) * 0.5f; // ND4J: x·(float)(1/√2), erf, +1, ×0.5
                ac[i] = phi;
                ay[i] = phi * xi;
            }
            by.put(s, ay, 0, len);
            bc.put(s, ac, 0, len);
        });
    }

    /** {@code dx = dy·(Φ(x) + x·φ(x))}, {@code φ(x) = exp(−x²/2)/√(2π)}, given the forward's Φ. */
    public static void geluErfBackward(INDArray dy, INDArray x, INDArray cdf, INDArray dx) {
        int n = (int) x.length();
        FloatBuffer bdy = floats(dy), bx = floats(x), bc = floats(cdf), bdx = floats(dx);
        chunks(n, c -> {
            int s = c * CHUNK, len = Math.min(CHUNK, n - s);
            float[][] w = scratch(3);
            float[] ax = w[0], ad = w[1], ac = w[2];
            bx.get(s, ax, 0, len);
            bdy.get(s, ad, 0, len);
            bc.get(s, ac, 0, len);
            for (int i = 0; i < len; i++) {
                float xi = ax[i];
                float pdf = (float) Math.exp((xi * xi) * -0.5f) * 0.3989423f; // (float)(1/√(2π))
                ad[i] = (pdf * xi + ac[i]) * ad[i];
            }
            bdx.put(s, ad, 0, len);
        });
    }

    /** Eigen's float erf: x·α(x²)/β(x²) on x clamped to [−4, 4] (beyond, erf is ±1 in FP32). */
    static float erf(float v) {
        float x = Math.max(-4f, Math.min(4f, v)), x2 = x * x;
        float p = x2 * -2.72614225801306e-10f + 2.77068142495902e-08f;
        p = x2 * p + -2.10102402082508e-06f;
        p = x2 * p + -5.69250639462346e-05f;
        p = x2 * p + -7.34990630326855e-04f;
        p = x2 * p + -2.95459980854025e-03f;
        p = x2 * p + -1.60960333262415e-02f;
        float q = x2 * -1.45660718464996e-05f + -2.13374055278905e-04f;
        q = x2 * q + -1.68282697438203e-03f;
        q = x2 * q + -7.37332916720468e-03f;
        q = x2 * q + -1.42647390514189e-02f;
        return x * p / q;
    }

    // ---------------------------------------------------------------- dropout

    /**
     * Inverted dropout in one pass: {@code mask = keep ? (float)(1/(1−p)) : 0} with {@code P(keep) = 1 − p},
     * {@code y = x·mask}. {@code seed} picks the mask; chunk c draws from its own stream, so the mask is the same
     * for any thread count.
     */
    public static void dropout(INDArray x, double p, long seed, INDArray y, INDArray mask) {
        int n = (int) x.length();
        float scale = (float) (1 / (1 - p));
        long threshold = Math.round((1 - p) * (1L << 32)); // keep when the unsigned 32-bit draw < threshold
        FloatBuffer bx = floats(x), by = floats(y), bm = floats(mask);
        chunks(n, c -> {
            int s = c * CHUNK, len = Math.min(CHUNK, n - s);
            float[][] w = scratch(2);
            float[] ax = w[0], am = w[1];
            SplittableRandom r = new SplittableRandom(mix64(seed + 0x9E3779B97F4A7C15L * (c + 1))); // scattered starts
            for (int i = 0; i < len; i++) am[i] = Integer.toUnsignedLong(r.nextInt()) < threshold ? scale : 0f;
            bx.get(s, ax, 0, len);
            for (int i = 0; i < len; i++) ax[i] = ax[i] * am[i];
            by.put(s, ax, 0, len);
            bm.put(s, am, 0, len);
        });
    }

    // ---------------------------------------------------------------- softmax over the last dimension

    /**
     * In place on scores {@code s [B,H,T,Tk]}: {@code s = softmax(s + mask)} over Tk, with mask {@code [B,1,T,Tk]}
     * broadcast over heads (null: none). ND4J path's steps: add the mask, subtract the row max, exp, divide by
     * the row sum.
     */
    public static void softmaxRows(INDArray s, INDArray mask) {
        long b = s.size(0), h = s.size(1), t = s.size(2);
        int tk = (int) s.size(3);
        int rows = (int) (b * h * t);
        FloatBuffer bs = floats(s), bm = mask == null ? null : floats(mask);
        int rowsPerChunk = Math.max(1, CHUNK / tk);
        rowChunks(rows, rowsPerChunk, c -> {
            int r0 = c * rowsPerChunk, r1 = Math.min(rows, r0 + rowsPerChunk);
            float[][] w = scratch(2, rowsPerChunk * tk);
            float[] a = w[0], m = w[1];
            int len = (r1 - r0) * tk;
            bs.get(r0 * tk, a, 0, len);
            for (int r = r0; r < r1; r++) {
                int o = (r - r0) * tk;
                if (bm != null) {
                    long bi = r / (h * t), ti = r % t;          // row r = ((bi·H + head)·T + ti)
                    bm.get((int) ((bi * t + ti) * tk), m, 0, tk);
                    for (int j = 0; j < tk; j++) a[o + j] = a[o + j] + m[j];
                }
                float max = Float.NEGATIVE_INFINITY;
                for (int j = 0; j < tk; j++) max = Math.max(max, a[o + j]);
                double sum = 0;
                for (int j = 0; j < tk; j++) {
                    float e = (float) Math.exp(a[o + j] - max);
                    a[o + j] = e;
                    sum += e;
                }
                float fs = (float) sum;
                for (int j = 0; j < tk; j++) a[o + j] = a[o + j] / fs;
            }
            bs.put(r0 * tk, a, 0, len);
        });
    }

    /**
     * Softmax backward in place on {@code dp}: with the dropout mask applied first when given ({@code dp ∘= mask}),
     * {@code ds = (dp − Σ_j dp_j·p_j)·p·scale} per row of the last dimension.
     */
    public static void softmaxRowsBackward(INDArray dp, INDArray p, INDArray dropMask, double scale) {
        int tk = (int) dp.size(dp.rank() - 1);
        int rows = (int) (dp.length() / tk);
        float fscale = (float) scale;
        FloatBuffer bd = floats(dp), bp = floats(p), bm = dropMask == null ? null : floats(dropMask);
        int rowsPerChunk = Math.max(1, CHUNK / tk);
        rowChunks(rows, rowsPerChunk, c -> {
            int r0 = c * rowsPerChunk, r1 = Math.min(rows, r0 + rowsPerChunk);
            int len = (r1 - r0) * tk, off = r0 * tk;
            float[][] w = scratch(3, rowsPerChunk * tk);
            float[] ad = w[0], ap = w[1], am = w[2];
            bd.get(off, ad, 0, len);
            bp.get(off, ap, 0, len);
            if (bm != null) {
                bm.get(off, am, 0, len);
                for (int i = 0; i < len; i++) ad[i] = ad[i] * am[i];
            }
            for (int r = 0; r < r1 - r0; r++) {
                int o = r * tk;
                double dot = 0;
                for (int j = 0; j < tk; j++) dot += ad[o + j] * ap[o + j];
                float fd = (float) dot;
                for (int j = 0; j < tk; j++) ad[o + j] = (ad[o + j] - fd) * ap[o + j] * fscale;
            }
            bd.put(off, ad, 0, len);
        });
    }

    // ---------------------------------------------------------------- plumbing

    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[3][CHUNK]);

    /** Per-thread chunk buffers: k arrays of at least CHUNK floats. */
    private static float[][] scratch(int k) {
        return scratch(k, CHUNK);
    }

    /** Per-thread chunk buffers: k arrays of at least {@code size} floats (a softmax row longer than CHUNK). */
    private static float[][] scratch(int k, int size) {
        float[][] w = SCRATCH.get();
        if (w.length >= k && w[0].length >= size) return w;
        w = new float[Math.max(k, w.length)][Math.max(size, CHUNK)];
        SCRATCH.set(w);
        return w;
    }

    /** A view of the array's memory ({@code addressPointer()} already points at a view's first element). */
    static FloatBuffer floats(INDArray x) {
        FloatPointer p = new FloatPointer(x.data().addressPointer());
        return p.limit(p.position() + x.length()).asBuffer();
    }

    private static void chunks(int n, IntConsumer body) {
        int count = (n + CHUNK - 1) / CHUNK;
        run(count, body);
    }

    /** Chunks of whole rows: {@code rowsPerChunk} rows each. */
    private static void rowChunks(int rows, int rowsPerChunk, IntConsumer body) {
        run((rows + rowsPerChunk - 1) / rowsPerChunk, body);
    }

    /** Stafford's 64-bit finaliser (variant 13): neighbouring seeds give unrelated stream positions. */
    static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    private static void run(int count, IntConsumer body) {
        int threads = Math.min(Nd4j.getEnvironment().maxThreads(), Runtime.getRuntime().availableProcessors());
        if (count <= 1 || threads <= 1) {
            for (int c = 0; c < count; c++) body.accept(c);
            return;
        }
        ForkJoinPool fj = pool(threads);
        fj.submit(() -> IntStream.range(0, count).parallel().forEach(body)).join();
    }

    private static ForkJoinPool pool(int threads) {
        ForkJoinPool p = pool;
        if (p == null || p.getParallelism() != threads) {
            synchronized (HostKernels.class) {
                p = pool;
                if (p == null || p.getParallelism() != threads) {
                    p = new ForkJoinPool(threads, fjp -> {
                        var t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(fjp);
                        t.setDaemon(true);
                        t.setName("finsent-kernels-" + t.getPoolIndex());
                        return t;
                    }, null, false);
                    pool = p;
                }
            }
        }
        return p;
    }
}
