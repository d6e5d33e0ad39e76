package org.finsent.study;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.MathContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.finsent.app.TestPredictions;
import org.finsent.core.metrics.ClassificationMetrics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StudyStatisticsTest {
    @TempDir
    Path tmp;

    /** An independent, exact evaluation of McNemar's two-sided p-value with integer binomial coefficients. */
    private static double exactByBigIntegers(int b, int c) {
        int n = b + c, k = Math.min(b, c);
        if (n == 0) return 1.0;
        BigInteger sum = BigInteger.ZERO, coef = BigInteger.ONE;
        for (int i = 0; i <= k; i++) {
            sum = sum.add(coef);
            coef = coef.multiply(BigInteger.valueOf(n - i)).divide(BigInteger.valueOf(i + 1));
        }
        BigDecimal p = new BigDecimal(sum.shiftLeft(1)).divide(new BigDecimal(BigInteger.ONE.shiftLeft(n)), MathContext.DECIMAL128);
        return Math.min(1.0, p.doubleValue());
    }

    @Test
    void mcnemarEqualsTheExactBinomialTestComputedWithIntegers() {
        int[][] cases = {{0, 0}, {1, 0}, {2, 10}, {10, 2}, {5, 5}, {0, 7}, {30, 12}, {120, 90}, {400, 351}, {3, 900}};
        for (int[] bc : cases) {
            double expected = exactByBigIntegers(bc[0], bc[1]);
            double actual = StudyStatistics.exactTwoSided(bc[0], bc[1]);
            assertEquals(expected, actual, Math.max(1e-300, 1e-12 * expected), bc[0] + "," + bc[1]);
        }
        assertEquals(1.0, StudyStatistics.exactTwoSided(6, 6), 0.0, "no difference: p = 1");
    }

    @Test
    void mcnemarCountsTheDiscordantPairsOfTwoRuns() {
        int[] y = {0, 1, 2, 0, 1, 2, 0, 1};
        int[] a = {0, 1, 2, 1, 1, 0, 0, 2}; // right on 0,1,2,4,6
        int[] b = {0, 0, 2, 0, 2, 2, 1, 1}; // right on 0,2,3,5,7
        var m = StudyStatistics.mcnemar(y, a, b);
        assertEquals(3, m.onlyA()); // 1, 4, 6
        assertEquals(3, m.onlyB()); // 3, 5, 7
        assertEquals(exactByBigIntegers(3, 3), m.p(), 0.0);
        assertThrows(IllegalArgumentException.class, () -> StudyStatistics.mcnemar(y, a, new int[3]));
    }

    private static int[][] synthetic(int n, double accuracy, long seed) {
        Random r = new Random(seed);
        int[] y = new int[n], p = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = r.nextInt(3);
            p[i] = r.nextDouble() < accuracy ? y[i] : (y[i] + 1 + r.nextInt(2)) % 3;
        }
        return new int[][] {y, p};
    }

    @Test
    void bootstrapIntervalOfAccuracyMatchesTheNormalApproximationForALargeSplit() {
        int[][] d = synthetic(4000, 0.8, 1);
        double acc = StudyStatistics.meanOverRuns(d[0], List.of(d[1]), StudyStatistics.Metric.ACCURACY, 3);
        var ci = StudyStatistics.bootstrap(d[0], List.of(d[1]), StudyStatistics.Metric.ACCURACY, 3, 2000, 7);
        double halfWidth = 1.959964 * Math.sqrt(acc * (1 - acc) / 4000); // Wald interval, accurate at this n
        assertTrue(ci.low() < acc && acc < ci.high(), ci + " around " + acc);
        assertEquals(halfWidth, (ci.high() - ci.low()) / 2, 0.15 * halfWidth, "bootstrap half-width vs normal approximation");
        assertEquals(acc, (ci.high() + ci.low()) / 2, 0.25 * halfWidth, "the percentile interval is about symmetric here");
    }

    @Test
    void bootstrapIsDeterministicAndDegenerateWhenEveryPredictionIsRight() {
        int[][] d = synthetic(300, 0.7, 2);
        var a = StudyStatistics.bootstrap(d[0], List.of(d[1]), StudyStatistics.Metric.MACRO_F1, 3, 500, 3);
        var b = StudyStatistics.bootstrap(d[0], List.of(d[1]), StudyStatistics.Metric.MACRO_F1, 3, 500, 3);
        assertEquals(a, b);
        var perfect = StudyStatistics.bootstrap(d[0], List.of(d[0]), StudyStatistics.Metric.ACCURACY, 3, 200, 3);
        assertEquals(new StudyStatistics.Interval(1.0, 1.0), perfect);
        // two identical seeds give the interval of one
        assertEquals(StudyStatistics.bootstrap(d[0], List.of(d[1]), StudyStatistics.Metric.ACCURACY, 3, 500, 9),
                StudyStatistics.bootstrap(d[0], List.of(d[1], d[1]), StudyStatistics.Metric.ACCURACY, 3, 500, 9));
    }

    @Test
    void pairedDifferenceIntervalMatchesTheNormalApproximationOfPairedProportions() {
        int n = 4000;
        int[][] a = synthetic(n, 0.8, 5);
        int[] y = a[0], pa = a[1], pb = new int[n];
        Random r = new Random(6);
        // B agrees with A on most examples (paired runs of two models), differs on a tenth
        for (int i = 0; i < n; i++) pb[i] = r.nextDouble() < 0.9 ? pa[i] : r.nextInt(3);
        int onlyA = 0, onlyB = 0;
        for (int i = 0; i < n; i++) {
            if (pa[i] == y[i] && pb[i] != y[i]) onlyA++;
            if (pb[i] == y[i] && pa[i] != y[i]) onlyB++;
        }
        double p10 = (double) onlyA / n, p01 = (double) onlyB / n, d = p10 - p01;
        // variance of a paired difference of proportions: (p10 + p01 − (p10 − p01)²) / n
        double halfWidth = 1.959964 * Math.sqrt((p10 + p01 - d * d) / n);
        var ci = StudyStatistics.bootstrapDifference(y, List.of(pa), List.of(pb), StudyStatistics.Metric.ACCURACY, 3, 2000, 11);
        assertEquals(halfWidth, (ci.high() - ci.low()) / 2, 0.15 * halfWidth, "half-width vs normal approximation");
        assertEquals(d, (ci.high() + ci.low()) / 2, 0.25 * halfWidth, "centred on the observed difference");
        // an unpaired interval would be several times wider: pairing is what the shared resample buys
        double unpaired = 1.959964 * Math.sqrt(2 * 0.8 * 0.2 / n);
        assertTrue((ci.high() - ci.low()) / 2 < 0.6 * unpaired, ci + " vs unpaired half-width " + unpaired);

        var swapped = StudyStatistics.bootstrapDifference(y, List.of(pb), List.of(pa), StudyStatistics.Metric.ACCURACY, 3, 2000, 11);
        assertEquals(-ci.high(), swapped.low(), 1e-15);
        assertEquals(-ci.low(), swapped.high(), 1e-15);
        assertEquals(new StudyStatistics.Interval(0.0, 0.0),
                StudyStatistics.bootstrapDifference(y, List.of(pa), List.of(pa, pa), StudyStatistics.Metric.ACCURACY, 3, 300, 1));
        assertThrows(IllegalArgumentException.class,
                () -> StudyStatistics.bootstrapDifference(y, List.of(), List.of(pa), StudyStatistics.Metric.ACCURACY, 3, 10, 1));
    }

    @Test
    void macroF1MetricIsScikitLearnsOnTheResample() {
        int[][] d = synthetic(200, 0.6, 4);
        int[] all = new int[200];
        for (int i = 0; i < 200; i++) all[i] = i;
        assertEquals(ClassificationMetrics.compute(d[0], d[1], 3).macroF1(),
                StudyStatistics.Metric.MACRO_F1.of(d[0], d[1], all, 3), 0.0);
    }

    @Test
    void placeOfAReferenceRelativeToAnInterval() {
        var ci = new StudyStatistics.Interval(0.80, 0.85);
        assertEquals("above", ci.versus(0.79));
        assertEquals("within", ci.versus(0.8377));
        assertEquals("within", ci.versus(0.80));
        assertEquals("below", ci.versus(0.8555));
    }

    @Test
    void meanAndSampleStandardDeviation() {
        var m = StudyStatistics.MeanSd.of(new double[] {0.8522, 0.8658, 0.8590});
        assertEquals((0.8522 + 0.8658 + 0.8590) / 3, m.mean(), 1e-15);
        double mean = m.mean();
        double var = (Math.pow(0.8522 - mean, 2) + Math.pow(0.8658 - mean, 2) + Math.pow(0.8590 - mean, 2)) / 2;
        assertEquals(Math.sqrt(var), m.sd(), 1e-15);
        assertTrue(Double.isNaN(StudyStatistics.MeanSd.of(new double[] {0.9}).sd()));
    }

    @Test
    void predictionsFileRoundTripsAndBadFilesAreRefused() throws IOException {
        var p = new TestPredictions(new int[] {0, 2, 1}, new int[] {0, 1, 1});
        p.write(tmp);
        var back = TestPredictions.read(tmp);
        assertArrayEquals(p.labels(), back.labels());
        assertArrayEquals(p.predicted(), back.predicted());
        assertNull(TestPredictions.read(tmp.resolve("none")));
        Files.writeString(tmp.resolve(TestPredictions.FILE), "index,label,prediction\n0,1\n");
        assertThrows(IOException.class, () -> TestPredictions.read(tmp));
    }
}
