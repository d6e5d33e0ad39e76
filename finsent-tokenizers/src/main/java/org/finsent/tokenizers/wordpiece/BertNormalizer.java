package org.finsent.tokenizers.wordpiece;

import org.finsent.tokenizers.CharClass;

import java.text.Normalizer;
import java.util.Locale;

/**
 * Hugging Face's {@code BertNormalizer}, in its order: clean text (drop NUL, U+FFFD and controls, map whitespace
 * to a space) → space around CJK ideographs → strip accents (NFD of the whole text, drop Mn) → lowercase (each
 * code point on its own, full mapping, so {@code Σ} is always {@code σ} and {@code İ} becomes {@code i̇}).
 * Every output char remembers the original char span it came from, so token offsets point into the original
 * text. When NFD canonically reorders combining marks, the spans stay at their code-point positions (they do not
 * move with the marks), which is what Hugging Face's alignment tracking does too.
 *
 * @param cleanText          drop controls and normalise whitespace
 * @param handleChineseChars surround CJK ideographs with spaces
 * @param stripAccents       remove accents; Hugging Face's default ({@code null} in its config) is "same as lowercase"
 * @param lowercase          lowercase
 */
public record BertNormalizer(boolean cleanText, boolean handleChineseChars, boolean stripAccents, boolean lowercase) {

    /** The normalised text of a stretch plus, per output char, the original UTF-16 span it came from. */
    record Normalized(String text, int[] origStart, int[] origEnd) {
    }

    /** A string under construction with a source span per char. */
    private static final class Aligned {
        final StringBuilder text;
        int[] start, end;

        Aligned(int capacity) {
            text = new StringBuilder(capacity);
            start = new int[Math.max(capacity, 8)];
            end = new int[start.length];
        }

        void add(char c, int s, int e) {
            int n = text.length();
            if (n == start.length) {
                start = java.util.Arrays.copyOf(start, n * 2);
                end = java.util.Arrays.copyOf(end, n * 2);
            }
            text.append(c);
            start[n] = s;
            end[n] = e;
        }

        void add(CharSequence cs, int s, int e) {
            for (int i = 0; i < cs.length(); i++) add(cs.charAt(i), s, e);
        }
    }

    Normalized normalize(String s, int from, int to) {
        // 1. clean text and CJK spacing, per code point
        Aligned a = new Aligned(to - from + 8);
        boolean ascii = true;
        for (int k = from; k < to; ) {
            int cp = s.codePointAt(k);
            int cc = Math.min(Character.charCount(cp), to - k);
            int ks = k;
            k += cc;
            if (cleanText) {
                if (cp == 0 || cp == 0xFFFD || CharClass.isBertControl(cp)) continue;
                if (CharClass.isBertWhitespace(cp)) cp = ' ';
            }
            if (cp < 0x80) {
                a.add((char) cp, ks, k);
                continue;
            }
            ascii = false;
            if (handleChineseChars && CharClass.isChineseChar(cp)) {
                a.add(' ', ks, k);
                a.add(s.substring(ks, k), ks, k);
                a.add(' ', ks, k);
            } else {
                a.add(s.substring(ks, k), ks, k);
            }
        }
        if (ascii) {
            if (lowercase) {
                for (int i = 0; i < a.text.length(); i++) {
                    char c = a.text.charAt(i);
                    if (c >= 'A' && c <= 'Z') a.text.setCharAt(i, (char) (c + 32));
                }
            }
            return new Normalized(a.text.toString(), a.start, a.end);
        }
        // 2. strip accents: NFD of the whole text, then drop non-spacing marks. Spans are assigned by code-point
        //    position in the decomposed text, before canonical reordering (as Hugging Face's alignments are).
        if (stripAccents) {
            String src = a.text.toString();
            int[] ds = new int[src.length() * 4 + 8], de = new int[ds.length];
            int n = 0;
            for (int i = 0; i < src.length(); ) {
                int cp = src.codePointAt(i);
                int cc = Character.charCount(cp);
                String dec = Normalizer.normalize(src.substring(i, i + cc), Normalizer.Form.NFD);
                for (int k = dec.codePointCount(0, dec.length()); k > 0; k--) {
                    if (n == ds.length) {
                        ds = java.util.Arrays.copyOf(ds, n * 2);
                        de = java.util.Arrays.copyOf(de, n * 2);
                    }
                    ds[n] = a.start[i];
                    de[n++] = a.end[i];
                }
                i += cc;
            }
            String nfd = Normalizer.normalize(src, Normalizer.Form.NFD);
            Aligned f = new Aligned(nfd.length());
            int pos = 0;
            for (int i = 0; i < nfd.length(); pos++) {
                int cp = nfd.codePointAt(i);
                int cc = Character.charCount(cp);
                if (!CharClass.isBertNonSpacingMark(cp)) f.add(nfd.substring(i, i + cc), ds[pos], de[pos]);
                i += cc;
            }
            a = f;
        }
        // 3. lowercase, per code point
        if (lowercase) {
            Aligned l = new Aligned(a.text.length() + 8);
            String src = a.text.toString();
            for (int i = 0; i < src.length(); ) {
                int cp = src.codePointAt(i);
                int cc = Character.charCount(cp);
                if (cp < 0x80) {
                    l.add((char) (cp >= 'A' && cp <= 'Z' ? cp + 32 : cp), a.start[i], a.end[i]);
                } else {
                    l.add(new String(Character.toChars(cp)).toLowerCase(Locale.ROOT), a.start[i], a.end[i]);
                }
                i += cc;
            }
            a = l;
        }
        return new Normalized(a.text.toString(), a.start, a.end);
    }
}
