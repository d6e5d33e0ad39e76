package org.finsent.bench;

import org.finsent.bench.train.Arch;
import org.finsent.bench.train.Flops;
import org.finsent.bench.train.Inference;
import org.finsent.bench.train.OursStep;
import org.finsent.bench.train.Technique;
import org.finsent.bench.train.TorchStep;
import org.finsent.bench.train.TrainStep;
import org.finsent.bench.train.Workloads;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Side-by-side timings for docs/BENCHMARKS.md. Unlike separate JMH trials, FinSent and its peer run
 * <em>interleaved</em> (ours, peer, ours, peer, …) in one process, so load from other processes on a shared machine
 * hits both alike; tables quote best and median of each and the ratio of medians (ours / peer, below 1 = we are
 * faster). The JMH classes ({@link TrainStepBenchmark}, {@link InferenceBenchmark}) time the same code one trial
 * at a time.
 *
 * <pre>
 *   Compare gemm                                 peak sgemm GFLOPS (ND4J gemm into a reused output)
 *   Compare train [ARCH,..] [TECH,..] [reps]     training step, ours vs PyTorch (DJL), + MFU
 *   Compare fpb [ARCH] [TECH,..] [batches]       real FinancialPhraseBank batches: dynamic padding vs 128
 *   Compare infer [reps]                         MiniLM inference batch 1 and 32, ours vs ONNX Runtime
 *   Compare infer-alone [reps]                   the same, each timed on its own (not interleaved), then bge-small-en-v1.5
 *   Compare infer-profile [seconds]              where MiniLM's batch-1 forward goes, step by step
 *   Compare gpt2-infer [reps]                    GPT-2 small batch 1 forward, ours vs PyTorch (DJL), each alone
 *   Compare predictor MODEL_DIR [calls [URL]]    a fine-tuned model's Predictor: batch-1 latency, batch-16/32 texts/s; with URL,
 *                                                batch 1 interleaved with POST /analyze to a running finsent serve
 *   Compare memory ARCH TECH ours|torch [steps]  peak RSS, off-heap, optimizer state (one technique per JVM)
 *   Compare ours ARCH TECH [steps]               FinSent's step alone (for JFR / async-profiler)
 *   Compare phases ARCH TECH [steps]             FinSent's step split into forward, backward, AdamW, zeroGrad
 * </pre>
 * ARCH: BERT_BASE, MINILM, GPT2_SMALL; TECH: FULL, LORA, ADAPTER, PREFIX. {@code -Dquick=true} halves the
 * repetitions.
 */
public final class Compare {
    static final boolean QUICK = Boolean.getBoolean("quick");
    private static double peakGflops = Double.NaN;

