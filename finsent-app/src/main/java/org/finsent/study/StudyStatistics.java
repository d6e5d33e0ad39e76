package org.finsent.study;

import org.finsent.core.metrics.ClassificationMetrics;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.ToDoubleFunction;

/**
 * The statistics the study's conclusions rest on, computed from the per-example test predictions each run saves
 * ({@link TestPredictions}, {@code test_predictions.csv}), so they can be recomputed from files:
 * <ul>
 *   <li>mean and sample standard deviation over training seeds;</li>
 *   <li>a 95 % percentile bootstrap interval of a metric's mean over seeds: test examples are resampled with
 *       replacement (the same resample for every seed, since all seeds are tested on the same split), which captures
 *       how much the figure depends on which sentences happened to land in the test split;</li>
 *   <li>McNemar's exact test between two runs on the same test examples (paired): the two-sided binomial test of
 *       the discordant pairs.</li>
 * </ul>
 */
public final class StudyStatistics {
    static final int BOOTSTRAP_REPLICATES = 2000;
    static final long BOOTSTRAP_SEED = 20261207L;

    private StudyStatistics() {
    }

    /** A metric of predictions against labels over the examples {@code idx} (with repeats). */
    public interface Metric {
        double of(int[] labels, int[] predicted, int[] idx, int numClasses);

        Metric ACCURACY = (y, p, idx, k) -> {
            int right = 0;
            for (int i : idx) if (y[i] == p[i]) right++;
            return (double) right / idx.length;
        };

        Metric MACRO_F1 = (y, p, idx, k) -> {
            int[] ys = new int[idx.length], ps = new int[idx.length];
            for (int j = 0; j < idx.length; j++) {
                ys[j] = y[idx[j]];
                ps[j] = p[idx[j]];
            }
            return ClassificationMetrics.compute(ys, ps, k).macroF1();
        };
    }

    /** Mean and sample standard deviation (n − 1; NaN for a single value). */
    public record MeanSd(double mean, double sd, int n) {
        public static MeanSd of(double[] xs) {
            double m = Arrays.stream(xs).average().orElse(Double.NaN);
            double ss = 0;
            for (double x : xs) ss += (x - m) * (x - m);
            return new MeanSd(m, xs.length > 1 ? Math.sqrt(ss / (xs.length - 1)) : Double.NaN, xs.length);
        }
    }

    /** A closed interval. */
    public record Interval(double low, double high) {
        /**
         * Where this interval lies relative to a reference figure: {@code above} (the whole interval is higher),
         * {@code below}, or {@code within} (the reference is inside: no difference the data can resolve).
         */
        public String versus(double reference) {
            return low > reference ? "above" : high < reference ? "below" : "within";
        }
    }

    /** The metric on every example, averaged over the runs (seeds). */
    public static double meanOverRuns(int[] labels, List<int[]> runs, Metric metric, int numClasses) {
        int[] all = new int[labels.length];
        for (int i = 0; i < all.length; i++) all[i] = i;
        return meanOf(labels, runs, metric, all, numClasses);
    }

    /**
     * 95 % percentile bootstrap interval of the metric's mean over the runs: {@code replicates} resamples of the test
     * examples (with replacement), the same resample applied to every run.
     */
    public static Interval bootstrap(int[] labels, List<int[]> runs, Metric metric, int numClasses, int replicates, long seed) {
        if (runs.isEmpty()) throw new IllegalArgumentException("no runs");
        return percentileInterval(labels.length, replicates, seed, idx -> meanOf(labels, runs, metric, idx, numClasses));
    }

    /**
     * 95 % percentile bootstrap interval of the difference of two groups' mean metrics, {@code mean(A) − mean(B)},
     * each group a list of runs on the same test examples (paired: one resample of the examples applied to every run
     * of both groups), e.g. one model's runs against another's over the seeds both have.
     */
    public static Interval bootstrapDifference(int[] labels, List<int[]> runsA, List<int[]> runsB, Metric metric, int numClasses,
                                               int replicates, long seed) {
        if (runsA.isEmpty() || runsB.isEmpty()) throw new IllegalArgumentException("no runs");
        return percentileInterval(labels.length, replicates, seed,
                idx -> meanOf(labels, runsA, metric, idx, numClasses) - meanOf(labels, runsB, metric, idx, numClasses));
    }

    private static double meanOf(int[] labels, List<int[]> runs, Metric metric, int[] idx, int numClasses) {
        double s = 0;
        for (int[] p : runs) s += metric.of(labels, p, idx, numClasses);
        return s / runs.size();
    }

    /** The 2.5 and 97.5 percentiles of {@code statistic} over {@code replicates} resamples (with replacement) of n examples. */
    private static Interval percentileInterval(int n, int replicates, long seed, ToDoubleFunction<int[]> statistic) {
        SplittableRandom rnd = new SplittableRandom(seed);
        double[] stats = new double[replicates];
        int[] idx = new int[n];
        for (int r = 0; r < replicates; r++) {
            for (int i = 0; i < n; i++) idx[i] = rnd.nextInt(n);
            stats[r] = statistic.applyAsDouble(idx);
        }
        Arrays.sort(stats);
        return new Interval(quantile(stats, 0.025), quantile(stats, 0.975));
    }

    /** Linear interpolation between order statistics (numpy's default, "linear"). */
    static double quantile(double[] sorted, double q) {
        double h = (sorted.length - 1) * q;
        int lo = (int) Math.floor(h);
        int hi = Math.min(sorted.length - 1, lo + 1);
        return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
    }

    /**
     * McNemar's exact test of two runs on the same examples.
     *
     * @param onlyA examples run A got right and run B wrong
     * @param onlyB examples run B got right and run A wrong
     * @param p     two-sided exact p-value: {@code min(1, 2·P(X ≤ min(onlyA, onlyB)))}, X ~ Binomial(onlyA + onlyB, ½)
     */
    public record McNemar(int onlyA, int onlyB, double p) {
        public boolean significant(double alpha) {
            return p < alpha;
        }
    }

    public static McNemar mcnemar(int[] labels, int[] a, int[] b) {
        if (a.length != labels.length || b.length != labels.length) throw new IllegalArgumentException("runs differ in length");
        int onlyA = 0, onlyB = 0;
        for (int i = 0; i < labels.length; i++) {
            boolean ra = a[i] == labels[i], rb = b[i] == labels[i];
            if (ra && !rb) onlyA++;
            else if (rb && !ra) onlyB++;
        }
        return new McNemar(onlyA, onlyB, exactTwoSided(onlyA, onlyB));
    }

    /** {@code min(1, 2·Σ_{i ≤ min(b, c)} C(n, i) / 2^n)}, n = b + c, summed in log space (n may be in the thousands). */
    static double exactTwoSided(int b, int c) {
        int n = b + c, k = Math.min(b, c);
        if (n == 0) return 1.0;
        double logTerm = -n * Math.log(2); // log C(n, 0) / 2^n
        double max = logTerm;
        List<Double> logs = new ArrayList<>();
        for (int i = 0; i <= k; i++) {
            logs.add(logTerm);
            max = Math.max(max, logTerm);
            logTerm += Math.log(n - i) - Math.log(i + 1.0); // C(n, i+1) = C(n, i)·(n − i)/(i + 1)
        }
        double s = 0;
        for (double l : logs) s += Math.exp(l - max);
        return Math.min(1.0, 2 * Math.exp(max + Math.log(s)));
    }
}
