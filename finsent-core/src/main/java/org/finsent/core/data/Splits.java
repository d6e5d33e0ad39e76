package org.finsent.core.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Train / validation / test splits for a data set that comes as one file (FinancialPhraseBank has no official
 * split; the Twitter set's official validation split is held back, so its train file is split here).
 *
 * <p>Three properties, each there for a reason:
 * <ul>
 *   <li><b>stratified</b>: FinancialPhraseBank is 59% neutral and 13% negative; a plain random 10% test split
 *       would let the negative class's size vary by a few dozen examples between seeds, and with it macro F1.
 *       Each class's examples are apportioned to the three splits separately (largest-remainder rounding, so a
 *       class of {@code n} examples gets {@code n·frac} rounded up or down: within one example of the ideal);</li>
 *   <li><b>duplicate-safe</b>: identical texts are kept in the same split. The real 50Agree file repeats some
 *       sentences; one copy in train and one in test would be a leaked test answer;</li>
 *   <li><b>deterministic</b>: the same input list and seed give the same splits on every machine and JDK
 *       ({@link Random} is specified exactly), so a reported score can be reproduced.</li>
 * </ul>
 * Duplicates are grouped by exact text. A group is stratified under its most frequent label (ties: the lower id);
 * when all copies share a label, which is the normal case, the per-class counts stay within one example of the
 * ideal as long as the single examples of the class can absorb the groups' rounding (they can for any realistic
 * data; a class made only of large duplicate groups can be off by more).
 *
 * <p>Within each split, examples keep their input order (a training loop shuffles per epoch anyway, and file
 * order makes a split easy to inspect).
 */
public final class Splits {

    private Splits() {
    }

    /** The three splits and their class counts. */
    public record Result(List<Example> train, List<Example> validation, List<Example> test, int numClasses) {
        public Result {
            train = List.copyOf(train);
            validation = List.copyOf(validation);
            test = List.copyOf(test);
        }

        /** The splits in the order train, validation, test. */
        public List<List<Example>> all() {
            return List.of(train, validation, test);
        }

        /** {@code counts()[split][class]}, split 0 = train, 1 = validation, 2 = test. */
        public int[][] counts() {
            int[][] c = new int[3][numClasses];
            List<List<Example>> all = all();
            for (int s = 0; s < 3; s++) for (Example e : all.get(s)) c[s][e.label()]++;
            return c;
        }

        /**
         * A table of class counts per split, with totals. Class ids 0..2 are shown with the {@link Sentiment}
         * names because every reader in this package produces those ids; further ids as {@code class k}.
         */
        @Override
        public String toString() {
            int[][] c = counts();
            String[] names = new String[numClasses];
            for (int k = 0; k < numClasses; k++) names[k] = k < Sentiment.COUNT ? Sentiment.fromId(k).label() : "class " + k;
            int w = 10;
            for (String n : names) w = Math.max(w, n.length());
            StringBuilder sb = new StringBuilder();
            sb.append(String.format("%-10s", "split"));
            for (String n : names) sb.append(' ').append(pad(n, w));
            sb.append(' ').append(pad("total", w)).append('\n');
            String[] rows = {"train", "validation", "test"};
            int[] colTotals = new int[numClasses];
            int grand = 0;
            for (int s = 0; s < 3; s++) {
                sb.append(String.format("%-10s", rows[s]));
                int t = 0;
                for (int k = 0; k < numClasses; k++) {
                    sb.append(' ').append(pad(Integer.toString(c[s][k]), w));
                    t += c[s][k];
                    colTotals[k] += c[s][k];
                }
                grand += t;
                sb.append(' ').append(pad(Integer.toString(t), w)).append('\n');
            }
            sb.append(String.format("%-10s", "total"));
            for (int k = 0; k < numClasses; k++) sb.append(' ').append(pad(Integer.toString(colTotals[k]), w));
            sb.append(' ').append(pad(Integer.toString(grand), w)).append('\n');
            return sb.toString();
        }

        private static String pad(String s, int w) {
            return " ".repeat(Math.max(0, w - s.length())) + s;
        }
    }

