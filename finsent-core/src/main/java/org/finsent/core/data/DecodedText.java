package org.finsent.core.data;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

/**
 * A whole text file decoded once, remembering which lines held bytes that are not valid in the charset.
 *
 * <p>Why not a {@code Reader}: a {@code Reader} either throws at the first bad byte without saying where, or
 * silently replaces it. The readers need both the text and, per line, whether it decoded cleanly, so that a bad
 * byte becomes a bad row with a line number (fail or skip) instead of an anonymous
 * {@code MalformedInputException} or a silent U+FFFD in the training data.
 *
 * <p>Lines end at CR LF, LF or a lone CR, like commons-csv; the byte-level and the character-level line numbers
 * agree because CR and LF never occur inside a multi-byte UTF-8 sequence.
 */
final class DecodedText {
    static final byte[] UTF8_BOM = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};

    /** The decoded text, BOM removed, bad byte sequences replaced by U+FFFD. */
    final String text;
    /** 1-based numbers of the lines that held undecodable bytes. */
    final BitSet badLines;
    /** Whether the input started with a UTF-8 byte-order mark. */
    final boolean hadBom;

    private DecodedText(String text, BitSet badLines, boolean hadBom) {
        this.text = text;
        this.badLines = badLines;
        this.hadBom = hadBom;
    }

    static boolean startsWithUtf8Bom(byte[] bytes) {
        return bytes.length >= 3 && bytes[0] == UTF8_BOM[0] && bytes[1] == UTF8_BOM[1] && bytes[2] == UTF8_BOM[2];
    }

    /** Decodes strictly as UTF-8 (a leading BOM is dropped), recording the lines with malformed sequences. */
    static DecodedText utf8(byte[] bytes) {
        boolean bom = startsWithUtf8Bom(bytes);
        int start = bom ? 3 : 0;
        CharsetDecoder dec = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes, start, bytes.length - start);
        CharBuffer out = CharBuffer.allocate(bytes.length - start + 16);
        BitSet bad = new BitSet();
        while (true) {
            CoderResult r = dec.decode(in, out, true);
            if (r.isUnderflow()) break;
            if (r.isError()) {
                bad.set(lineOfByte(bytes, start, in.position()));
                out.put('\uFFFD');
                in.position(in.position() + r.length());
            } else if (r.isOverflow()) { // cannot happen: UTF-8 never yields more chars than bytes
                throw new IllegalStateException("decoder overflow");
            }
        }
        dec.flush(out);
        out.flip();
        return new DecodedText(out.toString(), bad, bom);
    }

    /** Decodes as ISO-8859-1, which maps every byte, so no line is bad. */
    static DecodedText latin1(byte[] bytes) {
        return new DecodedText(new String(bytes, StandardCharsets.ISO_8859_1), new BitSet(), false);
    }

    /** 1-based line of byte {@code offset}, counting CR LF, LF and lone CR as one break each, from {@code from}. */
    private static int lineOfByte(byte[] bytes, int from, int offset) {
        int line = 1;
        for (int i = from; i < offset; i++) {
            byte b = bytes[i];
            if (b == '\n') line++;
            else if (b == '\r' && (i + 1 >= bytes.length || bytes[i + 1] != '\n')) line++;
        }
        return line;
    }

    /** The text split into lines (terminators removed); element {@code i} is line {@code i + 1}. */
    List<String> lines() {
        List<String> out = new ArrayList<>();
        int n = text.length();
        int start = 0;
        int i = 0;
        while (i < n) {
            char c = text.charAt(i);
            if (c == '\n' || c == '\r') {
                out.add(text.substring(start, i));
                if (c == '\r' && i + 1 < n && text.charAt(i + 1) == '\n') i++;
                start = i + 1;
            }
            i++;
        }
        if (start < n) out.add(text.substring(start));
        return out;
    }

    /**
     * Start offset of every line in {@link #text}; {@code lineStarts()[k]} is where line {@code k + 1} begins.
     * Used to turn a character position reported by a parser into a line number.
     */
    int[] lineStarts() {
        int n = text.length();
        int count = 1;
        for (int i = 0; i < n; i++) {
            char c = text.charAt(i);
            if (c == '\n' || (c == '\r' && (i + 1 >= n || text.charAt(i + 1) != '\n'))) count++;
        }
        int[] starts = new int[count];
        int k = 1;
        for (int i = 0; i < n; i++) {
            char c = text.charAt(i);
            if (c == '\n' || (c == '\r' && (i + 1 >= n || text.charAt(i + 1) != '\n'))) starts[k++] = i + 1;
        }
        return starts;
    }

    /** 1-based line containing character {@code pos}, given {@link #lineStarts()}. */
    static int lineOf(int[] lineStarts, long pos) {
        int lo = 0;
        int hi = lineStarts.length - 1;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (lineStarts[mid] <= pos) lo = mid;
            else hi = mid - 1;
        }
        return lo + 1;
    }
}
