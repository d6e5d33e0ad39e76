package org.finsent.core.nn;

import org.bytedeco.javacpp.FloatPointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.FloatBuffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.IntBuffer;
import java.util.function.IntConsumer;

/**
 * Fused FP32 element-wise kernels over host memory, for ND4J's CPU backend only (callers check {@link #usable}
 * and otherwise take their ND4J-op path, which the CUDA backend always does; {@link FastPaths} decides).
 *
 * <p>Why: as ND4J ops, GELU, softmax and LayerNorm are 5–11 whole-tensor passes each (plus ND4J's erf, a scalar
 * loop); these kernels make one pass, on 64 Ki-element chunks copied into Java arrays so that
 * the JIT vectorises the arithmetic. Each keeps the ND4J path's formula and FP32 rounding step by step; where it
 * must differ it says so:
 * <ul>
 *   <li>erf is Eigen's single-precision rational approximation (the one XLA and TVM use): at most 4.5e-7 (measured
 *       4.45e-7) from the exact erf over [-6, 6] ({@code HostKernelsTest}), where glibc's {@code erff} and PyTorch
 *       2.11's float erf are within 1 ulp (6e-8). GELU, its only user, ends up as close to the exact GELU as
 *       PyTorch's own FP32 GELU on CPU (max abs error on [-6, 6]: 1.4e-6 here, 1.2e-6 PyTorch; see
 *       docs/INTEROP.md). FP64 models keep ND4J's exact erf, so every golden test against PyTorch still runs on
 *       exact arithmetic.</li>
 *   <li>exp is Cephes' single-precision polynomial ({@link #expInPlace}; at most 1 ulp from the exact exp, measured
 *       in {@code HostKernelsTest}), written so that the JIT vectorises it: {@code Math.exp} is a scalar call, far
 *       slower than ND4J's vectorised exp.</li>
 *   <li>softmax row sums and LayerNorm's mean, variance and backward reductions accumulate in double (closer to
 *       FP64 than the ND4J ops; {@code HostKernelsTest}).</li>
 * </ul>
 * Work is split over ND4J's thread count ({@code OMP_NUM_THREADS}).
 */
public final class HostKernels {
    static final int CHUNK = 1 << 16;
    private static volatile boolean enabled = !Boolean.getBoolean("finsent.nd4jElementwise");

    private HostKernels() {
    }

    /**
     * Whether ND4J's arrays may be read as host memory here: {@link FastPaths#enabled()} (CPU backend, natives
     * loadable, not switched off). The condition of every host-loop fast path.
     */
    public static boolean onCpu() {
        return FastPaths.enabled();
    }

    /**
     * Tests and benchmarks: false makes every caller of these kernels take its ND4J-op path (the finer switch
     * {@code -Dfinsent.nd4jElementwise=true} sets at start-up); true cannot turn on what {@link FastPaths} keeps off.
     */
    public static void enabled(boolean on) {
        enabled = on;
    }

    /** The fast paths are on and these kernels not switched off: they may run on arrays that fit them. */
    static boolean active() {
        return enabled && FastPaths.enabled();
    }

    /** True when every array is a dense, row-major FP32 array on the CPU backend (the kernels' precondition). */
    public static boolean usable(INDArray... xs) {
        if (!active()) return false;
        for (INDArray x : xs) {
            if (x == null || x.dataType() != DataType.FLOAT || x.length() >= Integer.MAX_VALUE || !dense(x)) return false;
        }
        return true;
    }

