package org.finsent.train.pretrain;

import org.finsent.core.model.LanguageModelLoss;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Masking statistics over many tokens, against binomial bounds: a count of successes in n trials with probability q
 * lies within {@code n·q ± 5·sqrt(n·q·(1−q))} except with probability below 1e-6 (the draws are seeded, so the test
 * is deterministic; the bound says the seeded outcome is no accident). Specials and padding are never selected;
 * whole words are labelled together; masks change with the epoch and repeat for the same (seed, epoch, example).
 */
class MlmMaskingTest {
    static final int V = 1000, MASK = 3, PAD = 0, CLS = 1, SEP = 2;
    static final boolean[] SPECIAL = new boolean[V], CONT = new boolean[V];

    static {
        for (int i = 0; i < 5; i++) SPECIAL[i] = true;                 // [PAD] [CLS] [SEP] [MASK] [UNK]
        for (int i = 500; i < V; i++) CONT[i] = true;                  // "##..." pieces
    }

    /** [CLS] tokens... [SEP] [PAD]...; about a third of the tokens are continuations. */
    static int[][] example(SplittableRandom r, int length) {
        int real = 8 + r.nextInt(length - 8);
        int[] ids = new int[length], att = new int[length];
        ids[0] = CLS;
        for (int i = 1; i < real - 1; i++) ids[i] = r.nextInt(3) == 0 && i > 1 ? 500 + r.nextInt(500) : 5 + r.nextInt(495);
        ids[real - 1] = SEP;
        for (int i = 0; i < real; i++) att[i] = 1;
        return new int[][]{ids, att};
    }

    static void assertBinomial(String what, long successes, long n, double q) {
        double mean = n * q, bound = 5 * Math.sqrt(n * q * (1 - q));
        assertTrue(Math.abs(successes - mean) <= bound, String.format("%s: %d of %d, expected %.1f ± %.1f", what, successes, n, mean, bound));
    }

    @Test
    void fifteenPercentSelectedThenEightyTenTen() {
        MlmMasking m = new MlmMasking(0.15, false, MASK, V, SPECIAL, CONT);
        SplittableRandom r = new SplittableRandom(1);
        long eligible = 0, selected = 0, masked = 0, random = 0, kept = 0;
        for (int e = 0; e < 3000; e++) {
            int[][] x = example(r, 48);
            int[] ids = x[0], att = x[1];
            var out = m.mask(ids, att, 42, 0, e);
            for (int i = 0; i < ids.length; i++) {
                boolean el = att[i] == 1 && !SPECIAL[ids[i]];
                if (!el) {
                    assertEquals(MlmMasking.NOT_SELECTED, out.kind()[i], "special or padding selected at " + i);
                    assertEquals(ids[i], out.inputIds()[i]);
                }
                if (el) eligible++;
                switch (out.kind()[i]) {
                    case MlmMasking.NOT_SELECTED -> {
                        assertEquals(LanguageModelLoss.IGNORE, out.labels()[i]);
                        assertEquals(ids[i], out.inputIds()[i]);
                    }
                    case MlmMasking.MASKED -> {
                        masked++;
                        assertEquals(MASK, out.inputIds()[i]);
                    }
                    case MlmMasking.RANDOM -> {
                        random++;
                        assertTrue(out.inputIds()[i] >= 0 && out.inputIds()[i] < V);
                    }
                    default -> {
                        kept++;
                        assertEquals(ids[i], out.inputIds()[i]);
                    }
                }
                if (out.kind()[i] != MlmMasking.NOT_SELECTED) {
                    selected++;
                    assertEquals(ids[i], out.labels()[i], "the label is the original token");
                }
            }
        }
        assertTrue(eligible > 50_000, "enough tokens: " + eligible);
        assertBinomial("selected", selected, eligible, 0.15);
        assertBinomial("[MASK] of selected", masked, selected, 0.8);
        assertBinomial("random of selected", random, selected, 0.1);
        assertBinomial("kept of selected", kept, selected, 0.1);
        assertEquals(selected, masked + random + kept);
    }

