package org.finsent.tokenizers.bpe;

import org.finsent.tokenizers.CharClass;

/**
 * GPT-2's pre-tokenisation, written out by hand instead of running the regex
 * <pre>'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+</pre>
 * with Unicode {@code \s} (White_Space). It returns the same pieces as the regex (the tests check this against
 * {@link java.util.regex.Pattern} on a stress corpus) at a fraction of the cost. Contractions are
 * case-sensitive and use the ASCII apostrophe only; digit runs are unbounded; a whitespace run followed by a
 * non-space keeps its last character for the next piece ({@code "a   b"} gives {@code a, "  ", " b"}).
 */
public final class Gpt2PreTokenizer {
    private Gpt2PreTokenizer() {
    }

    /** The regex itself: the reference the hand-written scanner is tested against. */
    public static final String PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

    private static final byte WS = 0, LETTER = 1, NUMBER = 2, OTHER = 3;
    private static final byte[] ASCII = new byte[128];

    static {
        for (int c = 0; c < 128; c++) ASCII[c] = classifySlow(c);
    }

    private static byte classifySlow(int cp) {
        if (CharClass.isWhiteSpace(cp)) return WS;
        if (CharClass.isLetter(cp)) return LETTER;
        if (CharClass.isNumber(cp)) return NUMBER;
        return OTHER;
    }

    private static byte classAt(String s, int i) {
        char c = s.charAt(i);
        if (c < 128) return ASCII[c];
        return classifySlow(Character.isSurrogate(c) ? s.codePointAt(i) : c);
    }

    /** Index after the code point at {@code i} (surrogate pairs count as one). */
    private static int step(String s, int i, int end) {
        return Character.isHighSurrogate(s.charAt(i)) && i + 1 < end && Character.isLowSurrogate(s.charAt(i + 1)) ? i + 2 : i + 1;
    }

    private static int run(String s, int i, int end, byte cls) {
        while (i < end && classAt(s, i) == cls) i = step(s, i, end);
        return i;
    }

    /** End (exclusive) of the piece that starts at {@code i}; {@code i < end}. */
    public static int nextEnd(String s, int i, int end) {
        char c = s.charAt(i);
        if (c == '\'' && i + 1 < end) {
            char d = s.charAt(i + 1);
            if (d == 's' || d == 't' || d == 'm' || d == 'd') return i + 2;
            if (i + 2 < end) {
                char e = s.charAt(i + 2);
                if ((d == 'r' && e == 'e') || (d == 'v' && e == 'e') || (d == 'l' && e == 'l')) return i + 3;
            }
        }
        int j = c == ' ' ? i + 1 : i;
        if (j < end) {
            byte cls = classAt(s, j);
            if (cls != WS) return run(s, step(s, j, end), end, cls);
        }
        // whitespace: \s+(?!\S) leaves the last space of a run for the next word, else \s+
        int k = run(s, i, end, WS);
        return (k < end && k - i >= 2) ? k - 1 : k;
    }
}