    /**
     * Splits {@code examples} into train, validation and test.
     *
     * @param trainFrac fraction for training, in [0, 1]
     * @param valFrac   fraction for validation, in [0, 1]; the test split gets {@code 1 - trainFrac - valFrac}
     * @param seed      the only source of randomness
     * @throws IllegalArgumentException when a fraction is out of range or they sum to more than 1
     */
    public static Result stratified(List<Example> examples, double trainFrac, double valFrac, long seed) {
        if (!(trainFrac >= 0 && trainFrac <= 1) || !(valFrac >= 0 && valFrac <= 1)) {
            throw new IllegalArgumentException("fractions must be in [0, 1]: train " + trainFrac + ", validation " + valFrac);
        }
        double testFrac = 1.0 - trainFrac - valFrac;
        if (testFrac < -1e-9) throw new IllegalArgumentException("train + validation fractions exceed 1: " + (trainFrac + valFrac));
        testFrac = Math.max(0.0, testFrac);
        double[] fracs = {trainFrac, valFrac, testFrac};

        int numClasses = 0;
        for (Example e : examples) numClasses = Math.max(numClasses, e.label() + 1);

        // Group identical texts (indices into `examples`), in order of first occurrence.
        Map<String, List<Integer>> groupsByText = new LinkedHashMap<>();
        for (int i = 0; i < examples.size(); i++) {
            groupsByText.computeIfAbsent(examples.get(i).text(), t -> new ArrayList<>()).add(i);
        }
        List<List<List<Integer>>> groupsByClass = new ArrayList<>();
        for (int k = 0; k < numClasses; k++) groupsByClass.add(new ArrayList<>());
        for (List<Integer> g : groupsByText.values()) groupsByClass.get(majorityLabel(examples, g, numClasses)).add(g);

        int[] splitOf = new int[examples.size()];
        Random rnd = new Random(seed);
        for (int k = 0; k < numClasses; k++) {
            List<List<Integer>> groups = groupsByClass.get(k);
            Collections.shuffle(groups, rnd);
            // Big groups first, while every split still has room; the singletons then fill the targets exactly.
            groups.sort(Comparator.comparingInt((List<Integer> g) -> g.size()).reversed()); // stable: keeps the shuffle within a size
            int n = 0;
            for (List<Integer> g : groups) n += g.size();
            int[] target = apportion(n, fracs);
            int[] filled = new int[3];
            for (List<Integer> g : groups) {
                int best = 0;
                for (int s = 1; s < 3; s++) if (target[s] - filled[s] > target[best] - filled[best]) best = s;
                filled[best] += g.size();
                for (int idx : g) splitOf[idx] = best;
            }
        }
        List<List<Example>> out = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
        for (int i = 0; i < examples.size(); i++) out.get(splitOf[i]).add(examples.get(i));
        return new Result(out.get(0), out.get(1), out.get(2), numClasses);
    }

    /** Largest-remainder (Hamilton) apportionment of {@code n} items: each share is floor or ceil of n·frac. */
    static int[] apportion(int n, double[] fracs) {
        int[] out = new int[fracs.length];
        double[] rem = new double[fracs.length];
        int used = 0;
        for (int s = 0; s < fracs.length; s++) {
            double exact = n * fracs[s];
            out[s] = (int) Math.floor(exact + 1e-9);
            rem[s] = exact - out[s];
            used += out[s];
        }
        Integer[] order = {0, 1, 2};
        Arrays.sort(order, (a, b) -> Double.compare(rem[b], rem[a])); // stable: ties go to train, then validation
        for (int i = 0; used < n; i = (i + 1) % order.length) {
            if (fracs[order[i]] > 0 || Arrays.stream(fracs).allMatch(f -> f == 0)) {
                out[order[i]]++;
                used++;
            }
        }
        while (used > n) { // only through the 1e-9 slack above; take back from the largest
            int s = 0;
            for (int j = 1; j < out.length; j++) if (out[j] > out[s]) s = j;
            out[s]--;
            used--;
        }
        return out;
    }

    private static int majorityLabel(List<Example> examples, List<Integer> group, int numClasses) {
        if (group.size() == 1) return examples.get(group.get(0)).label();
        int[] c = new int[numClasses];
        for (int i : group) c[examples.get(i).label()]++;
        int best = 0;
        for (int k = 1; k < numClasses; k++) if (c[k] > c[best]) best = k;
        return best;
    }
}
