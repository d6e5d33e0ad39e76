package org.finsent.core.model;

import org.finsent.tokenizers.Encoding;

import java.util.List;

/**
 * One padded batch of token ids as the models take it: {@code [B, T]} arrays of input ids, token-type ids and a
 * 0/1 attention mask (1 = real token). Build one from {@link Encoding}s that were padded to a common length.
 */
public record Batch(int[][] inputIds, int[][] tokenTypeIds, int[][] attentionMask) {

    public Batch {
        int b = inputIds.length;
        if (b == 0) throw new IllegalArgumentException("empty batch");
        int t = inputIds[0].length;
        for (int[][] a : new int[][][]{inputIds, tokenTypeIds, attentionMask}) {
            if (a.length != b) throw new IllegalArgumentException("batch arrays differ in batch size");
            for (int[] row : a) if (row.length != t) throw new IllegalArgumentException("rows must all have length " + t);
        }
    }

    public int batchSize() {
        return inputIds.length;
    }

    public int seqLen() {
        return inputIds[0].length;
    }

    /** Ids with no padding: mask all ones, token types all zero. */
    public static Batch of(int[][] ids) {
        int[][] types = new int[ids.length][ids[0].length];
        int[][] mask = new int[ids.length][ids[0].length];
        for (int[] m : mask) java.util.Arrays.fill(m, 1);
        return new Batch(ids, types, mask);
    }

    /** From encodings of equal length (pad them with {@code Padding.LONGEST} or {@code MAX_LENGTH}). */
    public static Batch of(List<Encoding> encodings) {
        int b = encodings.size();
        int[][] ids = new int[b][], types = new int[b][], mask = new int[b][];
        for (int i = 0; i < b; i++) {
            Encoding e = encodings.get(i);
            ids[i] = e.ids();
            types[i] = e.typeIds();
            mask[i] = e.attentionMask();
        }
        return new Batch(ids, types, mask);
    }

    /** Row-major flattening of a {@code [B, T]} array. */
    static int[] flat(int[][] a) {
        int t = a[0].length;
        int[] out = new int[a.length * t];
        for (int i = 0; i < a.length; i++) System.arraycopy(a[i], 0, out, i * t, t);
        return out;
    }
}
