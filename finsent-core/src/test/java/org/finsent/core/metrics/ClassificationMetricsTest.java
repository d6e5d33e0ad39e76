package org.finsent.core.metrics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Expected values are scikit-learn's documented examples: the docstrings in sklearn/metrics/_classification.py
 * (functions named in each test). Where a docstring prints "0.26...", the exact fraction is used.
 */
class ClassificationMetricsTest {

    private static final double EPS = 1e-15;
    private static final int[] Y_TRUE = {0, 1, 2, 0, 1, 2};
    private static final int[] Y_PRED = {0, 2, 1, 0, 0, 1};

    /** f1_score docstring: macro 0.26..., micro 0.33..., weighted 0.26..., average=None [0.8, 0, 0]. */
    @Test
    void f1ScoreDocstring() {
        ClassificationMetrics m = ClassificationMetrics.compute(Y_TRUE, Y_PRED, 3);
        assertEquals(0.26666666666666666, m.macroF1(), EPS);
        assertEquals(0.3333333333333333, m.microF1(), EPS);
        assertEquals(0.26666666666666666, m.weightedF1(), EPS);
        assertArrayEquals(new double[] {0.8, 0, 0}, m.f1(), EPS);
    }

    /** precision_score docstring: macro 0.22..., micro 0.33..., weighted 0.22..., average=None [0.66..., 0, 0]. */
    @Test
    void precisionScoreDocstring() {
        ClassificationMetrics m = ClassificationMetrics.compute(Y_TRUE, Y_PRED, 3);
        assertEquals(2.0 / 9, m.macroPrecision(), EPS);
        assertEquals(1.0 / 3, m.microPrecision(), EPS);
        assertEquals(2.0 / 9, m.weightedPrecision(), EPS);
        assertArrayEquals(new double[] {2.0 / 3, 0, 0}, m.precision(), EPS);
    }

    /** recall_score docstring: macro 0.33..., micro 0.33..., weighted 0.33..., average=None [1, 0, 0]. */
    @Test
    void recallScoreDocstring() {
        ClassificationMetrics m = ClassificationMetrics.compute(Y_TRUE, Y_PRED, 3);
        assertEquals(1.0 / 3, m.macroRecall(), EPS);
        assertEquals(1.0 / 3, m.microRecall(), EPS);
        assertEquals(1.0 / 3, m.weightedRecall(), EPS);
        assertArrayEquals(new double[] {1, 0, 0}, m.recall(), EPS);
        assertArrayEquals(new long[] {2, 2, 2}, m.support());
        assertTrue(m.warnings().isEmpty(), m.warnings().toString());
    }

    /**
     * precision_recall_fscore_support docstring with labels=['pig', 'dog', 'cat']: precision [0, 0, 0.66...],
     * recall [0, 0, 1], f [0, 0, 0.8], support [2, 2, 2]. Encoding cat=0, dog=1, pig=2 and reading the classes in
     * the order pig, dog, cat gives the same arrays.
     */
    @Test
    void precisionRecallFscoreSupportDocstring() {
        // y_true = ['cat', 'dog', 'pig', 'cat', 'dog', 'pig'], y_pred = ['cat', 'pig', 'dog', 'cat', 'cat', 'dog']
        ClassificationMetrics m = ClassificationMetrics.compute(new int[] {0, 1, 2, 0, 1, 2}, new int[] {0, 2, 1, 0, 0, 1}, 3);
        int[] order = {2, 1, 0};
        double[] p = new double[3], r = new double[3], f = new double[3];
        long[] s = new long[3];
        for (int i = 0; i < 3; i++) {
            p[i] = m.precision(order[i]);
            r[i] = m.recall(order[i]);
            f[i] = m.f1(order[i]);
            s[i] = m.support(order[i]);
        }
        assertArrayEquals(new double[] {0, 0, 2.0 / 3}, p, EPS);
        assertArrayEquals(new double[] {0, 0, 1}, r, EPS);
        assertArrayEquals(new double[] {0, 0, 0.8}, f, EPS);
        assertArrayEquals(new long[] {2, 2, 2}, s);
        // and its averaged calls: macro (0.22..., 0.33..., 0.26...), micro (0.33...,)*3, weighted (0.22..., 0.33..., 0.26...)
        assertEquals(2.0 / 9, m.macroPrecision(), EPS);
        assertEquals(1.0 / 3, m.macroRecall(), EPS);
        assertEquals(0.26666666666666666, m.macroF1(), EPS);
        assertEquals(2.0 / 9, m.weightedPrecision(), EPS);
    }

