package org.finsent.core.io;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;

/**
 * A forward-only protobuf wire-format reader over a stream, for messages too large to hold twice (an ONNX
 * model's graph): nested messages are entered with {@link #pushLimit}, small sub-messages are read out whole.
 */
final class ProtoStream {

    private static final long MAX_ARRAY = Integer.MAX_VALUE - 8;

    private final InputStream in;
    private final String file;
    private long pos;
    private long limit = Long.MAX_VALUE;
    private int tag;

    ProtoStream(InputStream in, String file) {
        this.in = in;
        this.file = file;
    }

    /** A stream of known length: no field may claim more bytes than are left in it. */
    ProtoStream(InputStream in, String file, long length) {
        this(in, file);
        this.limit = length;
    }

    WeightFormatException bad(String msg) {
        return new WeightFormatException(file, null, msg + " (at byte " + pos + ")");
    }

    /** Advances to the next field of the current message; false at its end (or at the end of the stream). */
    boolean next() throws IOException {
        if (pos == limit) return false;
        if (pos > limit) throw bad("field runs past the end of its message");
        int first = in.read();
        if (first < 0) {
            if (limit == Long.MAX_VALUE) return false;
            throw bad("truncated: stream ends inside a message");
        }
        pos++;
        long t = varintAfter(first);
        if (t >>> 32 != 0 || (t >>> 3) == 0) throw bad("invalid field tag " + t);
        tag = (int) t;
        return true;
    }

    int field() {
        return tag >>> 3;
    }

    int wireType() {
        return tag & 7;
    }

    private int read() throws IOException {
        if (pos >= limit) throw bad("truncated: message ends inside a field");
        int b = in.read();
        if (b < 0) throw bad("truncated: unexpected end of stream");
        pos++;
        return b;
    }

    long varint() throws IOException {
        return varintAfter(read());
    }

    private long varintAfter(int first) throws IOException {
        long r = first & 0x7f;
        if (first < 0x80) return r;
        for (int shift = 7; shift < 64; shift += 7) {
            int b = read();
            r |= (long) (b & 0x7f) << shift;
            if (b < 0x80) return r;
        }
        throw bad("varint longer than 10 bytes");
    }

    /** The length of a length-delimited field, checked against the enclosing message. */
    long length() throws IOException {
        if (wireType() != ProtoReader.LEN) throw bad("field " + field() + " is not length-delimited");
        long len = varint();
        if (len < 0 || len > limit - pos) throw bad("truncated: field " + field() + " claims " + len + " bytes");
        return len;
    }

    /** A length-delimited field's payload, read onto the heap. */
    byte[] bytes() throws IOException {
        long len = length();
        if (len > MAX_ARRAY) throw bad("field of " + len + " bytes is too large");
        byte[] b = in.readNBytes((int) len);
        if (b.length != len) throw bad("truncated: field needs " + len + " bytes, stream has " + b.length);
        pos += len;
        return b;
    }

    /** Enters a length-delimited sub-message; returns the token for {@link #popLimit}. */
    long pushLimit() throws IOException {
        long len = length();
        long old = limit;
        limit = pos + len;
        return old;
    }

    void popLimit(long old) throws IOException {
        if (pos != limit) throw bad("sub-message not fully read");
        limit = old;
    }

    void skip() throws IOException {
        switch (wireType()) {
            case ProtoReader.VARINT -> varint();
            case ProtoReader.FIXED64 -> skipBytes(8);
            case ProtoReader.LEN -> skipBytes(length());
            case ProtoReader.FIXED32 -> skipBytes(4);
            default -> throw bad("unsupported wire type " + wireType() + " (field " + field() + ")");
        }
    }

    private void skipBytes(long n) throws IOException {
        if (n > limit - pos) throw bad("truncated: field runs past its message");
        try {
            in.skipNBytes(n);
        } catch (EOFException e) {
            throw bad("truncated: unexpected end of stream");
        }
        pos += n;
    }
}
