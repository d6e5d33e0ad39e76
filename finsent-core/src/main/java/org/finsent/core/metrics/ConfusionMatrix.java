package org.finsent.core.metrics;

import java.util.Arrays;

/**
 * Counts of (true class, predicted class) pairs with <b>rows = true label, columns = predicted label</b>, the
 * convention of {@code sklearn.metrics.confusion_matrix(y_true, y_pred, labels=range(K))}. The convention is fixed
 * to scikit-learn's because the study's tables are compared with numbers produced by it; other sources (and
 * Wikipedia) sometimes transpose it.
 *
 * <p>Every class 0..K-1 gets a row and a column even when it never occurs, as with an explicit {@code labels}
 * argument in scikit-learn; without that, a class missing from a small test batch would shift the indices.
 */
public final class ConfusionMatrix {

    private final long[][] counts;

    private ConfusionMatrix(long[][] counts) {
        this.counts = counts;
    }

    /**
     * @throws IllegalArgumentException when the arrays differ in length, {@code numClasses < 1}, or a label is
     *                                  outside 0..numClasses-1 (the message names the index and the value)
     */
    public static ConfusionMatrix of(int[] yTrue, int[] yPred, int numClasses) {
        if (numClasses < 1) throw new IllegalArgumentException("numClasses must be >= 1, got " + numClasses);
        if (yTrue.length != yPred.length) {
            throw new IllegalArgumentException("yTrue has " + yTrue.length + " labels but yPred has " + yPred.length);
        }
        long[][] c = new long[numClasses][numClasses];
        for (int i = 0; i < yTrue.length; i++) {
            int t = yTrue[i];
            int p = yPred[i];
            if (t < 0 || t >= numClasses) throw new IllegalArgumentException("yTrue[" + i + "] = " + t + " is not in 0.." + (numClasses - 1));
            if (p < 0 || p >= numClasses) throw new IllegalArgumentException("yPred[" + i + "] = " + p + " is not in 0.." + (numClasses - 1));
            c[t][p]++;
        }
        return new ConfusionMatrix(c);
    }

    public int numClasses() {
        return counts.length;
    }

    /** Samples of true class {@code trueLabel} predicted as {@code predLabel}. */
    public long get(int trueLabel, int predLabel) {
        return counts[trueLabel][predLabel];
    }

    /** A copy of the matrix, {@code [true][pred]}. */
    public long[][] toArray() {
        long[][] out = new long[counts.length][];
        for (int i = 0; i < counts.length; i++) out[i] = counts[i].clone();
        return out;
    }

    /** Number of samples. */
    public long total() {
        long n = 0;
        for (long[] row : counts) for (long v : row) n += v;
        return n;
    }

    /** Correct predictions of class {@code k} (true positives). */
    public long truePositives(int k) {
        return counts[k][k];
    }

    /** Samples whose true class is {@code k}: scikit-learn's "support" and the recall denominator. */
    public long trueCount(int k) {
        long n = 0;
        for (long v : counts[k]) n += v;
        return n;
    }

    /** Samples predicted as {@code k}: the precision denominator. */
    public long predictedCount(int k) {
        long n = 0;
        for (long[] row : counts) n += row[k];
        return n;
    }

    /** Correct predictions over all classes. */
    public long correct() {
        long n = 0;
        for (int k = 0; k < counts.length; k++) n += counts[k][k];
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ConfusionMatrix m && Arrays.deepEquals(counts, m.counts);
    }

    @Override
    public int hashCode() {
        return Arrays.deepHashCode(counts);
    }

    /** Rows as in numpy's print of the array, e.g. {@code [[2, 0, 0], [0, 0, 1], [1, 0, 2]]}. */
    @Override
    public String toString() {
        return Arrays.deepToString(counts);
    }
}
