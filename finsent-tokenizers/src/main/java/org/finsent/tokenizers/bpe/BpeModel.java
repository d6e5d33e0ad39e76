package org.finsent.tokenizers.bpe;

import java.util.Arrays;
import java.util.Map;

/**
 * Byte-pair encoding over byte-level strings: a vocabulary (token string to id) and rank-ordered merges.
 * {@link #encodeWord} starts from one symbol per byte and repeatedly merges the adjacent pair with the lowest
 * rank (the leftmost one on ties), which is what Hugging Face's heap-based {@code merge_all} computes.
 */
public final class BpeModel {
    private final Map<String, Integer> vocab;
    private final String[] idToToken;
    private final int[] byteId = new int[256];   // id of each single-byte symbol
    private final int[] tokenBytes;              // raw byte length of each token
    private final PairTable merges;

    /**
     * @param vocab  token string to id
     * @param merges merge rules in rank order, each the pair of token strings it joins
     * @param added  added tokens (id may lie outside the vocabulary), so ids can be turned back into strings
     * @throws IllegalArgumentException naming the first rule or byte the vocabulary lacks
     */
    public BpeModel(Map<String, Integer> vocab, String[][] merges, Map<String, Integer> added) {
        this.vocab = vocab;
        int max = -1;
        for (int id : vocab.values()) max = Math.max(max, id);
        for (int id : added.values()) max = Math.max(max, id);
        idToToken = new String[max + 1];
        for (var e : vocab.entrySet()) idToToken[e.getValue()] = e.getKey();
        for (var e : added.entrySet()) if (idToToken[e.getValue()] == null) idToToken[e.getValue()] = e.getKey();
        tokenBytes = new int[idToToken.length];
        for (int i = 0; i < idToToken.length; i++) if (idToToken[i] != null) tokenBytes[i] = ByteLevel.byteLength(idToToken[i]);
        for (int b = 0; b < 256; b++) {
            Integer id = vocab.get(String.valueOf(ByteLevel.BYTE_TO_CHAR[b]));
            if (id == null) {
                throw new IllegalArgumentException(String.format(
                        "vocabulary lacks the byte-level symbol for byte 0x%02X ('%s'): not a byte-level BPE vocabulary",
                        b, ByteLevel.BYTE_TO_CHAR[b]));
            }
            byteId[b] = id;
        }
        this.merges = new PairTable(merges.length * 2);
        for (int rank = 0; rank < merges.length; rank++) {
            String a = merges[rank][0], b = merges[rank][1];
            Integer ia = vocab.get(a), ib = vocab.get(b), im = vocab.get(a + b);
            if (ia == null || ib == null || im == null) {
                String missing = ia == null ? a : ib == null ? b : a + b;
                throw new IllegalArgumentException("merge rule " + (rank + 1) + " '" + a + " " + b
                        + "' uses '" + missing + "', which is not in the vocabulary");
            }
            this.merges.put(ia, ib, rank, im);
        }
    }

    Map<String, Integer> vocab() {
        return vocab;
    }

    String token(int id) {
        return id >= 0 && id < idToToken.length ? idToToken[id] : null;
    }

    int size() {
        return idToToken.length;
    }

    int tokenBytes(int id) {
        return tokenBytes[id];
    }

    /** BPE of one pre-token's UTF-8 bytes. */
    int[] encodeWord(byte[] bytes, int len) {
        int[] sym = new int[len];
        for (int i = 0; i < len; i++) sym[i] = byteId[bytes[i] & 0xFF];
        int n = len;
        while (n > 1) {
            int bestRank = Integer.MAX_VALUE, bestPos = -1, bestId = -1;
            for (int i = 0; i + 1 < n; i++) {
                long rm = merges.get(sym[i], sym[i + 1]);
                if (rm >= 0 && (int) (rm >>> 32) < bestRank) {
                    bestRank = (int) (rm >>> 32);
                    bestPos = i;
                    bestId = (int) rm;
                }
            }
            if (bestPos < 0) break;
            sym[bestPos] = bestId;
            System.arraycopy(sym, bestPos + 2, sym, bestPos + 1, n - bestPos - 2);
            n--;
        }
        return n == len ? sym : Arrays.copyOf(sym, n);
    }

    /** Open-addressing map (left id, right id) to (rank, merged id), without boxing. */
    private static final class PairTable {
        private final long[] keys;
        private final long[] values;
        private final int mask;

        PairTable(int expected) {
            int cap = Integer.highestOneBit(Math.max(16, expected * 2 - 1)) << 1;
            keys = new long[cap];
            values = new long[cap];
            Arrays.fill(keys, -1L);
            mask = cap - 1;
        }

        private static int hash(long k) {
            k *= 0x9E3779B97F4A7C15L;
            return (int) (k ^ (k >>> 32));
        }

        void put(int a, int b, int rank, int merged) {
            long k = ((long) a << 32) | (b & 0xFFFFFFFFL);
            int i = hash(k) & mask;
            while (keys[i] != -1L) {
                if (keys[i] == k) break; // a repeated rule: the last one wins, as in Hugging Face's HashMap
                i = (i + 1) & mask;
            }
            keys[i] = k;
            values[i] = ((long) rank << 32) | (merged & 0xFFFFFFFFL);
        }

        /** (rank << 32 | merged id), or -1 if the pair never merges. */
        long get(int a, int b) {
            long k = ((long) a << 32) | (b & 0xFFFFFFFFL);
            int i = hash(k) & mask;
            long key;
            while ((key = keys[i]) != -1L) {
                if (key == k) return values[i];
                i = (i + 1) & mask;
            }
            return -1L;
        }
    }
}
