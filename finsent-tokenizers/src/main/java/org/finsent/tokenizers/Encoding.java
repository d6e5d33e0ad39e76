package org.finsent.tokenizers;

import java.util.Arrays;

/**
 * The result of encoding one text (or text pair): what a model consumes plus what a person needs to
 * map tokens back to the text. All arrays have the same length {@link #length()}.
 *
 * <p>Offsets are UTF-16 indices into the Java {@code String} that was encoded, so
 * {@code text.substring(startOffsets[i], endOffsets[i])} is the text of token {@code i}. Tokens the
 * post-processor or padding added ({@code [CLS]}, {@code [SEP]}, padding) have offsets {@code (0, 0)}.
 * In a pair, offsets of second-sequence tokens index into the second text ({@link #sequenceIds()} says
 * which). A byte-level BPE token that covers only some bytes of a character gets that whole character's
 * span, as Hugging Face does.
 *
 * @param ids               vocabulary ids
 * @param typeIds           segment ids (BERT token-type ids: 0 for the first sequence, 1 for the second)
 * @param tokens            the vocabulary strings of the ids (byte-level strings for GPT-2, {@code ##} pieces for BERT)
 * @param startOffsets      UTF-16 start index of each token in its source text
 * @param endOffsets        UTF-16 end index (exclusive)
 * @param attentionMask     1 for real tokens, 0 for padding
 * @param specialTokensMask 1 for tokens added by post-processing or padding, 0 for tokens from the text
 * @param sequenceIds       0 or 1 for tokens from the first or second text, -1 for added/padding tokens
 */
public record Encoding(int[] ids, int[] typeIds, String[] tokens, int[] startOffsets, int[] endOffsets,
                       int[] attentionMask, int[] specialTokensMask, int[] sequenceIds) {

    public Encoding {
        int n = ids.length;
        if (typeIds.length != n || tokens.length != n || startOffsets.length != n || endOffsets.length != n
                || attentionMask.length != n || specialTokensMask.length != n || sequenceIds.length != n) {
            throw new IllegalArgumentException("Encoding arrays must all have length " + n);
        }
    }

    /** Number of tokens, padding included. */
    public int length() {
        return ids.length;
    }

    /** Number of non-padding tokens. */
    public int unpaddedLength() {
        int n = 0;
        for (int m : attentionMask) n += m;
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Encoding e && Arrays.equals(ids, e.ids) && Arrays.equals(typeIds, e.typeIds)
                && Arrays.equals(tokens, e.tokens) && Arrays.equals(startOffsets, e.startOffsets)
                && Arrays.equals(endOffsets, e.endOffsets) && Arrays.equals(attentionMask, e.attentionMask)
                && Arrays.equals(specialTokensMask, e.specialTokensMask) && Arrays.equals(sequenceIds, e.sequenceIds);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(ids) * 31 + Arrays.hashCode(attentionMask);
    }

    @Override
    public String toString() {
        return "Encoding" + Arrays.toString(tokens) + " ids=" + Arrays.toString(ids);
    }
}
