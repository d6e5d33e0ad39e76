package org.finsent.bench.train;

import org.bytedeco.javacpp.FloatPointer;
import org.finsent.core.model.Batch;
import org.finsent.core.model.BertModel;
import org.finsent.core.nn.Attention;
import org.finsent.core.nn.Gemm;
import org.finsent.core.nn.HostKernels;
import org.finsent.core.nn.Parameter;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.Map;

/**
 * The {@code Compare infer-profile} mode: where MiniLM's batch-1 forward (one FinancialPhraseBank sentence, 17
 * tokens) goes. It times BertModel's single-sequence forward whole, then runs the same steps one at a time with a
 * clock between them, on the model's own weights through the same public calls ({@link Gemm#productRows},
 * {@link Attention#forwardRows}, {@link HostKernels}), and prints per-forward microseconds per step and the rate at
 * which the products stream the weights.
 */
public final class SingleSequenceProfile {
    private static final String[] STEPS = {"q,k,v products", "attention", "Wo product", "LN1", "W1 product", "GELU",
            "W2 product", "LN2"};

    private SingleSequenceProfile() {
    }

    public static void run(double seconds) throws Exception {
        try (Inference inf = new Inference()) {
            BertModel m = inf.ours;
            m.poolerRowsOnly(false);
            Batch b = Inference.batch(1);
            int t = b.seqLen(), c = m.config.hiddenSize(), inter = m.config.intermediateSize(), heads = m.config.numAttentionHeads();
            double[] whole = time(seconds, () -> m.forward(b));
            if (!m.singleSequenceRan()) throw new IllegalStateException("the single-sequence path did not run");
            System.out.printf("PROFILE MiniLM 1x%d single-sequence forward, whole: best %.3f ms median %.3f ms%n", t, whole[0], whole[1]);

            Map<String, Parameter> p = m.namedParameters();
            FloatPointer x = new FloatPointer((long) t * c), q = new FloatPointer((long) t * c), k = new FloatPointer((long) t * c),
                    v = new FloatPointer((long) t * c), ctx = new FloatPointer((long) t * c), h = new FloatPointer((long) t * c),
                    a = new FloatPointer((long) t * c), mid = new FloatPointer((long) t * inter), s = new FloatPointer((long) heads * t * t);
            FloatBuffer xb = x.asBuffer(), hb = h.asBuffer(), ab = a.asBuffer(), mb = mid.asBuffer();
            float[] init = new float[t * c];
            for (int i = 0; i < init.length; i++) init[i] = (float) Math.sin(i * 0.37);
            long[] nanos = new long[STEPS.length];
            long weightBytes = 0;
            for (int l = 0; l < m.config.numHiddenLayers(); l++) {
                for (String w : new String[]{"attention.self.query", "attention.self.key", "attention.self.value",
                        "attention.output.dense", "intermediate.dense", "output.dense"}) {
                    weightBytes += p.get("encoder.layer." + l + "." + w + ".weight").value().length() * 4L;
                }
            }
            int runs = 0;
            long end = System.nanoTime() + (long) (seconds * 1e9);
            for (; runs < 3 || System.nanoTime() < end; runs++) {
                xb.put(0, init);
                for (int l = 0; l < m.config.numHiddenLayers(); l++) {
                    String pre = "encoder.layer." + l + ".";
                    long t0 = System.nanoTime();
                    linear(p, pre + "attention.self.query", x, t, q);
                    linear(p, pre + "attention.self.key", x, t, k);
                    linear(p, pre + "attention.self.value", x, t, v);
                    long t1 = System.nanoTime();
                    Attention.forwardRows(q, k, v, ctx, c, heads, t, t, s);
                    long t2 = System.nanoTime();
                    linear(p, pre + "attention.output.dense", ctx, t, h);
                    long t3 = System.nanoTime();
                    layerNorm(p, pre + "attention.output.LayerNorm", hb, xb, ab, t, c);
                    long t4 = System.nanoTime();
                    linear(p, pre + "intermediate.dense", a, t, mid);
                    long t5 = System.nanoTime();
                    HostKernels.geluErf(mb, mb, null, t * inter);
                    long t6 = System.nanoTime();
                    linear(p, pre + "output.dense", mid, t, h);
                    long t7 = System.nanoTime();
                    layerNorm(p, pre + "output.LayerNorm", hb, ab, xb, t, c);
                    long t8 = System.nanoTime();
                    long[] at = {t0, t1, t2, t3, t4, t5, t6, t7, t8};
                    if (runs >= 3) for (int i = 0; i < STEPS.length; i++) nanos[i] += at[i + 1] - at[i];
                }
            }
            int counted = runs - 3;
            long products = nanos[0] + nanos[2] + nanos[4] + nanos[6], all = Arrays.stream(nanos).sum();
            for (int i = 0; i < STEPS.length; i++) {
                System.out.printf("PROFILE   %-15s %7.0f µs%n", STEPS[i], nanos[i] / 1e3 / counted);
            }
            System.out.printf("PROFILE   layers, step by step: %.0f µs (products %.0f µs = %.0f %%); the rest of the whole forward"
                            + " (embeddings, copies out, hand-offs) ≈ %.0f µs%n", all / 1e3 / counted, products / 1e3 / counted,
                    100.0 * products / all, whole[1] * 1e3 - all / 1e3 / counted);
            System.out.printf("PROFILE   the products stream %.1f MB of weights per forward: %.1f GB/s%n", weightBytes / 1e6,
                    weightBytes / (products / 1e9 / counted) / 1e9);
        }
        weightLayouts(seconds);
    }