    /** precision_score docstring: y_pred all 0 gives [0.33..., 0, 0], and [0.33..., 1, 1] with zero_division=1. */
    @Test
    void precisionZeroDivisionDocstring() {
        int[] allZero = {0, 0, 0, 0, 0, 0};
        ClassificationMetrics warn = ClassificationMetrics.compute(Y_TRUE, allZero, 3);
        assertArrayEquals(new double[] {1.0 / 3, 0, 0}, warn.precision(), EPS);
        assertFalse(warn.precisionIllDefined(0));
        assertTrue(warn.precisionIllDefined(1) && warn.precisionIllDefined(2));
        assertEquals(List.of("Precision is ill-defined and being set to 0.0 for classes 1 and 2 (no predicted samples). "
                + "Use ZeroDivision to control this behavior."), warn.warnings());

        ClassificationMetrics one = ClassificationMetrics.compute(Y_TRUE, allZero, 3, ZeroDivision.ONE);
        assertArrayEquals(new double[] {1.0 / 3, 1, 1}, one.precision(), EPS);
        assertTrue(one.warnings().isEmpty(), "only WARN warns, as in scikit-learn");

        ClassificationMetrics zero = ClassificationMetrics.compute(Y_TRUE, allZero, 3, ZeroDivision.ZERO);
        assertArrayEquals(warn.precision(), zero.precision(), 0);
        assertTrue(zero.warnings().isEmpty());
        // F1 is defined (T + P > 0) for every class: zero_division does not touch it.
        assertArrayEquals(new double[] {0.5, 0, 0}, one.f1(), EPS);
    }

    /** recall_score docstring: y_true all 0 gives recall [0.5, 0, 0], and [0.5, 1, 1] with zero_division=1. */
    @Test
    void recallZeroDivisionDocstring() {
        int[] allZero = {0, 0, 0, 0, 0, 0};
        ClassificationMetrics warn = ClassificationMetrics.compute(allZero, Y_PRED, 3);
        assertArrayEquals(new double[] {0.5, 0, 0}, warn.recall(), EPS);
        assertEquals(1, warn.warnings().size());
        assertTrue(warn.warnings().get(0).startsWith("Recall is ill-defined and being set to 0.0 for classes 1 and 2"), warn.warnings().toString());
        assertArrayEquals(new double[] {0.5, 1, 1}, ClassificationMetrics.compute(allZero, Y_PRED, 3, ZeroDivision.ONE).recall(), EPS);
    }

    /** accuracy_score docstring: y_pred=[0, 2, 1, 3], y_true=[0, 1, 2, 3] gives 0.5. */
    @Test
    void accuracyDocstring() {
        assertEquals(0.5, ClassificationMetrics.compute(new int[] {0, 1, 2, 3}, new int[] {0, 2, 1, 3}, 4).accuracy(), 0);
    }

    /** classification_report docstring, first example, character for character. */
    @Test
    void classificationReportDocstring() {
        ClassificationMetrics m = ClassificationMetrics.compute(new int[] {0, 1, 2, 2, 2}, new int[] {0, 0, 2, 2, 1}, 3);
        String expected = """
                              precision    recall  f1-score   support

                     class 0       0.50      1.00      0.67         1
                     class 1       0.00      0.00      0.00         1
                     class 2       1.00      0.67      0.80         3

                    accuracy                           0.60         5
                   macro avg       0.50      0.56      0.49         5
                weighted avg       0.70      0.60      0.61         5
                """;
        assertEquals(expected, m.classificationReport(new String[] {"class 0", "class 1", "class 2"}));
    }

