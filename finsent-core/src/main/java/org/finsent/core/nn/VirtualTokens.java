package org.finsent.core.nn;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Learned input embeddings prepended to every example (prompt tuning): P rows of width C that enter the model
 * like token embeddings (BERT adds position 0..P−1, token type 0 and the embedding LayerNorm to them).
 */
public interface VirtualTokens {
    /** Number of virtual tokens P. */
    int length();

    /** The rows {@code [P, C]}. */
    INDArray embeddings();

    /** Receives their gradient, summed over the batch ({@code [P, C]}). */
    void backward(INDArray dEmbeddings);

    /**
     * Backward of {@link #prepend}: gives the virtual rows their gradient (summed over the batch) and returns the
     * tokens' part {@code [B·T, C]} of {@code d [B·(P+T), C]}.
     */
    default INDArray backwardThrough(INDArray d, long b, long t) {
        INDArray[] parts = split(d, b, length(), t);
        backward(parts[0]);
        return parts[1];
    }

    /** Prepends {@code p} ones to every row of a {@code [B, T]} 0/1 mask. */
    static int[][] extendMask(int[][] mask, int p) {
        int[][] out = new int[mask.length][];
        for (int n = 0; n < mask.length; n++) {
            out[n] = new int[p + mask[n].length];
            java.util.Arrays.fill(out[n], 0, p, 1);
            System.arraycopy(mask[n], 0, out[n], p, mask[n].length);
        }
        return out;
    }

    /** Token rows {@code [B·T, C]} with the virtual rows in front of each example: {@code [B·(P+T), C]}. */
    static INDArray prepend(INDArray virtual, INDArray tokens, long b, long t) {
        long p = virtual.size(0), c = virtual.size(1);
        INDArray v = virtual.reshape(1, p, c);
        INDArray vb = org.nd4j.linalg.factory.Nd4j.concat(0, java.util.Collections.nCopies((int) b, v).toArray(new INDArray[0]));
        return org.nd4j.linalg.factory.Nd4j.concat(1, vb, tokens.reshape(b, t, c)).reshape(b * (p + t), c);
    }

    /** Splits {@code d [B·(P+T), C]} into the virtual rows' gradient (summed over B) and the tokens' {@code [B·T, C]}. */
    static INDArray[] split(INDArray d, long b, long p, long t) {
        long c = d.size(1);
        INDArray d3 = d.reshape(b, p + t, c);
        var all = org.nd4j.linalg.indexing.NDArrayIndex.all();
        INDArray dv = d3.get(all, org.nd4j.linalg.indexing.NDArrayIndex.interval(0, p), all).sum(0);
        INDArray dt = d3.get(all, org.nd4j.linalg.indexing.NDArrayIndex.interval(p, p + t), all).dup('c').reshape(b * t, c);
        return new INDArray[]{dv, dt};
    }
}
