package org.finsent.bench;

import org.finsent.core.data.Example;
import org.finsent.core.data.FinancialPhraseBank;
import org.finsent.train.FineTunedModel;
import org.finsent.train.Predictor;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * {@code Compare predictor MODEL_DIR}: a fine-tuned model's {@link Predictor} alone, in this thread, with no server —
 * the references {@code finsent serve}'s load test is held against (docs/BENCHMARKS.md, "finsent serve: load
 * test"). Batch 1: {@code predict(text)} on the first FinancialPhraseBank dev sentence of at most
 * {@value #SHORT_WORDS} words (the load script's one-connection text); median and p99 of single calls. Batch 32:
 * {@code predict} on consecutive chunks of 32 dev sentences in file order (the texts the script's 16 connections
 * cycle through), texts per second of each pass over {@value #CHUNKS} chunks; the same in chunks of 16 (what 16
 * clients can fill). Both include tokenization and the
 * softmax, as the service's calls do.
 */
public final class PredictorBench {
    static final int SHORT_WORDS = 8, CHUNKS = 20, BATCH = 32;

    private PredictorBench() {
    }

    /** The FinancialPhraseBank dev sentences in file order. */
    static List<String> fpbTexts() throws Exception {
        Path f = BenchData.shared().resolve("data/financial_phrasebank/Sentences_50Agree.dev.txt");
        if (!Files.isRegularFile(f)) throw new IllegalStateException("FinancialPhraseBank dev file not found: " + f);
        return FinancialPhraseBank.read(f).examples().stream().map(Example::text).toList();
    }

    /** The first sentence of at most {@value #SHORT_WORDS} words. */
    static String shortText(List<String> texts) {
        return texts.stream().filter(t -> t.trim().split("\\s+").length <= SHORT_WORDS).findFirst()
                .orElseThrow(() -> new IllegalStateException("no sentence of at most " + SHORT_WORDS + " words"));
    }

    public static void run(String[] args) throws Exception {
        if (args.length < 2) throw new IllegalArgumentException("usage: Compare predictor MODEL_DIR [calls]");
        int calls = args.length > 2 ? Integer.parseInt(args[2]) : Compare.QUICK ? 200 : 500;
        FineTunedModel m = FineTunedModel.load(Path.of(args[1]));
        Predictor p = new Predictor(m.model(), m.tokenizer(), m.labels(), m.maxSeqLength(), BATCH);
        List<String> texts = fpbTexts();
        String one = shortText(texts);
        System.out.printf("PREDICTOR model %s (%s, max %d tokens), short text \"%s\"%n", args[1], m.info().baseModel(),
                m.maxSeqLength(), one);

        for (int i = 0; i < 100; i++) p.predict(one); // JIT, workspace
        double[] ms = new double[calls];
        for (int i = 0; i < calls; i++) {
            long t0 = System.nanoTime();
            p.predict(one);
            ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(ms);
        System.out.printf("PREDICTOR batch 1: median %.2f ms, p10 %.2f, p90 %.2f, p99 %.2f ms (%d calls)%n",
                ms[calls / 2], ms[calls / 10], ms[calls * 9 / 10], ms[Math.min(calls - 1, calls * 99 / 100)], calls);

        for (int batch : new int[]{16, BATCH}) {
            List<List<String>> chunks = new java.util.ArrayList<>();
            for (int c = 0; c < CHUNKS * BATCH / batch; c++) chunks.add(texts.subList(c * batch, (c + 1) * batch));
            for (int c = 0; c < 5; c++) p.predict(chunks.get(c));
            int passes = Compare.QUICK ? 5 : 9;
            double[] rate = new double[passes];
            for (int r = 0; r < passes; r++) {
                long t0 = System.nanoTime();
                for (List<String> c : chunks) p.predict(c);
                rate[r] = CHUNKS * BATCH / ((System.nanoTime() - t0) / 1e9);
            }
            Arrays.sort(rate);
            System.out.printf("PREDICTOR batch %d: median %.1f texts/s, best %.1f, worst %.1f (%d passes over %d sentences)%n",
                    batch, rate[passes / 2], rate[passes - 1], rate[0], passes, CHUNKS * BATCH);
        }
    }
}
