package org.finsent.core.metrics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Random label sets checked against a deliberately naive implementation written from scikit-learn's documented
 * definitions (per-sample loops, F1 as the harmonic mean of precision and recall, no shared code), plus
 * invariants that hold for any correct implementation.
 */
class ClassificationMetricsPropertyTest {

    private static final double TOL = 1e-12;

    @Test
    void agreesWithNaiveImplementation() {
        Random rnd = new Random(42);
        for (int trial = 0; trial < 400; trial++) {
            int k = 1 + rnd.nextInt(6);
            int n = 1 + rnd.nextInt(rnd.nextBoolean() ? 8 : 300);
            int[] t = new int[n];
            int[] p = new int[n];
            int stuck = rnd.nextInt(k);
            double skew = rnd.nextDouble();
            double trueSkew = rnd.nextDouble();
            for (int i = 0; i < n; i++) {
                t[i] = rnd.nextDouble() < trueSkew ? 0 : rnd.nextInt(k);
                p[i] = rnd.nextDouble() < 0.5 ? t[i] : rnd.nextDouble() < skew ? stuck : rnd.nextInt(k);
            }
            for (ZeroDivision zd : ZeroDivision.values()) {
                ClassificationMetrics m = ClassificationMetrics.compute(t, p, k, zd);
                Naive ref = new Naive(t, p, k, zd.value());
                String ctx = "trial " + trial + " k=" + k + " n=" + n + " " + zd;
                assertArrayEquals(ref.precision, m.precision(), TOL, ctx);
                assertArrayEquals(ref.recall, m.recall(), TOL, ctx);
                assertArrayEquals(ref.f1, m.f1(), TOL, ctx);
                assertArrayEquals(ref.support, m.support(), ctx);
                assertEquals(ref.accuracy, m.accuracy(), TOL, ctx);
                assertEquals(ref.macro(ref.f1), m.macroF1(), TOL, ctx);
                assertEquals(ref.macro(ref.precision), m.macroPrecision(), TOL, ctx);
                assertEquals(ref.macro(ref.recall), m.macroRecall(), TOL, ctx);
                assertEquals(ref.weighted(ref.f1), m.weightedF1(), TOL, ctx);
                assertEquals(ref.weighted(ref.precision), m.weightedPrecision(), TOL, ctx);
                assertEquals(ref.weighted(ref.recall), m.weightedRecall(), TOL, ctx);
                assertEquals(ref.microF1, m.microF1(), TOL, ctx);
                // identities: support-weighted recall is the accuracy; values are probabilities
                assertEquals(m.accuracy(), m.weightedRecall(), TOL, ctx);
                for (int c = 0; c < k; c++) {
                    assertTrue(m.f1(c) >= 0 && m.f1(c) <= 1 && m.precision(c) >= 0 && m.precision(c) <= 1, ctx);
                    assertTrue(m.f1(c) <= Math.max(m.precision(c), m.recall(c)) + TOL, ctx);
                }
                assertEquals(zd == ZeroDivision.WARN && ref.anyUndefined, !m.warnings().isEmpty(), ctx);
            }
        }
    }

    /** Renaming the classes permutes the per-class results and leaves the averages unchanged; sample order is irrelevant. */
    @Test
    void invariantUnderClassRenamingAndSampleOrder() {
        Random rnd = new Random(7);
        for (int trial = 0; trial < 100; trial++) {
            int k = 2 + rnd.nextInt(4);
            int n = 1 + rnd.nextInt(100);
            int[] t = new int[n];
            int[] p = new int[n];
            for (int i = 0; i < n; i++) {
                t[i] = rnd.nextInt(k);
                p[i] = rnd.nextBoolean() ? t[i] : rnd.nextInt(k);
            }
            int[] perm = permutation(k, rnd);
            int[] order = permutation(n, rnd);
            int[] t2 = new int[n];
            int[] p2 = new int[n];
            for (int i = 0; i < n; i++) {
                t2[i] = perm[t[order[i]]];
                p2[i] = perm[p[order[i]]];
            }
            ClassificationMetrics a = ClassificationMetrics.compute(t, p, k);
            ClassificationMetrics b = ClassificationMetrics.compute(t2, p2, k);
            for (int c = 0; c < k; c++) {
                assertEquals(a.f1(c), b.f1(perm[c]), 0);
                assertEquals(a.precision(c), b.precision(perm[c]), 0);
                assertEquals(a.support(c), b.support(perm[c]));
            }
            assertEquals(a.macroF1(), b.macroF1(), TOL);
            assertEquals(a.weightedF1(), b.weightedF1(), TOL);
            assertEquals(a.accuracy(), b.accuracy(), 0);
        }
    }

    private static int[] permutation(int n, Random rnd) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) a[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int x = a[i];
            a[i] = a[j];
            a[j] = x;
        }
        return a;
    }

    /** Textbook definitions, one sample at a time. */
    private static final class Naive {
        final double[] precision;
        final double[] recall;
        final double[] f1;
        final long[] support;
        final double accuracy;
        final double microF1;
        boolean anyUndefined;

        Naive(int[] t, int[] p, int k, double zeroDivision) {
            precision = new double[k];
            recall = new double[k];
            f1 = new double[k];
            support = new long[k];
            int correct = 0;
            for (int i = 0; i < t.length; i++) if (t[i] == p[i]) correct++;
            accuracy = correct / (double) t.length;
            for (int c = 0; c < k; c++) {
                int tp = 0, fp = 0, fn = 0;
                for (int i = 0; i < t.length; i++) {
                    if (p[i] == c && t[i] == c) tp++;
                    else if (p[i] == c) fp++;
                    else if (t[i] == c) fn++;
                }
                support[c] = tp + fn;
                boolean pUndef = tp + fp == 0;
                boolean rUndef = tp + fn == 0;
                precision[c] = pUndef ? zeroDivision : tp / (double) (tp + fp);
                recall[c] = rUndef ? zeroDivision : tp / (double) (tp + fn);
                if (pUndef && rUndef) f1[c] = zeroDivision;          // "f-score: both" (zero_division doc)
                else if (precision[c] + recall[c] == 0) f1[c] = 0;
                else f1[c] = 2 * precision[c] * recall[c] / (precision[c] + recall[c]);
                anyUndefined |= pUndef || rUndef;
            }
            int tpAll = 0, fpAll = 0, fnAll = 0;
            for (int i = 0; i < t.length; i++) {
                if (t[i] == p[i]) tpAll++;
                else {
                    fpAll++;
                    fnAll++;
                }
            }
            double mp = tpAll / (double) (tpAll + fpAll);
            double mr = tpAll / (double) (tpAll + fnAll);
            microF1 = mp + mr == 0 ? 0 : 2 * mp * mr / (mp + mr);
        }

        double macro(double[] x) {
            double s = 0;
            for (double v : x) s += v;
            return s / x.length;
        }

        double weighted(double[] x) {
            double s = 0, w = 0;
            for (int c = 0; c < x.length; c++) {
                s += x[c] * support[c];
                w += support[c];
            }
            return s / w;
        }
    }
}
