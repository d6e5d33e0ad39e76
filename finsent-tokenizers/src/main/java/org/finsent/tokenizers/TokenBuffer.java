package org.finsent.tokenizers;

import java.util.Arrays;

/**
 * A growable list of (id, start, end) triples: what a tokenizer model emits for one text, before
 * truncation and special tokens. Offsets are UTF-16 indices into the encoded text. Not thread-safe;
 * each encode call uses its own.
 */
public final class TokenBuffer {
    int[] ids;
    int[] starts;
    int[] ends;
    int size;

    public TokenBuffer() {
        this(32);
    }

    public TokenBuffer(int capacity) {
        ids = new int[Math.max(capacity, 4)];
        starts = new int[ids.length];
        ends = new int[ids.length];
    }

    public void add(int id, int start, int end) {
        if (size == ids.length) {
            int n = size * 2;
            ids = Arrays.copyOf(ids, n);
            starts = Arrays.copyOf(starts, n);
            ends = Arrays.copyOf(ends, n);
        }
        ids[size] = id;
        starts[size] = start;
        ends[size] = end;
        size++;
    }

    public int size() {
        return size;
    }

    public int id(int i) {
        return ids[i];
    }

    public int start(int i) {
        return starts[i];
    }

    public int end(int i) {
        return ends[i];
    }

    /** Drops every token after the first {@code n}. */
    public void shrinkTo(int n) {
        if (n < 0 || n > size) throw new IllegalArgumentException("cannot shrink " + size + " tokens to " + n);
        size = n;
    }

    /** Keep {@code n} tokens, dropping from the end ({@code fromLeft=false}) or from the start. */
    void truncate(int n, boolean fromLeft) {
        if (n >= size) return;
        if (fromLeft) {
            int drop = size - n;
            System.arraycopy(ids, drop, ids, 0, n);
            System.arraycopy(starts, drop, starts, 0, n);
            System.arraycopy(ends, drop, ends, 0, n);
        }
        size = n;
    }
}
