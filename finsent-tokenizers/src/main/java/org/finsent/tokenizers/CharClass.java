package org.finsent.tokenizers;

/**
 * Character classes with the exact definitions Hugging Face {@code tokenizers} uses. The BERT classes come from
 * the Rust {@code unicode_categories} crate, whose tables are Unicode 8.0: {@link BertCategories} holds them, so
 * results do not depend on the JDK's Unicode version (13.0 in Java 17). Java's own predicates differ
 * ({@code Character.isWhitespace} excludes U+00A0 and includes U+001C..U+001F, for example), so each rule is
 * spelled out here.
 */
public final class CharClass {
    private CharClass() {
    }

    /**
     * The Unicode White_Space property: Rust's {@code char::is_whitespace} and Oniguruma's Unicode {@code \s}.
     * U+0009..U+000D, U+0020, U+0085, U+00A0, U+1680, U+2000..U+200A, U+2028, U+2029, U+202F, U+205F, U+3000.
     */
    public static boolean isWhiteSpace(int cp) {
        if (cp < 0x80) return cp == 0x20 || (cp >= 0x09 && cp <= 0x0D);
        return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028
                || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
    }

    /** {@code \p{L}}: general categories Lu, Ll, Lt, Lm, Lo. */
    public static boolean isLetter(int cp) {
        return Character.isLetter(cp);
    }

    /** {@code \p{N}}: general categories Nd, Nl, No. */
    public static boolean isNumber(int cp) {
        int t = Character.getType(cp);
        return t == Character.DECIMAL_DIGIT_NUMBER || t == Character.LETTER_NUMBER || t == Character.OTHER_NUMBER;
    }

    /**
     * BERT's "control": the {@code unicode_categories} crate's {@code is_other}, i.e. Cc, Cf or Co (not Cn, not
     * Cs) in Unicode 8.0, except tab, newline and carriage return, which BERT treats as whitespace. (Format
     * characters assigned later, such as U+08E2, are not controls for Hugging Face.)
     */
    public static boolean isBertControl(int cp) {
        if (cp == '\t' || cp == '\n' || cp == '\r') return false;
        return BertCategories.in(BertCategories.OTHER, cp);
    }

    /** Non-spacing mark (Mn) as Hugging Face's accent stripping sees it (Unicode 8.0 data). */
    public static boolean isBertNonSpacingMark(int cp) {
        return BertCategories.in(BertCategories.NON_SPACING_MARK, cp);
    }

    /** BERT's whitespace: tab, newline, carriage return, or White_Space. */
    public static boolean isBertWhitespace(int cp) {
        return isWhiteSpace(cp);
    }

    /**
     * BERT's punctuation: any of the 32 ASCII punctuation/symbol characters (so {@code $ + < = > ^ ` | ~} count)
     * or a P* category (Pc, Pd, Ps, Pe, Pi, Pf, Po) in Unicode 8.0, the data of the Rust crate Hugging Face uses.
     * Non-ASCII symbols such as € or ° do not count; nor does punctuation assigned after 8.0 (U+2E43...).
     */
    public static boolean isBertPunctuation(int cp) {
        if (cp < 0x80) {
            return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126);
        }
        return BertCategories.in(BertCategories.PUNCTUATION, cp);
    }

    /**
     * CJK ideographs that BERT surrounds with spaces (Hugging Face's ranges, which end the extension block at
     * U+2CEAF from U+2B920, unlike Google's U+2B820). Hangul, Hiragana and Katakana are not included.
     */
    public static boolean isChineseChar(int cp) {
        return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF)
                || (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F)
                || (cp >= 0x2B920 && cp <= 0x2CEAF) || (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
    }
}