    @Test
    void wholeWordsAreLabelledTogether() {
        MlmMasking m = new MlmMasking(0.15, true, MASK, V, SPECIAL, CONT);
        SplittableRandom r = new SplittableRandom(2);
        long words = 0, selectedWords = 0, multiPieceSelected = 0, selectedTokens = 0, masked = 0;
        for (int e = 0; e < 3000; e++) {
            int[][] x = example(r, 40);
            int[] ids = x[0], att = x[1];
            var out = m.mask(ids, att, 7, 3, e);
            int i = 0;
            while (i < ids.length) {
                if (att[i] == 0 || SPECIAL[ids[i]]) {
                    assertEquals(LanguageModelLoss.IGNORE, out.labels()[i]);
                    i++;
                    continue;
                }
                int end = i + 1;
                while (end < ids.length && att[end] == 1 && CONT[ids[end]]) end++;   // the word's ## pieces
                boolean sel = out.labels()[i] != LanguageModelLoss.IGNORE;
                for (int k = i; k < end; k++) {
                    assertEquals(sel, out.labels()[k] != LanguageModelLoss.IGNORE, "word [" + i + ", " + end + ") split at " + k);
                    if (sel) {
                        selectedTokens++;
                        if (out.kind()[k] == MlmMasking.MASKED) masked++;
                    }
                }
                words++;
                if (sel) {
                    selectedWords++;
                    if (end - i > 1) multiPieceSelected++;
                }
                i = end;
            }
        }
        assertBinomial("selected words", selectedWords, words, 0.15);
        assertBinomial("[MASK] of selected pieces", masked, selectedTokens, 0.8);
        assertTrue(multiPieceSelected > 100, "multi-piece words were selected: " + multiPieceSelected);
    }

    @Test
    void dynamicMaskingIsFreshPerEpochAndReproducible() {
        MlmMasking m = new MlmMasking(0.15, false, MASK, V, SPECIAL, CONT);
        int[][] x = example(new SplittableRandom(3), 64);
        var a = m.mask(x[0], x[1], 42, 0, 5);
        var again = m.mask(x[0], x[1], 42, 0, 5);
        assertArrayEquals(a.inputIds(), again.inputIds());
        assertArrayEquals(a.labels(), again.labels());
        int differentEpochs = 0, differentExamples = 0, differentSeeds = 0;
        for (int epoch = 1; epoch <= 20; epoch++) if (!Arrays.equals(a.labels(), m.mask(x[0], x[1], 42, epoch, 5).labels())) differentEpochs++;
        for (int ex = 6; ex < 26; ex++) if (!Arrays.equals(a.labels(), m.mask(x[0], x[1], 42, 0, ex).labels())) differentExamples++;
        for (int s = 43; s < 63; s++) if (!Arrays.equals(a.labels(), m.mask(x[0], x[1], s, 0, 5).labels())) differentSeeds++;
        // two independent masks of ~60 tokens coincide with probability < 0.87^60 ≈ 2e-4: all 20 must differ
        assertEquals(20, differentEpochs);
        assertEquals(20, differentExamples);
        assertEquals(20, differentSeeds);
    }

    @Test
    void badOptionsAreRefused() {
        assertFalse(assertThrowsMessage(() -> new MlmMasking(0, false, MASK, V, SPECIAL, CONT)).isEmpty());
        assertFalse(assertThrowsMessage(() -> new MlmMasking(0.15, false, V, V, SPECIAL, CONT)).isEmpty());
        assertFalse(assertThrowsMessage(() -> new MlmMasking(0.15, true, MASK, V, SPECIAL, null)).isEmpty());
    }

    private static String assertThrowsMessage(Runnable r) {
        return org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, r::run).getMessage();
    }
}
