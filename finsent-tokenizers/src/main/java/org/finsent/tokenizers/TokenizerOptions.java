package org.finsent.tokenizers;

/**
 * How {@link Tokenizer#encode} post-processes: special tokens, truncation and padding. Immutable; use the
 * {@code with…} methods to derive variants. Defaults ({@link #DEFAULTS}): add special tokens, no
 * truncation, no padding, right side, pad id from the tokenizer.
 *
 * @param addSpecialTokens  add the model's special tokens ({@code [CLS] a [SEP] b [SEP]} for BERT; GPT-2 adds none)
 * @param maxLength         maximum length including special tokens; 0 means unlimited. Used by truncation and by
 *                          {@link Padding#MAX_LENGTH}
 * @param truncation        how to shorten inputs longer than {@code maxLength}
 * @param truncationSide    which end of a sequence is cut
 * @param padding           padding strategy (batch encoding pads to the longest in the batch with {@link Padding#LONGEST})
 * @param paddingSide       which side receives padding
 * @param padId             pad token id, or -1 to use the tokenizer's own ({@code [PAD]} for BERT; GPT-2 has none,
 *                          so it must be set — the usual choice is the {@code <|endoftext|>} id)
 * @param padTypeId         token-type id of padding
 */
public record TokenizerOptions(boolean addSpecialTokens, int maxLength, Truncation truncation, Side truncationSide,
                               Padding padding, Side paddingSide, int padId, int padTypeId) {

    /** Truncation strategies, as Hugging Face names them. */
    public enum Truncation {
        /** Never truncate. */
        NONE,
        /** For pairs, cut the longer sequence first (Hugging Face's {@code longest_first}). */
        LONGEST_FIRST,
        /** Cut only the first sequence. */
        ONLY_FIRST,
        /** Cut only the second sequence. */
        ONLY_SECOND
    }

    /** Padding strategies. */
    public enum Padding {
        /** No padding. */
        NONE,
        /** Pad to the longest encoding of the batch ("dynamic padding"); a single encoding is not padded. */
        LONGEST,
        /** Pad every encoding to {@code maxLength}. */
        MAX_LENGTH
    }

    /** Left or right. */
    public enum Side { LEFT, RIGHT }

    public static final TokenizerOptions DEFAULTS =
            new TokenizerOptions(true, 0, Truncation.NONE, Side.RIGHT, Padding.NONE, Side.RIGHT, -1, 0);

    /** Largest maxLength: each encoding allocates arrays of it when padding, so it must stay sane. */
    public static final int MAX_LENGTH = 1_000_000;

    public TokenizerOptions {
        if (maxLength < 0 || maxLength > MAX_LENGTH) {
            throw new IllegalArgumentException("maxLength must be from 0 to " + MAX_LENGTH + ", got " + maxLength);
        }
        if (truncation == null || truncationSide == null || padding == null || paddingSide == null) {
            throw new IllegalArgumentException("TokenizerOptions fields must not be null");
        }
        if (truncation != Truncation.NONE && maxLength == 0) {
            throw new IllegalArgumentException("truncation " + truncation + " needs maxLength > 0");
        }
        if (padding == Padding.MAX_LENGTH && maxLength == 0) {
            throw new IllegalArgumentException("padding MAX_LENGTH needs maxLength > 0");
        }
    }

    public TokenizerOptions withAddSpecialTokens(boolean add) {
        return new TokenizerOptions(add, maxLength, truncation, truncationSide, padding, paddingSide, padId, padTypeId);
    }

    /** Truncate (longest-first) to {@code max} tokens, special tokens included. */
    public TokenizerOptions withTruncation(int max) {
        return withTruncation(max, Truncation.LONGEST_FIRST);
    }

    public TokenizerOptions withTruncation(int max, Truncation strategy) {
        return new TokenizerOptions(addSpecialTokens, max, strategy, truncationSide, padding, paddingSide, padId, padTypeId);
    }

    public TokenizerOptions withTruncationSide(Side side) {
        return new TokenizerOptions(addSpecialTokens, maxLength, truncation, side, padding, paddingSide, padId, padTypeId);
    }

    public TokenizerOptions withPadding(Padding strategy) {
        return new TokenizerOptions(addSpecialTokens, maxLength, truncation, truncationSide, strategy, paddingSide, padId, padTypeId);
    }

    public TokenizerOptions withPaddingSide(Side side) {
        return new TokenizerOptions(addSpecialTokens, maxLength, truncation, truncationSide, padding, side, padId, padTypeId);
    }

    public TokenizerOptions withPadId(int id) {
        return new TokenizerOptions(addSpecialTokens, maxLength, truncation, truncationSide, padding, paddingSide, id, padTypeId);
    }

    public TokenizerOptions withPadTypeId(int typeId) {
        return new TokenizerOptions(addSpecialTokens, maxLength, truncation, truncationSide, padding, paddingSide, padId, typeId);
    }
}
