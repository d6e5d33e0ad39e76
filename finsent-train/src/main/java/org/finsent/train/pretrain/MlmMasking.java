package org.finsent.train.pretrain;

import org.finsent.core.model.LanguageModelLoss;
import org.finsent.core.nn.Dropout;
import org.finsent.tokenizers.Tokenizer;

import java.util.SplittableRandom;

/**
 * Masked-language-model inputs and labels as Transformers' {@code DataCollatorForLanguageModeling} makes them: each
 * eligible token (not special, not padding) is selected with probability {@code p} (0.15); a selected token is
 * replaced by {@code [MASK]} with probability 0.8, by a token drawn uniformly from the whole vocabulary with
 * probability 0.1, and left unchanged with probability 0.1; its label is the original id, every other label -100.
 *
 * <p><b>Whole-word masking</b> (as {@code DataCollatorForWholeWordMask} means it for WordPiece): a word is a token and
 * the {@code ##} continuations that follow it; the selection draw is made once per word and all its pieces are
 * labelled together (the 80/10/10 replacement is still drawn per piece, as in Transformers). Transformers' whole-word
 * collator picks a fixed number of words, {@code round(p·tokens)}; this draws each word with probability {@code p}
 * instead, which has the same expectation per word and keeps examples independent.
 *
 * <p><b>Dynamic masking.</b> The draws for one example are a pure function of {@code (seed, epoch, example index)}:
 * every epoch masks afresh (RoBERTa's dynamic masking), and a resumed run draws the same masks as the run it
 * continues.
 */
public final class MlmMasking {
    /** What happened to a token, for statistics. */
    public static final byte NOT_SELECTED = 0, MASKED = 1, RANDOM = 2, KEPT = 3;
    private static final long SALT = 0x4D4C4DL; // keeps these streams apart from dropout's, which use the same parts

    private final double probability;
    private final boolean wholeWord;
    private final int maskId, vocabSize;
    private final boolean[] special, continuation;

    /**
     * @param special      by id: tokens never selected (the tokenizer's special tokens)
     * @param continuation by id: WordPiece continuations ({@code ##...}); may be null when not {@code wholeWord}
     */
    public MlmMasking(double probability, boolean wholeWord, int maskId, int vocabSize, boolean[] special, boolean[] continuation) {
        if (!(probability > 0 && probability < 1)) throw new IllegalArgumentException("mlm probability must be in (0, 1), got " + probability);
        if (maskId < 0 || maskId >= vocabSize) throw new IllegalArgumentException("mask id " + maskId + " outside the vocabulary of " + vocabSize);
        if (wholeWord && continuation == null) throw new IllegalArgumentException("whole-word masking needs the continuation tokens");
        this.probability = probability;
        this.wholeWord = wholeWord;
        this.maskId = maskId;
        this.vocabSize = vocabSize;
        this.special = special;
        this.continuation = continuation;
    }

    /** For a WordPiece tokenizer with a {@code [MASK]} token; continuations are the tokens starting with {@code ##}. */
    public static MlmMasking forTokenizer(Tokenizer tok, double probability, boolean wholeWord) {
        int mask = tok.tokenToId("[MASK]");
        if (mask < 0) throw new IllegalArgumentException("the tokenizer has no [MASK] token: masked-LM pretraining needs a BERT-style vocabulary");
        int v = tok.vocabSize();
        boolean[] special = new boolean[v], cont = new boolean[v];
        for (int id = 0; id < v; id++) {
            special[id] = tok.isSpecialId(id);
            String t = tok.idToToken(id);
            cont[id] = t != null && t.startsWith("##");
        }
        return new MlmMasking(probability, wholeWord, mask, v, special, cont);
    }

    /** One example's model inputs, labels (-100 where not predicted) and what was done to each token. */
    public record Masked(int[] inputIds, int[] labels, byte[] kind) {
    }

    /**
     * Masks one example. {@code attention} marks real tokens (null: all real).
     */
    public Masked mask(int[] ids, int[] attention, long seed, int epoch, int example) {
        SplittableRandom r = new SplittableRandom(Dropout.mix(seed, epoch, example, SALT));
        int n = ids.length;
        int[] in = ids.clone(), labels = new int[n];
        byte[] kind = new byte[n];
        java.util.Arrays.fill(labels, LanguageModelLoss.IGNORE);
        boolean selected = false, previousEligible = false;
        for (int i = 0; i < n; i++) {
            boolean eligible = (attention == null || attention[i] != 0) && !isSpecial(ids[i]);
            if (!eligible) {
                previousEligible = false;
                continue;
            }
            // a word goes on while the pieces are ##continuations of an eligible token; each unit draws its selection once
            boolean startsUnit = !wholeWord || !previousEligible || !isContinuation(ids[i]);
            previousEligible = true;
            if (startsUnit) selected = r.nextDouble() < probability;
            if (!selected) continue;
            labels[i] = ids[i];
            double u = r.nextDouble();
            if (u < 0.8) {
                in[i] = maskId;
                kind[i] = MASKED;
            } else if (r.nextDouble() < 0.5) {
                in[i] = r.nextInt(vocabSize);
                kind[i] = RANDOM;
            } else {
                kind[i] = KEPT;
            }
        }
        return new Masked(in, labels, kind);
    }

    private boolean isSpecial(int id) {
        return id >= 0 && id < special.length && special[id];
    }

    private boolean isContinuation(int id) {
        return id >= 0 && id < continuation.length && continuation[id];
    }

    public double probability() {
        return probability;
    }

    public boolean wholeWord() {
        return wholeWord;
    }
}
