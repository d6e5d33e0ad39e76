package org.finsent.core.metrics;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Accuracy, per-class precision / recall / F1 / support, and their macro, weighted and micro averages, with
 * <b>scikit-learn's definitions exactly</b> ({@code precision_recall_fscore_support(y_true, y_pred,
 * labels=range(K))}, scikit-learn ≥ 1.3). The study reports these numbers next to results from the Python stack,
 * so every edge case (empty classes, averaging, the report's rounding) follows scikit-learn rather than a textbook.
 *
 * <p>Definitions, for class {@code k} with {@code tp} true positives, {@code P} predictions and {@code T} true
 * samples ({@code T} is the support):
 * <ul>
 *   <li>precision {@code = tp / P}, recall {@code = tp / T};</li>
 *   <li>F1 {@code = 2·tp / (T + P)}: scikit-learn's form since 1.3. It equals the harmonic mean of precision and
 *       recall whenever both are defined, and is "ill-defined" only when {@code T + P = 0};</li>
 *   <li>when a denominator is 0 the value is {@link ZeroDivision} ({@code 0} with a warning by default);</li>
 *   <li>macro average = unweighted mean over <em>all</em> K classes (a class absent from both arrays contributes
 *       its zero-division value, as scikit-learn does for explicitly listed labels);</li>
 *   <li>weighted average = mean weighted by support (so absent classes weigh nothing);</li>
 *   <li>micro average = from the summed counts, which with every label included is the accuracy.</li>
 * </ul>
 * Instances are immutable.
 */
public final class ClassificationMetrics {

    private final ConfusionMatrix matrix;
    private final ZeroDivision zeroDivision;
    private final double[] precision;
    private final double[] recall;
    private final double[] f1;
    private final long[] support;
    private final boolean[] precisionIllDefined;
    private final boolean[] recallIllDefined;
    private final boolean[] f1IllDefined;
    private final double accuracy;
    private final List<String> warnings;

    private ClassificationMetrics(ConfusionMatrix m, ZeroDivision zd) {
        this.matrix = m;
        this.zeroDivision = zd;
        int k = m.numClasses();
        long n = m.total();
        if (n == 0) throw new IllegalArgumentException("no samples: metrics of an empty evaluation set are undefined");
        precision = new double[k];
        recall = new double[k];
        f1 = new double[k];
        support = new long[k];
        precisionIllDefined = new boolean[k];
        recallIllDefined = new boolean[k];
        f1IllDefined = new boolean[k];
        List<String> warn = new ArrayList<>();
        for (int c = 0; c < k; c++) {
            long tp = m.truePositives(c);
            long pred = m.predictedCount(c);
            long truth = m.trueCount(c);
            support[c] = truth;
            precisionIllDefined[c] = pred == 0;
            recallIllDefined[c] = truth == 0;
            f1IllDefined[c] = truth + pred == 0;
            precision[c] = pred == 0 ? zd.value() : (double) tp / (double) pred;
            recall[c] = truth == 0 ? zd.value() : (double) tp / (double) truth;
            f1[c] = truth + pred == 0 ? zd.value() : 2.0 * tp / (double) (truth + pred);
        }
        if (zd == ZeroDivision.WARN) {
            // Same three conditions and wording as scikit-learn's UndefinedMetricWarning, but naming the classes.
            addWarning(warn, "Precision", precisionIllDefined, "no predicted samples");
            addWarning(warn, "Recall", recallIllDefined, "no true samples");
            addWarning(warn, "F-score", f1IllDefined, "no true nor predicted samples");
        }
        this.warnings = List.copyOf(warn);
        this.accuracy = (double) m.correct() / (double) n;
    }

    private static void addWarning(List<String> out, String metric, boolean[] ill, String why) {
        List<Integer> classes = new ArrayList<>();
        for (int c = 0; c < ill.length; c++) if (ill[c]) classes.add(c);
        if (classes.isEmpty()) return;
        out.add(metric + " is ill-defined and being set to 0.0 for class" + (classes.size() > 1 ? "es " : " ")
                + joined(classes) + " (" + why + "). Use ZeroDivision to control this behavior.");
    }

    private static String joined(List<Integer> xs) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < xs.size(); i++) {
            if (i > 0) sb.append(i == xs.size() - 1 ? " and " : ", ");
            sb.append(xs.get(i));
        }
        return sb.toString();
    }

    /** Metrics with scikit-learn's default {@code zero_division="warn"}. */
    public static ClassificationMetrics compute(int[] yTrue, int[] yPred, int numClasses) {
        return compute(yTrue, yPred, numClasses, ZeroDivision.WARN);
    }

    /**
     * @param numClasses K; every label must be in 0..K-1 and every class gets a row, even if absent
     * @throws IllegalArgumentException for mismatched lengths, out-of-range labels, or no samples
     */
    public static ClassificationMetrics compute(int[] yTrue, int[] yPred, int numClasses, ZeroDivision zeroDivision) {
        return of(ConfusionMatrix.of(yTrue, yPred, numClasses), zeroDivision);
    }

    public static ClassificationMetrics of(ConfusionMatrix matrix, ZeroDivision zeroDivision) {
        return new ClassificationMetrics(Objects.requireNonNull(matrix, "matrix"), Objects.requireNonNull(zeroDivision, "zeroDivision"));
    }

    public ConfusionMatrix confusionMatrix() {
        return matrix;
    }

    public ZeroDivision zeroDivision() {
        return zeroDivision;
    }

    public int numClasses() {
        return support.length;
    }

    /** Fraction of correct predictions ({@code accuracy_score}). */
    public double accuracy() {
        return accuracy;
    }

    public double precision(int k) {
        return precision[k];
    }

    public double recall(int k) {
        return recall[k];
    }

    public double f1(int k) {
        return f1[k];
    }

    /** Number of true samples of class {@code k}. */
    public long support(int k) {
        return support[k];
    }

    /** Per-class precision ({@code average=None}), a copy. */
    public double[] precision() {
        return precision.clone();
    }

    public double[] recall() {
        return recall.clone();
    }

    public double[] f1() {
        return f1.clone();
    }

    public long[] support() {
        return support.clone();
    }

    /** Whether class {@code k} was never predicted, so its precision is the zero-division value. */
    public boolean precisionIllDefined(int k) {
        return precisionIllDefined[k];
    }

    /** Whether class {@code k} never occurs, so its recall is the zero-division value. */
    public boolean recallIllDefined(int k) {
        return recallIllDefined[k];
    }

    /** Whether class {@code k} neither occurs nor is predicted, so its F1 is the zero-division value. */
    public boolean f1IllDefined(int k) {
        return f1IllDefined[k];
    }

    /**
     * Under {@link ZeroDivision#WARN}, one message per metric that was ill-defined for some class, naming the
     * classes; empty otherwise. A list rather than a logged warning so that evaluation code can surface it in its
     * own report and tests can assert it.
     */
    public List<String> warnings() {
        return warnings;
    }

    public double macroPrecision() {
        return mean(precision);
    }

    public double macroRecall() {
        return mean(recall);
    }

    /** The study's headline metric for imbalanced sentiment classes. */
    public double macroF1() {
        return mean(f1);
    }

    public double weightedPrecision() {
        return weighted(precision);
    }

    public double weightedRecall() {
        return weighted(recall);
    }

    public double weightedF1() {
        return weighted(f1);
    }

    /** Micro-averaged precision: total true positives over total predictions, i.e. the accuracy here. */
    public double microPrecision() {
        return accuracy;
    }

    /** Micro-averaged recall: equal to the accuracy when every class is included, as here. */
    public double microRecall() {
        return accuracy;
    }

    /** Micro-averaged F1: equal to the accuracy when every class is included, as here. */
    public double microF1() {
        return accuracy;
    }

    private static double mean(double[] x) {
        double s = 0;
        for (double v : x) s += v;
        return s / x.length;
    }

    /** {@code np.average(x, weights=support)}: sum of products over sum of weights. */
    private double weighted(double[] x) {
        double s = 0;
        long w = 0;
        for (int k = 0; k < x.length; k++) {
            s += x[k] * (double) support[k];
            w += support[k];
        }
        return s / (double) w;
    }

    /** {@link #classificationReport(String[], int)} with scikit-learn's default of 2 digits. */
    public String classificationReport(String[] names) {
        return classificationReport(names, 2);
    }

    /**
     * The text of {@code sklearn.metrics.classification_report(y_true, y_pred, labels=range(K),
     * target_names=names, digits=digits, zero_division=...)}, character for character: same column widths, blank
     * lines, row order (classes, then {@code accuracy}, {@code macro avg}, {@code weighted avg}) and trailing
     * newline. The accuracy row (instead of a {@code micro avg} row) is what scikit-learn prints when all labels
     * are included, which is always the case here.
     *
     * <p>Numbers are rounded like Python's {@code format(x, '.2f')}: the exact binary value, ties to even. Java's
     * {@code String.format} rounds the shortest decimal representation half-up instead, which prints 29/200 as
     * 0.15 where scikit-learn prints 0.14, so it is not used.
     *
     * @param names class names in id order, or null for {@code "0"}, {@code "1"}, ...
     * @param digits digits after the decimal point, ≥ 0
     */
    public String classificationReport(String[] names, int digits) {
        int k = numClasses();
        if (digits < 0) throw new IllegalArgumentException("digits must be >= 0, got " + digits);
        String[] labels = new String[k];
        if (names == null) {
            for (int c = 0; c < k; c++) labels[c] = Integer.toString(c);
        } else {
            if (names.length != k) throw new IllegalArgumentException(names.length + " names for " + k + " classes");
            for (int c = 0; c < k; c++) labels[c] = Objects.requireNonNull(names[c], "names[" + c + "]");
        }
        int width = "weighted avg".length();
        for (String l : labels) width = Math.max(width, l.codePointCount(0, l.length()));
        width = Math.max(width, digits);

        StringBuilder sb = new StringBuilder();
        sb.append(right("", width)).append(' ');
        for (String h : new String[] {"precision", "recall", "f1-score", "support"}) sb.append(' ').append(right(h, 9));
        sb.append("\n\n");
        for (int c = 0; c < k; c++) row(sb, labels[c], precision[c], recall[c], f1[c], support[c], width, digits);
        sb.append('\n');
        long n = matrix.total();
        // Python formats '' with precision `digits` as '' (a string is truncated), so the cells are blank.
        sb.append(right("accuracy", width)).append(' ').append(' ').append(right("", 9)).append(' ').append(right("", 9))
                .append(' ').append(right(fixed(accuracy, digits), 9)).append(' ').append(right(Long.toString(n), 9)).append('\n');
        row(sb, "macro avg", macroPrecision(), macroRecall(), macroF1(), n, width, digits);
        row(sb, "weighted avg", weightedPrecision(), weightedRecall(), weightedF1(), n, width, digits);
        return sb.toString();
    }

    private static void row(StringBuilder sb, String name, double p, double r, double f, long support, int width, int digits) {
        sb.append(right(name, width)).append(' ');
        sb.append(' ').append(right(fixed(p, digits), 9));
        sb.append(' ').append(right(fixed(r, digits), 9));
        sb.append(' ').append(right(fixed(f, digits), 9));
        sb.append(' ').append(right(Long.toString(support), 9)).append('\n');
    }

    /** Python's {@code '{:>w}'}: right-aligned in {@code w} code points, never truncated. */
    private static String right(String s, int w) {
        int len = s.codePointCount(0, s.length());
        return len >= w ? s : " ".repeat(w - len) + s;
    }

    /** Python's {@code format(x, '.{digits}f')} for finite x: exact binary value rounded half-to-even. */
    static String fixed(double x, int digits) {
        if (Double.isNaN(x)) return "nan";
        if (Double.isInfinite(x)) return x > 0 ? "inf" : "-inf";
        String s = new BigDecimal(x).setScale(digits, RoundingMode.HALF_EVEN).toPlainString();
        if (x < 0 || (x == 0 && 1 / x < 0)) { // Python keeps the sign of a negative value that rounds to zero
            if (!s.startsWith("-")) s = "-" + s;
        }
        return s;
    }

    /** The report with class ids as names. */
    @Override
    public String toString() {
        return classificationReport(null);
    }
}