    /**
     * The same data with digits=4. Hand-derived from the exact fractions: class 0 p=1/2 r=1 f=2/3, class 2 p=1
     * r=2/3 f=4/5, macro (1/2, 5/9, 22/45), weighted (7/10, 3/5, 46/75).
     */
    @Test
    void classificationReportDigits() {
        ClassificationMetrics m = ClassificationMetrics.compute(new int[] {0, 1, 2, 2, 2}, new int[] {0, 0, 2, 2, 1}, 3);
        String expected = """
                              precision    recall  f1-score   support

                           0     0.5000    1.0000    0.6667         1
                           1     0.0000    0.0000    0.0000         1
                           2     1.0000    0.6667    0.8000         3

                    accuracy                         0.6000         5
                   macro avg     0.5000    0.5556    0.4889         5
                weighted avg     0.7000    0.6000    0.6133         5
                """;
        assertEquals(expected, m.classificationReport(null, 4));
        assertEquals(m.classificationReport(null, 2), m.toString());
    }

    /**
     * Python rounds the exact binary value half-to-even: format(29/200, '.2f') == '0.14' (29/200 is stored just
     * below 0.145) and format(1/8, '.2f') == '0.12' (an exact tie), where Java's String.format gives 0.15 and 0.13.
     */
    @Test
    void roundsLikePython() {
        assertEquals("0.14", ClassificationMetrics.fixed(29.0 / 200, 2));
        assertEquals("0.12", ClassificationMetrics.fixed(0.125, 2));
        assertEquals("0.38", ClassificationMetrics.fixed(0.375, 2));
        assertEquals("1", ClassificationMetrics.fixed(0.5 + 1e-12, 0));
        assertEquals("0", ClassificationMetrics.fixed(0.5, 0));
        assertEquals("0.15", String.format("%.2f", 29.0 / 200), "the JDK behaviour that fixed() exists to avoid");

        int[] yTrue = new int[200];
        for (int i = 29; i < 200; i++) yTrue[i] = 1;
        String report = ClassificationMetrics.compute(yTrue, new int[200], 2).classificationReport(new String[] {"neg", "pos"});
        assertTrue(report.contains("         neg       0.14      1.00      0.25        29\n"), report);
    }

    /** A class absent from both arrays: F1 is ill-defined; zero_division decides whether macro F1 counts it as 0 or 1. */
    @Test
    void absentClassZeroDivision() {
        int[] t = {0, 1, 0, 1, 1};
        int[] p = {0, 1, 1, 1, 0};
        ClassificationMetrics warn = ClassificationMetrics.compute(t, p, 3);
        assertTrue(warn.f1IllDefined(2) && warn.precisionIllDefined(2) && warn.recallIllDefined(2));
        assertFalse(warn.f1IllDefined(0));
        assertEquals(3, warn.warnings().size());
        assertTrue(warn.warnings().get(2).startsWith("F-score is ill-defined and being set to 0.0 for class 2 "), warn.warnings().toString());
        // class 0: tp 1, T 2, P 2 -> 1/2; class 1: tp 2, T 3, P 3 -> 2/3
        assertEquals((0.5 + 2.0 / 3 + 0) / 3, warn.macroF1(), EPS);
        ClassificationMetrics one = ClassificationMetrics.compute(t, p, 3, ZeroDivision.ONE);
        assertEquals((0.5 + 2.0 / 3 + 1) / 3, one.macroF1(), EPS);
        // weighted averages ignore it either way (support 0)
        assertEquals(warn.weightedF1(), one.weightedF1(), EPS);
        assertEquals(0.6, one.accuracy(), 0);
    }

    @Test
    void rejectsEmptyAndBadArguments() {
        assertThrows(IllegalArgumentException.class, () -> ClassificationMetrics.compute(new int[0], new int[0], 3));
        ClassificationMetrics m = ClassificationMetrics.compute(Y_TRUE, Y_PRED, 3);
        assertThrows(IllegalArgumentException.class, () -> m.classificationReport(new String[] {"a", "b"}));
        assertThrows(IllegalArgumentException.class, () -> m.classificationReport(null, -1));
    }
}
