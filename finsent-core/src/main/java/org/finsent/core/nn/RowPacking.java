package org.finsent.core.nn;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The real-token rows of a padded batch, and the copies between the padded layout ({@code [B·T, C]}, one row per
 * position) and the packed one ({@code [N, C]}, one row per real token, in the same order).
 *
 * <p>Why: the token-wise work of an encoder layer (the six projections, LayerNorm, GELU, dropout: nearly all of its
 * FLOPs) costs as much for a padding position as for a real token, and a batch of FinancialPhraseBank sentences
 * padded to its longest is about half padding (32 sentences: 868 real tokens of 32 × 56). Only attention needs
 * the padded layout, to see each example's keys as one matrix; so the encoder runs its token-wise work on packed
 * rows and scatters into the padded layout around attention (FasterTransformer's "remove padding"). Real tokens'
 * results do not change: a padding key's attention probability is exactly 0 and a padding query's row is dropped,
 * so nothing a real token computes reads a padding row.
 */
public final class RowPacking {
    private final int paddedRows, rows;
    /** Runs of consecutive real rows: first padded row, first packed row, length. */
    private final int[] from, to, length;

    private RowPacking(int paddedRows, int rows, int[] from, int[] to, int[] length) {
        this.paddedRows = paddedRows;
        this.rows = rows;
        this.from = from;
        this.to = to;
        this.length = length;
    }

    /**
     * The packing of a {@code [B][T]} 0/1 attention mask (row {@code n·T + i} is real when {@code mask[n][i] != 0});
     * null when there is no padding (nothing to gain) or no real token at all.
     */
    public static RowPacking of(int[][] mask) {
        int t = mask.length == 0 ? 0 : mask[0].length;
        List<int[]> runs = new ArrayList<>();
        int real = 0;
        for (int n = 0; n < mask.length; n++) {
            if (mask[n].length != t) throw new IllegalArgumentException("attention mask rows differ in length");
            for (int i = 0; i < t; ) {
                if (mask[n][i] == 0) {
                    i++;
                    continue;
                }
                int start = i;
                while (i < t && mask[n][i] != 0) i++;
                runs.add(new int[]{n * t + start, real, i - start});
                real += i - start;
            }
        }
        if (real == 0 || real == mask.length * t) return null;
        int[] f = new int[runs.size()], d = new int[runs.size()], l = new int[runs.size()];
        for (int r = 0; r < runs.size(); r++) {
            f[r] = runs.get(r)[0];
            d[r] = runs.get(r)[1];
            l[r] = runs.get(r)[2];
        }
        return new RowPacking(mask.length * t, real, f, d, l);
    }

    /** N: the real tokens. */
    public int rows() {
        return rows;
    }

    /** B·T: the padded layout's rows. */
    public int paddedRows() {
        return paddedRows;
    }

    /** The real rows of {@code padded [B·T, C]}: a new {@code [N, C]} array. */
    public INDArray gather(INDArray padded) {
        check(padded, paddedRows);
        INDArray out = Nd4j.createUninitialized(padded.dataType(), rows, padded.size(1));
        copyRuns(padded, out, true);
        return out;
    }

    /**
     * {@code packed [N, C]} back to the padded layout: a new {@code [B·T, C]} array with zero padding rows (finite
     * keys and values for attention, whose mask then hides them; the gradient of {@link #gather}).
     */
    public INDArray scatter(INDArray packed) {
        check(packed, rows);
        INDArray out = Nd4j.createUninitialized(packed.dataType(), paddedRows, packed.size(1));
        zeroPadding(out);
        copyRuns(packed, out, false);
        return out;
    }

    private static void check(INDArray x, long expectedRows) {
        if (x.rank() != 2 || x.size(0) != expectedRows) {
            throw new IllegalArgumentException("expected " + expectedRows + " rows [rows, C], got " + java.util.Arrays.toString(x.shape()));
        }
    }

    /** Host memory copies for dense FP32/FP64 arrays where {@link FastPaths} allows (one bulk copy per run); ND4J assigns anywhere else. */
    private static boolean host(INDArray a, INDArray b) {
        DataType t = a.dataType();
        return FastPaths.enabled() && (t == DataType.FLOAT || t == DataType.DOUBLE) && b.dataType() == t
                && HostKernels.dense(a) && HostKernels.dense(b);
    }

    private void copyRuns(INDArray src, INDArray dst, boolean gather) {
        long c = src.size(1);
        if (host(src, dst)) {
            java.nio.Buffer s = buffer(src), d = buffer(dst);
            for (int r = 0; r < from.length; r++) {
                int sr = gather ? from[r] : to[r], dr = gather ? to[r] : from[r];
                int at = (int) (dr * c), of = (int) (sr * c), len = (int) (length[r] * c);
                if (d instanceof FloatBuffer fd) fd.put(at, (FloatBuffer) s, of, len);   // one bulk memory copy
                else ((DoubleBuffer) d).put(at, (DoubleBuffer) s, of, len);
            }
            return;
        }
        for (int r = 0; r < from.length; r++) {
            long sr = gather ? from[r] : to[r], dr = gather ? to[r] : from[r];
            dst.get(NDArrayIndex.interval(dr, dr + length[r]), NDArrayIndex.all())
                    .assign(src.get(NDArrayIndex.interval(sr, sr + length[r]), NDArrayIndex.all()));
        }
    }

    /** Zeros the padded layout's padding rows (the gaps between runs). */
    private void zeroPadding(INDArray out) {
        int c = (int) out.size(1);
        boolean host = host(out, out);
        java.nio.Buffer b = host ? buffer(out) : null;
        Object zeros = b instanceof FloatBuffer ? new float[c] : new double[c];
        int next = 0;
        for (int r = 0; r <= from.length; r++) {
            int gapEnd = r < from.length ? from[r] : paddedRows;
            for (int row = next; host && row < gapEnd; row++) {
                if (b instanceof FloatBuffer fb) fb.put(row * c, (float[]) zeros);
                else ((DoubleBuffer) b).put(row * c, (double[]) zeros);
            }
            if (!host && gapEnd > next) out.get(NDArrayIndex.interval(next, gapEnd), NDArrayIndex.all()).assign(0);
            if (r < from.length) next = from[r] + length[r];
        }
    }

    private static java.nio.Buffer buffer(INDArray x) {
        return x.dataType() == DataType.FLOAT ? HostKernels.floats(x) : HostKernels.doubles(x);
    }
}
