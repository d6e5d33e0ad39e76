package org.finsent.core.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * A protobuf wire-format reader over an in-memory message (a ByteBuffer slice). Every length is checked against
 * the bytes that are really there before anything is allocated; problems raise {@link WeightFormatException}
 * with the file and context given at construction.
 */
final class ProtoReader {

    static final int VARINT = 0, FIXED64 = 1, LEN = 2, FIXED32 = 5;

    private final ByteBuffer buf;
    private final String file;
    private final String context;
    private int tag;

    ProtoReader(ByteBuffer message, String file, String context) {
        this.buf = message.slice().order(ByteOrder.LITTLE_ENDIAN);
        this.file = file;
        this.context = context;
    }

    WeightFormatException bad(String msg) {
        return new WeightFormatException(file, null, context + ": " + msg);
    }

    /** Advances to the next field; false at the end of the message. */
    boolean next() throws WeightFormatException {
        if (!buf.hasRemaining()) return false;
        long t = varint();
        if (t >>> 32 != 0 || (t >>> 3) == 0) throw bad("invalid field tag " + t);
        tag = (int) t;
        return true;
    }

    int remaining() {
        return buf.remaining();
    }

    int field() {
        return tag >>> 3;
    }

    int wireType() {
        return tag & 7;
    }

    long varint() throws WeightFormatException {
        long r = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (!buf.hasRemaining()) throw bad("truncated varint");
            int b = buf.get() & 0xff;
            r |= (long) (b & 0x7f) << shift;
            if (b < 0x80) return r;
        }
        throw bad("varint longer than 10 bytes");
    }

    int fixed32() throws WeightFormatException {
        need(4);
        return buf.getInt();
    }

    long fixed64() throws WeightFormatException {
        need(8);
        return buf.getLong();
    }

    private void need(long n) throws WeightFormatException {
        if (n < 0 || n > buf.remaining()) throw bad("truncated: field needs " + n + " bytes, " + buf.remaining() + " left");
    }

    /** A length-delimited field's payload as a slice (no copy). */
    ByteBuffer bytes() throws WeightFormatException {
        if (wireType() != LEN) throw bad("field " + field() + " is not length-delimited");
        long len = varint();
        need(len);
        ByteBuffer s = buf.slice(buf.position(), (int) len).order(ByteOrder.LITTLE_ENDIAN);
        buf.position(buf.position() + (int) len);
        return s;
    }

    String string() throws WeightFormatException {
        ByteBuffer b = bytes();
        byte[] a = new byte[b.remaining()];
        b.get(a);
        return new String(a, StandardCharsets.UTF_8);
    }

    /** A varint field, or the packed/unpacked elements handled by the caller through {@link #bytes()}. */
    long varintField() throws WeightFormatException {
        if (wireType() != VARINT) throw bad("field " + field() + " is not a varint");
        return varint();
    }

    void skip() throws WeightFormatException {
        switch (wireType()) {
            case VARINT -> varint();
            case FIXED64 -> {
                need(8);
                buf.position(buf.position() + 8);
            }
            case LEN -> bytes();
            case FIXED32 -> {
                need(4);
                buf.position(buf.position() + 4);
            }
            default -> throw bad("unsupported wire type " + wireType() + " (field " + field() + ")");
        }
    }

    /** Reads a repeated varint field given packed or unpacked into {@code out}; returns the new count. */
    static int readVarints(ProtoReader r, long[][] out, int count) throws WeightFormatException {
        if (r.wireType() == LEN) {
            ProtoReader p = new ProtoReader(r.bytes(), r.file, r.context);
            while (p.buf.hasRemaining()) count = add(out, count, p.varint());
            return count;
        }
        return add(out, count, r.varintField());
    }

    private static int add(long[][] out, int count, long v) {
        if (count == out[0].length) out[0] = java.util.Arrays.copyOf(out[0], Math.max(8, count * 2));
        out[0][count] = v;
        return count + 1;
    }
}
