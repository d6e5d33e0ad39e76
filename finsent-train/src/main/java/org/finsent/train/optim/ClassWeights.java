package org.finsent.train.optim;

/**
 * Class weights for an imbalanced data set (FinancialPhraseBank is ~59 % neutral), to pass to a weighted
 * cross-entropy loss.
 */
public final class ClassWeights {
    private ClassWeights() {
    }

    /**
     * scikit-learn's {@code compute_class_weight("balanced", classes=range(numClasses), y=labels)}:
     * {@code w_c = n_samples / (numClasses · count_c)}. Each class then contributes the same total weight
     * (n_samples/numClasses) to the loss, and a balanced data set gets all weights 1.
     *
     * @throws IllegalArgumentException if labels is empty, a label lies outside {@code [0, numClasses)}, or a class
     *                                  has no example (its weight would be n/0; scikit-learn refuses too)
     */
    public static double[] balanced(int[] labels, int numClasses) {
        long[] counts = counts(labels, numClasses);
        if (labels.length == 0) throw new IllegalArgumentException("no labels");
        double[] w = new double[numClasses];
        for (int c = 0; c < numClasses; c++) {
            if (counts[c] == 0) {
                throw new IllegalArgumentException("class " + c + " has no examples among " + labels.length
                        + " labels, so its balanced weight n/(k·0) is undefined; check the label mapping or numClasses");
            }
            w[c] = (double) labels.length / ((double) numClasses * counts[c]);
        }
        return w;
    }

    /** Examples per class ({@code np.bincount(labels, minlength=numClasses)}), rejecting out-of-range labels. */
    public static long[] counts(int[] labels, int numClasses) {
        if (numClasses < 1) throw new IllegalArgumentException("numClasses must be >= 1: " + numClasses);
        long[] counts = new long[numClasses];
        for (int i = 0; i < labels.length; i++) {
            int y = labels[i];
            if (y < 0 || y >= numClasses) {
                throw new IllegalArgumentException("label " + y + " at index " + i + " is outside [0, " + numClasses + ")");
            }
            counts[y]++;
        }
        return counts;
    }
}