    public static void main(String[] args) throws Exception {
        // before ND4J loads; the documented commands export OMP_WAIT_POLICY=PASSIVE anyway (for libtorch too)
        org.finsent.core.nn.OpenMp.preferPassiveWaits();
        Locale.setDefault(Locale.ROOT);
        String mode = args.length > 0 ? args[0] : "help";
        System.out.println(Machine.describe());
        switch (mode) {
            case "gemm" -> gemm();
            case "train" -> {
                gemm();
                List<Arch> archs = args.length > 1 ? parse(Arch.class, args[1]) : List.of(Arch.values());
                List<Technique> techs = args.length > 2 ? parse(Technique.class, args[2]) : List.of(Technique.values());
                int reps = args.length > 3 ? Integer.parseInt(args[3]) : QUICK ? 2 : 4;
                for (Arch a : archs) for (Technique t : techs) train(a, t, reps);
            }
            case "fpb" -> {
                gemm();
                Arch a = args.length > 1 ? Arch.valueOf(args[1]) : Arch.BERT_BASE;
                List<Technique> techs = args.length > 2 ? parse(Technique.class, args[2]) : List.of(Technique.FULL, Technique.LORA);
                int batches = args.length > 3 ? Integer.parseInt(args[3]) : QUICK ? 3 : 6;
                for (Technique t : techs) fpb(a, t, batches);
            }
            case "infer" -> Inference.compare(args.length > 1 ? Integer.parseInt(args[1]) : QUICK ? 10 : 30);
            case "infer-alone" -> Inference.alone(args.length > 1 ? Integer.parseInt(args[1]) : QUICK ? 30 : 100);
            case "infer-profile" -> org.finsent.bench.train.SingleSequenceProfile.run(args.length > 1 ? Double.parseDouble(args[1]) : 10);
            case "gpt2-infer" -> org.finsent.bench.train.Gpt2Inference.alone(args.length > 1 ? Integer.parseInt(args[1]) : QUICK ? 30 : 100);
            case "predictor" -> PredictorBench.run(args);
            case "ours" -> { // for a profiler: FinSent's step alone, as Compare.memory times it
                Arch a = Arch.valueOf(args[1]);
                Technique t = Technique.valueOf(args[2]);
                Workloads.Labeled in = Workloads.synthetic(a, 8, 128, 7);
                try (OursStep step = new OursStep(a, t, 42)) {
                    step.setBatch(in.batch(), in.labels());
                    for (int i = 0; i < (args.length > 3 ? Integer.parseInt(args[3]) : 3); i++) {
                        long t0 = System.nanoTime();
                        step.step();
                        System.out.printf("step %d: %.3f s%n", i, (System.nanoTime() - t0) / 1e9);
                    }
                }
            }
            case "phases" -> { // where one of our steps goes: forward, backward, AdamW, zeroGrad
                Arch a = Arch.valueOf(args[1]);
                Technique t = Technique.valueOf(args[2]);
                phases(a, t, args.length > 3 ? Integer.parseInt(args[3]) : 4);
            }
            case "memory" -> memory(Arch.valueOf(args[1]), Technique.valueOf(args[2]), args[3], args.length > 4 ? Integer.parseInt(args[4]) : 3);
            default -> System.out.println("usage: Compare gemm | train [ARCH,..] [TECH,..] [reps] | fpb [ARCH] [TECH,..] [batches]"
                    + " | infer [reps] | infer-alone [reps] | infer-profile [seconds] | gpt2-infer [reps] | predictor MODEL_DIR [calls [URL]]"
                    + " | memory ARCH TECH ours|torch [steps] | ours ARCH TECH [steps] | phases ARCH TECH [steps]");
        }
        System.exit(0); // DJL and ND4J keep non-daemon threads
    }

    /** {@link OursStep#step()} with a clock between its parts (step 0 includes AdamW's state allocation). */
    static void phases(Arch a, Technique t, int steps) {
        Workloads.Labeled in = Workloads.synthetic(a, 8, 128, 7);
        org.finsent.core.model.CrossEntropyLoss loss = new org.finsent.core.model.CrossEntropyLoss(null);
        try (OursStep step = new OursStep(a, t, 42)) {
            for (int i = 0; i < steps; i++) {
                long t0 = System.nanoTime(), t1, t2;
                try (org.nd4j.linalg.api.memory.MemoryWorkspace ws = org.finsent.train.StepMemory.step("finsent-bench-step")) {
                    INDArray logits = step.model.forward(in.batch());
                    t1 = System.nanoTime();
                    step.model.backward(loss.compute(logits, in.labels()).dLogits());
                    t2 = System.nanoTime();
                }
                boolean folded = i % 2 == 1;   // alternate: AdamW then zeroGrad, or AdamW clearing the gradients itself
                step.optimizer.step(step.optimizer.options().lr(), folded);
                long t3 = System.nanoTime();
                if (!folded) step.model.zeroGrad();
                long t4 = System.nanoTime();
                System.out.printf("PHASES %s %s step %d | forward %.3f s | backward %.3f s | AdamW%s %.3f s | zeroGrad %.3f s | optimizer total %.3f s | total %.3f s%n",
                        a, t, i, (t1 - t0) / 1e9, (t2 - t1) / 1e9, folded ? " clearing" : "", (t3 - t2) / 1e9, (t4 - t3) / 1e9,
                        (t4 - t2) / 1e9, (t4 - t0) / 1e9);
            }
        }
    }

    static <E extends Enum<E>> List<E> parse(Class<E> type, String csv) {
        return Arrays.stream(csv.split(",")).map(s -> Enum.valueOf(type, s.trim().toUpperCase(Locale.ROOT))).toList();
    }

