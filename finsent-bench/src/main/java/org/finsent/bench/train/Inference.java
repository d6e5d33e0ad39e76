package org.finsent.bench.train;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import org.finsent.core.data.Example;
import org.finsent.core.io.OnnxInitializers;
import org.finsent.core.model.Batch;
import org.finsent.core.model.BertConfig;
import org.finsent.core.model.BertModel;
import org.finsent.core.model.ModelWeights;
import org.finsent.tokenizers.TokenizerOptions;
import org.finsent.train.StepMemory;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.ByteArrayInputStream;
import java.util.List;
import java.util.Map;

/**
 * MiniLM inference on the same file: FinSent's {@link BertModel} with the real all-MiniLM-L6-v2 weights read from
 * the ONNX initializers, against ONNX Runtime running that ONNX file (default graph optimisations, 2 intra-op
 * threads). Both return the last hidden state and the pooler output; ours runs in an ND4J workspace as
 * {@code Predictor} does.
 */
public final class Inference implements AutoCloseable {
    public static final BertConfig MINILM = Arch.MINILM.bert;
    private static final String WORKSPACE = "finsent-bench-infer";
    public final BertModel ours;
    private final OrtEnvironment env = OrtEnvironment.getEnvironment();
    private final OrtSession session;

    public Inference() throws Exception {
        byte[] onnx = Workloads.resource("all-minilm-l6-v2.onnx");
        ours = new BertModel(MINILM, "", true, DataType.FLOAT, 1);
        ours.train(false);
        var mapped = OnnxInitializers.read(new ByteArrayInputStream(onnx), "all-minilm-l6-v2.onnx").toHuggingFaceBert();
        var report = ModelWeights.load(ours.namedParameters(), mapped.weights(), "all-minilm-l6-v2.onnx");
        if (!report.missing().isEmpty()) throw new IllegalStateException("missing MiniLM weights " + report.missing());
        session = ortSession(env, onnx);
    }

    /** ONNX Runtime on {@code onnx}: 2 intra-op threads, 1 inter-op thread, default graph optimisations. */
    static OrtSession ortSession(OrtEnvironment env, byte[] onnx) throws Exception {
        OrtSession.SessionOptions opts = new OrtSession.SessionOptions();
        opts.setIntraOpNumThreads(2);
        opts.setInterOpNumThreads(1);
        // ONNX Runtime's intra-op threads spin after each run by default; -Dfinsent.bench.ortSpin=false turns that
        // off (the A/B that shows what the spinning costs the contender timed next in the interleaved mode)
        if (!Boolean.parseBoolean(System.getProperty("finsent.bench.ortSpin", "true")))
            opts.addConfigEntry("session.intra_op.allow_spinning", "0");
        return env.createSession(onnx, opts);
    }

    /** The first {@code n} FinancialPhraseBank sentences, padded to the longest. */
    public static Batch batch(int n) throws Exception {
        List<Example> ex = Workloads.fpb(42).subList(0, n);
        return Batch.of(Workloads.bertTokenizer(TokenizerOptions.Padding.LONGEST).encodeBatch(ex.stream().map(Example::text).toList()));
    }

    public double ours(Batch b) {
        try (MemoryWorkspace ws = StepMemory.step(WORKSPACE)) {
            INDArray hidden = ours.forward(b);
            return ours.pool(hidden).getDouble(0, 0) + hidden.getDouble(0, 0);
        }
    }

    public double ort(Batch b) throws Exception {
        try (OnnxTensor ids = OnnxTensor.createTensor(env, longs(b.inputIds()));
             OnnxTensor mask = OnnxTensor.createTensor(env, longs(b.attentionMask()));
             OnnxTensor types = OnnxTensor.createTensor(env, longs(b.tokenTypeIds()));
             OrtSession.Result r = session.run(Map.of("input_ids", ids, "attention_mask", mask, "token_type_ids", types))) {
            return r.size(); // outputs stay native, as ours stay in the workspace
        }
    }

    static long[][] longs(int[][] a) {
        long[][] out = new long[a.length][];
        for (int i = 0; i < a.length; i++) out[i] = java.util.Arrays.stream(a[i]).asLongStream().toArray();
        return out;
    }

    /** Interleaved timings at batch 1 and 32 (the {@code Compare infer} mode). */
    public static void compare(int reps) throws Exception {
        try (Inference inf = new Inference()) {
            for (int n : new int[]{1, 32}) {
                Batch b = batch(n);
                // with padding (batch 32) twice: our layers on the real tokens only (what the classifier does,
                // BertModel.skipPadding), and on every row — the same work as ONNX Runtime's graph
                for (boolean skip : n == 1 ? new boolean[]{true} : new boolean[]{true, false}) {
                    inf.ours.skipPadding(skip);
                    double[][] s = org.finsent.bench.Compare.interleaveChecked(3, reps, w -> {
                        if (w == 0) inf.ours(b);
                        else inf.ort(b);
                    });
                    org.finsent.bench.Compare.report("infer", "MiniLM " + n + "x" + b.seqLen() + " (FPB sentences, padded to longest, "
                            + realTokens(b) + " real tokens" + (n == 1 ? ")" : skip ? "; ours skips padding rows)" : "; ours computes every row)"),
                            s, Flops.forward(Arch.MINILM, n, b.seqLen()), "peer = ONNX Runtime");
                }
            }
        }
    }