    /**
     * Row-major and gap-free: each dimension's stride is the product of the sizes after it. Size-1 dimensions are
     * skipped (ND4J gives them any stride; {@code Shape.hasDefaultStridesForShape} rejects a {@code [B,1,T,T]}
     * mask for that).
     */
    static boolean dense(INDArray x) {
        long expected = 1;
        long[] shape = x.shape(), stride = x.stride();
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] == 1) continue;
            if (stride[i] != expected) return false;
            expected *= shape[i];
        }
        return true;
    }

    // ---------------------------------------------------------------- GELU (erf, BERT)

    /**
     * {@code y = x·Φ(x)}, {@code Φ(x) = 0.5·(1 + erf(x·(1/√2)))}; writes y and, unless {@code cdf} is null
     * (inference), Φ for the backward.
     */
    public static void geluErf(INDArray x, INDArray y, INDArray cdf) {
        int n = (int) x.length();
        FloatBuffer bx = floats(x), by = floats(y), bc = cdf == null ? null : floats(cdf);
        chunks(n, c -> {
            int s = c * CHUNK, len = Math.min(CHUNK, n - s);
            Scratch w = Scratch.get(CHUNK);
            float[] ax = w.a, ay = w.b, ac = w.c;
            bx.get(s, ax, 0, len);
            for (int i = 0; i < len; i++) {
                float xi = ax[i];
                float phi = (erf(xi * 0.70710677f) + 1f) * 0.5f; // ND4J: x·(float)(1/√2), erf, +1, ×0.5
                ac[i] = phi;
                ay[i] = phi * xi;
            }
            by.put(s, ay, 0, len);
            if (bc != null) bc.put(s, ac, 0, len);
        });
    }

    /** {@code dx = dy·(Φ(x) + x·φ(x))}, {@code φ(x) = exp(−x²/2)/√(2π)}, given the forward's Φ. */
    public static void geluErfBackward(INDArray dy, INDArray x, INDArray cdf, INDArray dx) {
        int n = (int) x.length();
        FloatBuffer bdy = floats(dy), bx = floats(x), bc = floats(cdf), bdx = floats(dx);
        chunks(n, c -> {
            int s = c * CHUNK, len = Math.min(CHUNK, n - s);
            Scratch w = Scratch.get(CHUNK);
            float[] ax = w.a, ad = w.b, ac = w.c, e = w.d;
            bx.get(s, ax, 0, len);
            bdy.get(s, ad, 0, len);
            bc.get(s, ac, 0, len);
            for (int i = 0; i < len; i++) e[i] = (ax[i] * ax[i]) * -0.5f;
            expInPlace(e, len, w);
            for (int i = 0; i < len; i++) {
                float pdf = e[i] * 0.3989423f;                    // (float)(1/√(2π))
                ad[i] = (pdf * ax[i] + ac[i]) * ad[i];
            }
            bdx.put(s, ad, 0, len);
        });
    }

    // ---------------------------------------------------------------- GELU (tanh, GPT-2's gelu_new)

    /**
     * {@code y = 0.5x(1 + tanh(u))}, {@code u = √(2/π)(x + 0.044715x³)}, computed as {@code y = x·σ(2u) =
     * x / (1 + exp(−2u))} (the same function: {@code 1 + tanh(u) = 2σ(2u)}) in one pass. Why not the textbook
     * form: in FP32 {@code 1 + tanh(u)} cancels for negative x (x = −5: tanh ≈ −0.9984, so 1 + tanh keeps ~4
     * significant bits less), which the sigmoid form never computes; u is rounded exactly as the ND4J path
     * rounds it ({@code ((x·x)·x·0.044715 + x)·√(2/π)} in FP32).
     */
    public static void geluTanh(INDArray x, INDArray y) {
        int n = (int) x.length();
        FloatBuffer bx = floats(x), by = floats(y);
        chunks(n, c -> {
            int s = c * CHUNK, len = Math.min(CHUNK, n - s);
            Scratch w = Scratch.get(CHUNK);
            float[] ax = w.a, e = w.b;
            bx.get(s, ax, 0, len);
            for (int i = 0; i < len; i++) e[i] = tanhGeluInner(ax[i]) * -2f;
            expInPlace(e, len, w);                                   // exp(−2u), clamped at exp(88)
            for (int i = 0; i < len; i++) e[i] = ax[i] / (1f + e[i]);
            by.put(s, e, 0, len);
        });
    }

    /**
     * {@code dx = dy·y'}, {@code y' = 0.5(1 + t) + 0.5x(1 − t²)·√(2/π)(1 + 3·0.044715x²)} with {@code t = tanh(u)},
     * computed as {@code y' = σ + 2x·σ(1 − σ)·u'} with {@code σ = σ(2u) = 1/(1 + e)}, {@code 1 − σ = e·σ},
     * {@code e = exp(−2u)} (recomputed from x: the forward saves nothing).
     */
    public static void geluTanhBackward(INDArray dy, INDArray x, INDArray dx) {
        int n = (int) x.length();
        FloatBuffer bdy = floats(dy), bx = floats(x), bdx = floats(dx);
        chunks(n, c -> {
            int s = c * CHUNK, len = Math.min(CHUNK, n - s);
            Scratch w = Scratch.get(CHUNK);
            float[] ax = w.a, ad = w.b, e = w.c;
            bx.get(s, ax, 0, len);
            bdy.get(s, ad, 0, len);
            for (int i = 0; i < len; i++) e[i] = tanhGeluInner(ax[i]) * -2f;
            expInPlace(e, len, w);
            for (int i = 0; i < len; i++) {
                float xi = ax[i], sig = 1f / (1f + e[i]);
                float du = (xi * xi * 0.134145f + 1f) * 0.7978846f;   // (float)(3·0.044715), (float)√(2/π)
                ad[i] = (sig + 2f * xi * (sig * (e[i] * sig)) * du) * ad[i];
            }
            bdx.put(s, ad, 0, len);
        });
    }

    /** {@code u = ((x·x)·x·0.044715 + x)·√(2/π)} in FP32, in the ND4J path's order. */
    private static float tanhGeluInner(float x) {
        return (x * x * x * 0.044715f + x) * 0.7978846f;
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
        rowChunks(rows, rowsPerChunk, c -> softmaxRowRange(bs, bm, h, t, tk, c * rowsPerChunk,
                Math.min(rows, (c + 1) * rowsPerChunk)));
    }

    /**
     * Rows {@code from..to} of {@link #softmaxRows} (row r = ((example·H + head)·T + query)) on the calling thread,
     * a chunk at a time: the per-(example, head) piece {@link Attention}'s fused forward runs right after the
     * scores' GEMM.
     */
    static void softmaxRowRange(FloatBuffer bs, FloatBuffer bm, long h, long t, int tk, int from, int to) {
        int rowsPerChunk = Math.max(1, CHUNK / tk);
        for (int r0 = from, r1; r0 < to; r0 = r1) {
            r1 = Math.min(to, r0 + rowsPerChunk);
            Scratch w = Scratch.get(rowsPerChunk * tk);
            float[] a = w.a, m = w.b;
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
                for (int j = 0; j < tk; j++) a[o + j] = a[o + j] - max;
            }
            expInPlace(a, len, w);                                // masked keys (≈ −3.4e38) give exactly 0
            for (int r = r0; r < r1; r++) {
                int o = (r - r0) * tk;
                double sum = 0;
                for (int j = 0; j < tk; j++) sum += a[o + j];
                float fs = (float) sum;
                for (int j = 0; j < tk; j++) a[o + j] = a[o + j] / fs;
            }
            bs.put(r0 * tk, a, 0, len);
        }
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
            Scratch w = Scratch.get(rowsPerChunk * tk);
            float[] ad = w.a, ap = w.b, am = w.c;
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

    // ---------------------------------------------------------------- LayerNorm over the last dimension

    /**
     * {@link LayerNorm}'s forward on rows {@code x [N, C]}: per row the mean and the biased variance in two
     * passes (accumulated in double), {@code rstd = (float) (1/sqrt(var + eps))}, {@code x̂ = (x − mean)·rstd},
     * {@code y = x̂·γ + β}. Writes y, x̂ and rstd {@code [N, 1]}.
     */
    public static void layerNorm(INDArray x, INDArray gamma, INDArray beta, double eps, INDArray y, INDArray xhat,
                                 INDArray rstd) {
        layerNorm(x, null, gamma, beta, eps, y, xhat, rstd);
    }

    /**
     * LayerNorm of {@code x + residual} (the post-LN residual connection, added in the same pass; may be null).
     * {@code xhat} and {@code rstd} may be null (inference: nothing kept for a backward).
     */
    public static void layerNorm(INDArray x, INDArray residual, INDArray gamma, INDArray beta, double eps, INDArray y,
                                 INDArray xhat, INDArray rstd) {
        int n = (int) x.size(0), cols = (int) x.size(1);
        float[] g = vector(gamma), bt = vector(beta);
        FloatBuffer bx = floats(x), by = floats(y);
        FloatBuffer bh = xhat == null ? null : floats(xhat), br = rstd == null ? null : floats(rstd);   // null: inference
        FloatBuffer bres = residual == null ? null : floats(residual);
        int rowsPerChunk = Math.max(1, CHUNK / cols);
        rowChunks(n, rowsPerChunk, c -> {
            int r0 = c * rowsPerChunk, r1 = Math.min(n, r0 + rowsPerChunk), len = (r1 - r0) * cols;
            Scratch w = Scratch.get(rowsPerChunk * cols);
            float[] a = w.a, out = w.b, rs = w.c;
            bx.get(r0 * cols, a, 0, len);
            if (bres != null) {   // the same FP32 sum as ND4J's add
                float[] res = w.d;
                bres.get(r0 * cols, res, 0, len);
                for (int i = 0; i < len; i++) a[i] += res[i];
            }
            for (int r = 0; r < r1 - r0; r++) {
                int o = r * cols;
                float mean = (float) (sum(a, o, cols) / cols);
                for (int j = 0; j < cols; j++) a[o + j] = a[o + j] - mean;
                float var = (float) (sumSquares(a, o, cols) / cols);
                float rv = (float) (1 / Math.sqrt(var + eps));
                rs[r] = rv;
                for (int j = 0; j < cols; j++) {
                    float h = a[o + j] * rv;
                    a[o + j] = h;
                    out[o + j] = h * g[j] + bt[j];
                }
            }
            if (bh != null) bh.put(r0 * cols, a, 0, len);
            by.put(r0 * cols, out, 0, len);
            if (br != null) br.put(r0, rs, 0, r1 - r0);
        });
    }

    /**
     * {@link LayerNorm}'s backward: {@code dx = rstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂))} with {@code dx̂ = dy·γ};
     * returns {Σ_n dy·x̂, Σ_n dy} (the γ and β gradients, summed chunk by chunk in a fixed order).
     */
    public static float[][] layerNormBackward(INDArray dy, INDArray xhat, INDArray rstd, INDArray gamma, INDArray dx) {
        int n = (int) dy.size(0), cols = (int) dy.size(1);
        float[] g = vector(gamma);
        FloatBuffer bd = floats(dy), bh = floats(xhat), br = floats(rstd), bx = floats(dx);
        int rowsPerChunk = Math.max(1, CHUNK / cols);
        int count = (n + rowsPerChunk - 1) / rowsPerChunk;
        double[][] dg = new double[count][], db = new double[count][];
        rowChunks(n, rowsPerChunk, c -> {
            int r0 = c * rowsPerChunk, r1 = Math.min(n, r0 + rowsPerChunk), len = (r1 - r0) * cols;
            Scratch w = Scratch.get(rowsPerChunk * cols);
            float[] d = w.a, h = w.b, rs = w.c, t = w.d;
            bd.get(r0 * cols, d, 0, len);
            bh.get(r0 * cols, h, 0, len);
            br.get(r0, rs, 0, r1 - r0);
            double[] sg = new double[cols], sb = new double[cols];
            for (int r = 0; r < r1 - r0; r++) {
                int o = r * cols;
                for (int j = 0; j < cols; j++) {
                    sg[j] += d[o + j] * h[o + j];
                    sb[j] += d[o + j];
                    t[o + j] = d[o + j] * g[j];                  // dx̂
                }
                float m1 = (float) (sum(t, o, cols) / cols), m2 = (float) (dot(t, h, o, cols) / cols), rv = rs[r];
                for (int j = 0; j < cols; j++) d[o + j] = (t[o + j] - m1 - h[o + j] * m2) * rv;
            }
            bx.put(r0 * cols, d, 0, len);
            dg[c] = sg;
            db[c] = sb;
        });
        float[][] out = new float[2][cols];
        for (int j = 0; j < cols; j++) {
            double a = 0, b = 0;
            for (int c = 0; c < count; c++) {
                a += dg[c][j];
                b += db[c][j];
            }
            out[0][j] = (float) a;
            out[1][j] = (float) b;
        }
        return out;
    }

    /** Sums with four accumulators (no loop-carried dependency on one add). */
    private static double sum(float[] a, int o, int len) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int j = 0;
        for (; j + 3 < len; j += 4) {
            s0 += a[o + j];
            s1 += a[o + j + 1];
            s2 += a[o + j + 2];
            s3 += a[o + j + 3];
        }
        for (; j < len; j++) s0 += a[o + j];
        return (s0 + s1) + (s2 + s3);
    }

    private static double sumSquares(float[] a, int o, int len) {
        return dot(a, a, o, len);
    }

    private static double dot(float[] a, float[] b, int o, int len) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int j = 0;
        for (; j + 3 < len; j += 4) {
            s0 += a[o + j] * b[o + j];
            s1 += a[o + j + 1] * b[o + j + 1];
            s2 += a[o + j + 2] * b[o + j + 2];
            s3 += a[o + j + 3] * b[o + j + 3];
        }
        for (; j < len; j++) s0 += a[o + j] * b[o + j];
        return (s0 + s1) + (s2 + s3);
    }

    // ---------------------------------------------------------------- plumbing

    /**
     * {@code a[i] = exp(a[i])} for the first {@code len} elements: Cephes' expf (range reduction by ln 2, degree-6
     * polynomial, at most 1 ulp), 0 below ln(FLT_MIN) (where exp falls below FP32's normal range; softmax's masked keys)
     * and clamped at 88. The JIT
     * does not vectorise float↔int bit moves, so 2^k is built through memory: k + 127 + 1.5·2²³ is written as
     * floats and read back as ints (its low bits are k + 127), shifted into an exponent field, and read back as
     * floats — two memcpys instead of a scalar loop.
     */
    static void expInPlace(float[] a, int len, Scratch w) {
        float[] t = w.t;
        int[] bits = w.bits;
        for (int i = 0; i < len; i++) {
            float y = Math.max(-87.336548f, Math.min(88f, a[i])); // ln(FLT_MIN) = −87.336544…
            float z = y * 1.44269504088896341f;
            float k = (z + 12582912f) - 12582912f;           // round(z), as a float (1.5·2²³ trick)
            float r = y - k * 0.693359375f - k * -2.12194440e-4f;
            float p = (((((1.9875691500e-4f * r + 1.3981999507e-3f) * r + 8.3334519073e-3f) * r
                    + 4.1665795894e-2f) * r + 1.6666665459e-1f) * r + 5.0000001201e-1f) * r * r + r + 1f;
            t[i] = k + 12582912f + 127f;                     // bit pattern 0x4B400000 + k + 127
            a[i] = p * Math.min(1f, Math.max(0f, (a[i] + 87.336548f) * 1e30f + 1f)); // ×0 where exp < FLT_MIN
        }
        w.floats.put(0, t, 0, len);
        w.ints.get(0, bits, 0, len);
        for (int i = 0; i < len; i++) bits[i] = (bits[i] - 0x4B400000) << 23;
        w.ints.put(0, bits, 0, len);
        w.floats.get(0, t, 0, len);
        for (int i = 0; i < len; i++) a[i] = a[i] * t[i];
    }

    /** Per-thread chunk buffers, grown on demand (a softmax row longer than CHUNK). */
    static final class Scratch {
        private static final ThreadLocal<Scratch> LOCAL = new ThreadLocal<>();
        final float[] a, b, c, d, t;
        final int[] bits;
        final FloatBuffer floats;
        final IntBuffer ints;

        private Scratch(int n) {
            a = new float[n];
            b = new float[n];
            c = new float[n];
            d = new float[n];
            t = new float[n];
            bits = new int[n];
            ByteBuffer bb = ByteBuffer.allocateDirect(n * 4).order(ByteOrder.nativeOrder());
            floats = bb.asFloatBuffer();
            ints = bb.asIntBuffer();
        }

        static Scratch get(int n) {
            Scratch w = LOCAL.get();
            if (w == null || w.a.length < n) LOCAL.set(w = new Scratch(Math.max(n, CHUNK)));
            return w;
        }
    }

    /**
     * A view of a CPU array's memory as a buffer of its {@code length()} elements from its first one
     * ({@code addressPointer()} already points at a view's first element); for the host loops' bulk copies.
     */
    public static FloatBuffer floats(INDArray x) {
        FloatPointer p = new FloatPointer(x.data().addressPointer());
        return p.limit(p.position() + x.length()).asBuffer();
    }

    /**
     * A dense FP32 vector's values by one bulk copy; {@code toFloatVector()} first duplicates the array natively, a
     * noticeable cost for the LayerNorms' γ and β and the biases read on every call of a short forward.
     */
    static float[] vector(INDArray x) {
        if (!dense(x)) return x.toFloatVector();
        float[] v = new float[(int) x.length()];
        floats(x).get(0, v);
        return v;
    }

    /** {@link #floats} for FP64 arrays. */
    public static java.nio.DoubleBuffer doubles(INDArray x) {
        org.bytedeco.javacpp.DoublePointer p = new org.bytedeco.javacpp.DoublePointer(x.data().addressPointer());
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


    private static void run(int count, IntConsumer body) {
        HostThreads.parallelFor(count, body);
    }
}