    /** Best sgemm rate over BERT's GEMM shapes and a square one, ND4J gemm into a reused output. */
    static double gemm() {
        if (!Double.isNaN(peakGflops)) return peakGflops;
        long[][] shapes = {{1024, 768, 3072}, {1024, 3072, 768}, {1024, 768, 768}, {2048, 2048, 2048}};
        double best = 0;
        for (long[] s : shapes) {
            INDArray a = Nd4j.rand(DataType.FLOAT, s[0], s[1]), b = Nd4j.rand(DataType.FLOAT, s[1], s[2]);
            INDArray c = Nd4j.create(DataType.FLOAT, s[0], s[2]);
            double flops = 2.0 * s[0] * s[1] * s[2], shapeBest = 0;
            for (int i = 0; i < (QUICK ? 8 : 20); i++) {
                long t0 = System.nanoTime();
                Nd4j.gemm(a, b, c, false, false, 1.0, 0.0);
                shapeBest = Math.max(shapeBest, flops / (System.nanoTime() - t0));
            }
            System.out.printf("sgemm [%dx%d]·[%dx%d]: best %.1f GFLOPS%n", s[0], s[1], s[1], s[2], shapeBest);
            best = Math.max(best, shapeBest);
        }
        System.out.printf("PEAK sgemm %.1f GFLOPS%n", best);
        return peakGflops = best;
    }

    /** Something to time. */
    public interface Task {
        void run() throws Exception;
    }

    /** One repetition of implementation {@code who}: 0 = ours, 1 = the peer. */
    public interface Rep {
        void run(int who) throws Exception;
    }

    public static double[][] interleaveChecked(int warmup, int reps, Rep run) throws Exception {
        return interleave(warmup, reps, run);
    }

    /** Times {@code run(i)} for ours (0) and the peer (1) interleaved; returns seconds per rep for each. */
    static double[][] interleave(int warmup, int reps, Rep run) throws Exception {
        for (int i = 0; i < warmup; i++) {
            run.run(0);
            run.run(1);
        }
        double[][] s = new double[2][reps];
        for (int i = 0; i < reps; i++) {
            for (int who = 0; who < 2; who++) {
                int w = i % 2 == 0 ? who : 1 - who;               // alternate who goes first
                long t0 = System.nanoTime();
                run.run(w);
                s[w][i] = (System.nanoTime() - t0) / 1e9;
            }
        }
        return s;
    }

    static double median(double[] x) {
        double[] y = x.clone();
        Arrays.sort(y);
        return y.length % 2 == 1 ? y[y.length / 2] : (y[y.length / 2 - 1] + y[y.length / 2]) / 2;
    }

    static double best(double[] x) {
        return Arrays.stream(x).min().orElse(Double.NaN);
    }

    static void train(Arch a, Technique t, int reps) throws Exception {
        int b = 8, seq = 128;
        Workloads.Labeled in = Workloads.synthetic(a, b, seq, 7);
        double flops = Flops.trainingStep(a, t, b, seq), oursFlops = Flops.trainingStep(a, t, b, seq, OursStep.clsOnlyLastLayer(a));
        try (OursStep ours = new OursStep(a, t, 42); TorchStep torch = new TorchStep(a, t, 42)) {
            ours.setBatch(in.batch(), in.labels());
            torch.setBatch(in.batch(), in.labels());
            TrainStep[] impl = {ours, torch};
            // two warm-up steps each: PyTorch's second step still ran ~2× its steady time (allocator and autograd
            // caches), which with one put a slow peer step into every median
            double[][] s = interleave(2, reps, w -> impl[w].step());
            report("train", a + " " + t + " " + b + "x" + seq, s, oursFlops, flops,
                    String.format("trainable ours %,d torch %,d; loss ours %.4f torch %.4f; AdamW state ours %,d B torch %,d B",
                            ours.trainableCount(), torch.trainableCount(), ours.lastLoss(), torch.lastLoss(),
                            ours.optimizerStateBytes(), torch.optimizerStateBytes()));
        }
        System.gc();
    }

