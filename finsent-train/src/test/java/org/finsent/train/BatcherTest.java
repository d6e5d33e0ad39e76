package org.finsent.train;

import org.finsent.core.data.Example;
import org.finsent.tokenizers.TokenizerOptions;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Determinism in (seed, epoch), dynamic padding, truncation, and what length grouping buys on real data. */
class BatcherTest {

    private static int[] order(List<Batcher.LabeledBatch> batches) {
        return batches.stream().flatMapToInt(b -> Arrays.stream(b.indices())).toArray();
    }

    @Test
    void batchesAreAFunctionOfSeedAndEpoch() {
        Batcher batcher = new Batcher(Fixtures.tokenizer(), 32);
        Batcher.Tokenized data = batcher.tokenize(Fixtures.synthetic(203, 1));
        for (boolean group : new boolean[]{false, true}) {
            var a = batcher.trainBatches(data, 8, group, 42, 0);
            var again = batcher.trainBatches(data, 8, group, 42, 0);
            assertArrayEquals(order(a), order(again));
            for (int i = 0; i < a.size(); i++) {
                assertArrayEquals(a.get(i).batch().inputIds(), again.get(i).batch().inputIds());
                assertArrayEquals(a.get(i).labels(), again.get(i).labels());
            }
            int[] sorted = order(a).clone();
            Arrays.sort(sorted);
            for (int i = 0; i < sorted.length; i++) assertEquals(i, sorted[i], "every example exactly once per epoch");
            assertEquals(26, a.size(), "ceil(203 / 8) batches, the last one short");
            assertFalse(Arrays.equals(order(a), order(batcher.trainBatches(data, 8, group, 42, 1))), "epochs differ");
            assertFalse(Arrays.equals(order(a), order(batcher.trainBatches(data, 8, group, 43, 0))), "seeds differ");
        }
    }

    @Test
    void eachBatchIsPaddedToItsLongestWithTheTokenizersPadIdAndSide() {
        var left = Fixtures.tokenizer().withOptions(Fixtures.tokenizer().options().withPadId(7).withPaddingSide(TokenizerOptions.Side.LEFT)
                .withPadding(TokenizerOptions.Padding.MAX_LENGTH)); // padding option ignored: no padding at tokenization
        for (var tok : List.of(Fixtures.tokenizer(), left)) {
            Batcher batcher = new Batcher(tok, 20);
            List<Example> ex = Fixtures.synthetic(50, 2);
            Batcher.Tokenized data = batcher.tokenize(ex);
            int padId = tok == left ? 7 : 0;
            for (int i = 0; i < data.size(); i++) {
                assertTrue(data.length(i) <= 20, "truncated to maxSeqLength");
                assertEquals(data.length(i), data.encodings().get(i).unpaddedLength(), "no padding at tokenization");
            }
            for (var b : batcher.trainBatches(data, 8, true, 5, 0)) {
                int longest = Arrays.stream(b.indices()).map(data::length).max().orElseThrow();
                assertEquals(longest, b.batch().seqLen(), "padded to the batch's longest, not to maxSeqLength");
                long real = 0;
                for (int r = 0; r < b.size(); r++) {
                    int n = data.length(b.indices()[r]);
                    int[] mask = b.batch().attentionMask()[r], ids = b.batch().inputIds()[r];
                    real += Arrays.stream(mask).sum();
                    assertEquals(n, Arrays.stream(mask).sum());
                    int padStart = tok == left ? 0 : n, realStart = tok == left ? longest - n : 0;
                    for (int k = 0; k < longest - n; k++) assertEquals(padId, ids[padStart + k]);
                    assertArrayEquals(data.encodings().get(b.indices()[r]).ids(), Arrays.copyOfRange(ids, realStart, realStart + n));
                    assertEquals(ex.get(b.indices()[r]).label(), b.labels()[r]);
                }
                assertEquals(real, b.realTokens());
            }
        }
    }

    @Test
    void gpt2NeedsAPadIdAndPadsWithTheOneGiven() throws Exception {
        java.nio.file.Path dir = Fixtures.sharedDir().resolve("models/gpt2");
        org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.Files.isRegularFile(dir.resolve("vocab.json")),
                () -> "shared GPT-2 tokenizer not found: " + dir.resolve("vocab.json"));
        var gpt2 = org.finsent.tokenizers.Tokenizer.load(dir);
        var e = assertThrows(IllegalArgumentException.class, () -> new Batcher(gpt2, 64));
        assertTrue(e.getMessage().contains("withPadId"), e.getMessage());
        var padded = new Batcher(gpt2.withOptions(gpt2.options().withPadId(50256).withPaddingSide(TokenizerOptions.Side.LEFT)), 64);
        var b = padded.evalBatches(padded.tokenize(Fixtures.synthetic(4, 3)), 4).get(0);
        int[] shortest = b.batch().inputIds()[3]; // eval batches sort longest first
        assertTrue(b.realTokens() < b.paddedTokens());
        assertEquals(50256, shortest[0], "left-padded with <|endoftext|>");
        assertEquals(0, b.batch().attentionMask()[3][0]);
        assertEquals(1, b.batch().attentionMask()[3][shortest.length - 1]);
    }

    @Test
    void lengthGroupingCutsPaddingOnFinancialPhraseBank() throws Exception {
        List<Example> fpb = Fixtures.fpb();
        Batcher batcher = new Batcher(Fixtures.tokenizer(), 128);
        Batcher.Tokenized data = batcher.tokenize(fpb);
        double random = 0, grouped = 0;
        for (int epoch = 0; epoch < 3; epoch++) {
            random += Batcher.paddingEfficiency(batcher.trainBatches(data, 16, false, 42, epoch)) / 3;
            grouped += Batcher.paddingEfficiency(batcher.trainBatches(data, 16, true, 42, epoch)) / 3;
        }
        double eval = Batcher.paddingEfficiency(batcher.evalBatches(data, 16));
        System.out.printf("FPB %d sentences, mean %.1f tokens, batch 16: padding efficiency random %.3f, grouped %.3f, eval (sorted) %.3f%n",
                data.size(), (double) data.tokens() / data.size(), random, grouped, eval);
        assertTrue(grouped > random + 0.15, "grouping must remove most padding: " + grouped + " vs " + random);
        assertTrue(grouped > 0.9, "grouped efficiency " + grouped);
    }
}
