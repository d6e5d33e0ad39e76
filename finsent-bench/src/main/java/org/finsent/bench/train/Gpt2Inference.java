package org.finsent.bench.train;

import org.finsent.bench.BenchData;
import org.finsent.bench.Compare;
import org.finsent.core.data.Example;
import org.finsent.core.model.Batch;
import org.finsent.core.model.Gpt2ForSequenceClassification;
import org.finsent.tokenizers.Tokenizer;
import org.finsent.tokenizers.TokenizerLoader;
import org.finsent.train.StepMemory;
import org.nd4j.linalg.api.memory.MemoryWorkspace;


/**
 * GPT-2 small classifier, batch of one short FinancialPhraseBank sentence (GPT-2 BPE, no padding), eval mode:
 * FinSent's {@link Gpt2ForSequenceClassification} (in an ND4J workspace, as {@code Predictor} runs it) against the
 * same classifier on libtorch via DJL ({@link TorchStep#evalForward()}: dropout off, no autograd). Random weights on
 * both sides (time depends on shapes only). Each side is timed on its own: a block of reps after its warm-up.
 */
public final class Gpt2Inference {
    private Gpt2Inference() {
    }

    /** The first FinancialPhraseBank sentence (study order) of {@code minTokens}–{@code maxTokens} GPT-2 tokens. */
    static Batch sentence(int minTokens, int maxTokens) throws Exception {
        var shared = BenchData.shared();
        Tokenizer gpt2 = TokenizerLoader.gpt2(shared.resolve("models/gpt2/vocab.json"), shared.resolve("models/gpt2/merges.txt"));
        for (Example e : Workloads.fpb(42)) {
            int[] ids = gpt2.encodeIds(e.text());
            if (ids.length >= minTokens && ids.length <= maxTokens) {
                System.out.printf("GPT-2 input: %d tokens: %s%n", ids.length, e.text());
                return Batch.of(new int[][]{ids});
            }
        }
        throw new IllegalStateException("no FinancialPhraseBank sentence of " + minTokens + "–" + maxTokens + " GPT-2 tokens");
    }

    /** The {@code Compare gpt2-infer} mode: ours alone, then PyTorch alone, then ours again (drift check). */
    public static void alone(int reps) throws Exception {
        Batch b = sentence(17, 20);
        Gpt2ForSequenceClassification ours = (Gpt2ForSequenceClassification) Arch.GPT2_SMALL.newModel(42);
        ours.train(false);
        String ws = "finsent-bench-gpt2-infer";
        Compare.Task oursRun = () -> {
            try (MemoryWorkspace w = StepMemory.step(ws)) {
                ours.forward(b).getDouble(0, 0);
            }
        };
        try (TorchStep torch = new TorchStep(Arch.GPT2_SMALL, Technique.FULL, 42)) {
            torch.setBatch(b, new int[1]);
            String what = "GPT-2 small 1x" + b.seqLen() + " forward (eval, no grad)";
            double[] o1 = Inference.time(reps, oursRun);
            double[] p = Inference.time(reps, torch::evalForward);
            double[] o2 = Inference.time(reps, oursRun);
            System.out.printf("ALONE %s ours: best %.2f ms median %.2f ms (again after PyTorch: best %.2f median %.2f)%n",
                    what, o1[0], o1[1], o2[0], o2[1]);
            System.out.printf("ALONE %s PyTorch: best %.2f ms median %.2f ms%n", what, p[0], p[1]);
            System.out.printf("RESULT gpt2-infer | %s | ours best %.2f ms median %.2f ms | PyTorch best %.2f ms median %.2f ms"
                    + " | ratio(median) %.2f | %.2f GFLOP (ours %.1f GFLOPS by its best)%n", what, o1[0], o1[1], p[0], p[1],
                    o1[1] / p[1], Flops.forward(Arch.GPT2_SMALL, 1, b.seqLen()) / 1e9,
                    Flops.forward(Arch.GPT2_SMALL, 1, b.seqLen()) / o1[0] / 1e6);
        } finally {
            StepMemory.release(ws);
        }
    }
}