    static int realTokens(Batch b) {
        return new Workloads.Labeled(b, new int[b.batchSize()]).realTokens();
    }

    /**
     * The {@code Compare infer-alone} mode: each contender timed on its own, one block of {@code reps} after a
     * warm-up (interleaving slows both sides, most at batch 1): MiniLM at batch 1 and 32, then bge-small-en-v1.5
     * (12 layers of MiniLM's width, loaded from a model directory, {@link BgeSmall}) at batch 1 and 32 after a
     * check of its last hidden state against ONNX Runtime's, then the ratios of the medians, ours / ONNX Runtime;
     * plus one few-row product of the kind a batch of one short text runs ({@code [17, 384]·[1536, 384]ᵀ},
     * {@code Gemm.gemm}, columns split over the threads). {@code -Dfinsent.bench.bge=false} leaves bge-small out.
     */
    public static void alone(int reps) throws Exception {
        java.util.Map<String, Double> ratios = new java.util.LinkedHashMap<>();
        try (Inference inf = new Inference()) {
            for (int n : new int[]{1, 32}) {
                Batch b = batch(n);
                String what = "MiniLM " + n + "x" + b.seqLen() + " (" + realTokens(b) + " real tokens)";
                aloneRows(what, n, reps, inf.ours, () -> inf.ours(b), () -> inf.ort(b), ratios);
            }
        }
        if (Boolean.parseBoolean(System.getProperty("finsent.bench.bge", "true"))) {
            try (BgeSmall bge = new BgeSmall()) {
                List<String> texts = Workloads.fpb(42).stream().map(Example::text).toList();
                bge.check(texts.subList(0, 4));
                for (int n : new int[]{1, 32}) {
                    Batch b = bge.batch(texts.subList(0, n));
                    String what = "bge-small " + n + "x" + b.seqLen() + " (" + realTokens(b) + " real tokens)";
                    aloneRows(what, n, reps, bge.ours, () -> bge.ours(b), () -> bge.ort(b), ratios);
                }
            }
        }
        ratios.forEach((k, v) -> System.out.printf("RATIO %s: ours / ONNX Runtime (medians) %.2f%n", k, v));
        INDArray x = org.nd4j.linalg.factory.Nd4j.rand(org.nd4j.linalg.api.buffer.DataType.FLOAT, 17, 384);
        INDArray w = org.nd4j.linalg.factory.Nd4j.rand(org.nd4j.linalg.api.buffer.DataType.FLOAT, 1536, 384);
        INDArray y = org.nd4j.linalg.factory.Nd4j.create(org.nd4j.linalg.api.buffer.DataType.FLOAT, 17, 1536);
        double[] t = time(Math.max(reps, 1) * 50, () -> org.finsent.core.nn.Gemm.gemm(x, w, y, false, true, 1.0, 0.0));
        System.out.printf("ALONE Gemm [17x384]·[1536x384]ᵀ: best %.1f µs median %.1f µs%n", t[0] * 1e3, t[1] * 1e3);
    }

    /**
     * Times ours (batch 1; batch {@code n}: padding rows skipped, then every row), then ONNX Runtime, and keeps the
     * ratios of the medians.
     */
    private static void aloneRows(String what, int n, int reps, BertModel model, org.finsent.bench.Compare.Task ours,
                                  org.finsent.bench.Compare.Task ort, java.util.Map<String, Double> ratios) throws Exception {
        boolean was = model.skipsPadding();
        java.util.Map<String, Double> medians = new java.util.LinkedHashMap<>();
        for (boolean skip : n == 1 ? new boolean[]{true} : new boolean[]{true, false}) {
            model.skipPadding(skip);
            double[] t = time(reps, ours);
            String how = n == 1 ? "" : skip ? " (padding rows skipped)" : " (every row)";
            System.out.printf("ALONE %s ours%s: best %.2f ms median %.2f ms (single-sequence path: %s)%n", what, how,
                    t[0], t[1], model.singleSequenceRan());
            medians.put(what + how, t[1]);
        }
        model.skipPadding(was);
        double[] t = time(reps, ort);
        System.out.printf("ALONE %s ONNX Runtime: best %.2f ms median %.2f ms%n", what, t[0], t[1]);
        medians.forEach((k, v) -> ratios.put(k, v / t[1]));
    }

    /**
     * Best and median milliseconds of {@code reps} runs after a warm-up of at least 3 runs and 3 seconds (a batch
     * of one takes milliseconds: a few runs would leave it to the interpreter and C1).
     */
    static double[] time(int reps, org.finsent.bench.Compare.Task task) throws Exception {
        long warm = System.nanoTime();
        for (int i = 0; i < 3 || System.nanoTime() - warm < 3_000_000_000L; i++) task.run();
        double[] ms = new double[reps];
        for (int i = 0; i < reps; i++) {
            long t0 = System.nanoTime();
            task.run();
            ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        java.util.Arrays.sort(ms);
        return new double[]{ms[0], ms[reps / 2]};
    }

    @Override
    public void close() throws Exception {
        session.close();
        StepMemory.release(WORKSPACE);
    }
}
