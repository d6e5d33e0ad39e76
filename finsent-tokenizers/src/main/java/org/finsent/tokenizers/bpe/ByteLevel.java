package org.finsent.tokenizers.bpe;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * GPT-2's byte-to-unicode table: every byte gets a printable character so that BPE can work on strings.
 * Bytes {@code '!'..'~'}, {@code 0xA1..0xAC} and {@code 0xAE..0xFF} map to themselves; the other 68 bytes, in
 * ascending order, map to U+0100 + n (space becomes {@code Ġ} U+0120, newline {@code Ċ} U+010A).
 */
public final class ByteLevel {
    private ByteLevel() {
    }

    /** Byte value (0..255) to its character. */
    static final char[] BYTE_TO_CHAR = new char[256];
    /** Character (below 0x200) to byte value, or -1. */
    private static final int[] CHAR_TO_BYTE = new int[0x200];

    static {
        java.util.Arrays.fill(CHAR_TO_BYTE, -1);
        int n = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char) b : (char) (256 + n++);
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    /** The byte-level string of raw bytes, e.g. {@code " é"} (bytes 20 C3 A9) becomes {@code "ĠÃ©"}. */
    public static String encode(byte[] bytes) {
        char[] out = new char[bytes.length];
        for (int i = 0; i < bytes.length; i++) out[i] = BYTE_TO_CHAR[bytes[i] & 0xFF];
        return new String(out);
    }

    /**
     * Appends the bytes a byte-level string stands for; characters outside the table (which only added tokens
     * contain) pass through as their UTF-8 bytes.
     */
    public static void decodeInto(String s, ByteArrayOutputStream out) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            int b = c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
            if (b >= 0) {
                out.write(b);
            } else {
                int cp = s.codePointAt(i);
                byte[] raw = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8);
                out.write(raw, 0, raw.length);
                i += Character.charCount(cp) - 1;
            }
        }
    }

    /** Number of raw bytes a byte-level token string stands for. */
    static int byteLength(String token) {
        int n = 0;
        for (int i = 0; i < token.length(); i++) {
            char c = token.charAt(i);
            if (c < CHAR_TO_BYTE.length && CHAR_TO_BYTE[c] >= 0) {
                n++;
            } else {
                int cp = token.codePointAt(i);
                n += new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8).length;
                i += Character.charCount(cp) - 1;
            }
        }
        return n;
    }
}