    /**
     * The FFN's first product of one 17-token text, {@code [17, 384]·Wᵀ} with W {@code [1536, 384]}, through
     * {@link Gemm#gemm}: on one weight (hot in the caches) and cycling through 12 (cold, as in a forward), with
     * the weight as stored ({@code [out, in]}, read transposed) and pre-transposed ({@code [in, out]}). Rerun with
     * {@code -Dfinsent.smallGemm=false} for OpenBLAS's packed kernels instead of its small-matrix ones.
     */
    private static void weightLayouts(double seconds) {
        int m = 17, k = 384, n = 1536, count = 12;
        INDArray x = org.nd4j.linalg.factory.Nd4j.rand(org.nd4j.linalg.api.buffer.DataType.FLOAT, m, k);
        INDArray y = org.nd4j.linalg.factory.Nd4j.create(org.nd4j.linalg.api.buffer.DataType.FLOAT, m, n);
        INDArray[] stored = new INDArray[count], transposed = new INDArray[count];
        for (int i = 0; i < count; i++) {
            stored[i] = org.nd4j.linalg.factory.Nd4j.rand(org.nd4j.linalg.api.buffer.DataType.FLOAT, n, k);
            transposed[i] = stored[i].transpose().dup('c');
        }
        for (boolean pre : new boolean[]{false, true}) {
            for (int weights : new int[]{1, count}) {
                INDArray[] ws = pre ? transposed : stored;
                int[] at = {0};
                double[] t = time(seconds / 4, () -> {
                    Gemm.gemm(x, ws[at[0]], y, false, !pre, 1.0, 0.0);
                    at[0] = (at[0] + 1) % weights;
                });
                System.out.printf("PROFILE   [17x384]·W, W %s, %2d weight(s) in turn (%s): median %.1f µs (%.0f GFLOPS)%n",
                        pre ? "pre-transposed [384,1536]" : "as stored [1536,384] ", weights, weights == 1 ? "hot" : "cold",
                        t[1] * 1e3, 2.0 * m * k * n / (t[1] * 1e6));
            }
        }
    }

    private static void linear(Map<String, Parameter> p, String name, FloatPointer x, int rows, FloatPointer y) {
        INDArray w = p.get(name + ".weight").value();
        Gemm.productRows(x, (int) w.size(1), rows, w, true, 1.0, 1.0, HostKernels.vector(p.get(name + ".bias").value()), y, (int) w.size(0));
    }

    private static void layerNorm(Map<String, Parameter> p, String name, FloatBuffer x, FloatBuffer res, FloatBuffer y, int rows, int cols) {
        HostKernels.layerNorm(x, res, HostKernels.vector(p.get(name + ".weight").value()),
                HostKernels.vector(p.get(name + ".bias").value()), 1e-12, y, null, null, rows, cols);
    }

    /** Best and median milliseconds over {@code seconds} after a 3-second warm-up. */
    private static double[] time(double seconds, Runnable task) {
        long warm = System.nanoTime();
        while (System.nanoTime() - warm < 3_000_000_000L) task.run();
        java.util.List<Double> ms = new java.util.ArrayList<>();
        long end = System.nanoTime() + (long) (seconds * 1e9);
        while (ms.size() < 5 || System.nanoTime() < end) {
            long t0 = System.nanoTime();
            task.run();
            ms.add((System.nanoTime() - t0) / 1e6);
        }
        java.util.Collections.sort(ms);
        return new double[]{ms.get(0), ms.get(ms.size() / 2)};
    }
}