    /** Mean step time over {@code count} real batches, dynamic padding vs fixed 128, ours and the peer. */
    static void fpb(Arch a, Technique t, int count) throws Exception {
        for (boolean dynamic : new boolean[]{true, false}) {
            List<Workloads.Labeled> batches = Workloads.fpbBatches(8, count, dynamic);
            int tokens = batches.stream().mapToInt(l -> l.batch().batchSize() * l.batch().seqLen()).sum();
            int real = batches.stream().mapToInt(Workloads.Labeled::realTokens).sum();
            double flops = batches.stream().mapToDouble(l -> Flops.trainingStep(a, t, 8, l.batch().seqLen())).sum() / count;
            double oursFlops = batches.stream().mapToDouble(l -> Flops.trainingStep(a, t, 8, l.batch().seqLen(), OursStep.clsOnlyLastLayer(a))).sum() / count;
            try (OursStep ours = new OursStep(a, t, 42); TorchStep torch = new TorchStep(a, t, 42)) {
                TrainStep[] impl = {ours, torch};
                int[] next = {0, 0};
                // one rep = the whole list of batches
                double[][] s = interleave(1, QUICK ? 2 : 3, w -> {
                    for (Workloads.Labeled l : batches) {
                        impl[w].setBatch(l.batch(), l.labels());
                        impl[w].step();
                    }
                });
                for (double[] row : s) for (int i = 0; i < row.length; i++) row[i] /= count; // per batch
                report("fpb", a + " " + t + " 8x" + (dynamic ? "dynamic" : "128") + String.format(" (%d batches, mean T %.1f, %.0f%% real tokens)",
                        count, (double) tokens / (8 * count), 100.0 * real / tokens), s, oursFlops, flops,
                        "GFLOP count of the padded batch (ours skips padding rows: its GFLOPS overstate)");
            }
            System.gc();
        }
    }

    public static void report(String kind, String what, double[][] s, double flops, String note) {
        report(kind, what, s, flops, flops, note);
    }

    /**
     * One RESULT line. GFLOPS and MFU divide the products each side runs ({@code oursFlops} may be fewer: the BERT
     * classifier's last layer on [CLS] rows) by its best time; the ratio is of median times, whatever the work.
     */
    public static void report(String kind, String what, double[][] s, double oursFlops, double flops, String note) {
        double mo = median(s[0]), mp = median(s[1]);
        double peak = gemm();
        System.out.printf("RESULT %s | %s | ours best %.3f s median %.3f s | peer best %.3f s median %.3f s | ratio(median) %.2f"
                        + " | %.1f GFLOP/step (ours %.1f) | ours %.1f GFLOPS MFU %.0f%% | peer %.1f GFLOPS MFU %.0f%% | %s%n",
                kind, what, best(s[0]), mo, best(s[1]), mp, mo / mp, flops / 1e9, oursFlops / 1e9,
                oursFlops / best(s[0]) / 1e9, 100 * oursFlops / best(s[0]) / 1e9 / peak,
                flops / best(s[1]) / 1e9, 100 * flops / best(s[1]) / 1e9 / peak, note);
        System.out.println("  ours  s: " + Arrays.toString(s[0]));
        System.out.println("  peer  s: " + Arrays.toString(s[1]));
    }

    /** One implementation and technique per JVM, so peak RSS belongs to it alone. */
    static void memory(Arch a, Technique t, String impl, int steps) throws Exception {
        Workloads.Labeled in = Workloads.synthetic(a, 8, 128, 7);
        long rss0 = Machine.rssBytes(), hwm0 = Machine.peakRssBytes();
        TrainStep step = impl.equals("torch") ? new TorchStep(a, t, 42) : new OursStep(a, t, 42);
        long rssModel = Machine.rssBytes();
        step.setBatch(in.batch(), in.labels());
        long best = Long.MAX_VALUE;
        for (int i = 0; i < steps; i++) {
            long t0 = System.nanoTime();
            step.step();
            best = Math.min(best, System.nanoTime() - t0);
        }
        long wsBytes = 0;
        for (var ws : Nd4j.getWorkspaceManager().getAllWorkspacesForCurrentThread()) wsBytes += ws.getCurrentSize();
        System.out.printf("MEMORY %s %s %s | RSS before model %,d MB | after model %,d MB | peak RSS (VmHWM) %,d MB | RSS now %,d MB"
                        + " | process physical bytes (JavaCPP) %,d MB | ND4J step workspace %,d MB | AdamW state %,d B | best step %.3f s%n",
                a, t, impl, rss0 >> 20, rssModel >> 20, Machine.peakRssBytes() >> 20, Machine.rssBytes() >> 20,
                Pointer.physicalBytes() >> 20, wsBytes >> 20, step.optimizerStateBytes(), best / 1e9);
        step.close();
    }

    private Compare() {
    }
}
