package org.finsent.core.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SplitsTest {

    /** An imbalanced synthetic set with duplicate groups of 2..4 copies, like a scraped corpus. */
    private static List<Example> synthetic(long seed) {
        Random r = new Random(seed);
        List<Example> out = new ArrayList<>();
        int[] sizes = {130, 590, 280};
        int line = 1;
        for (int c = 0; c < 3; c++) {
            for (int i = 0; i < sizes[c]; i++) {
                String text = "class " + c + " sentence " + i;
                int copies = r.nextInt(20) == 0 ? 2 + r.nextInt(3) : 1;
                for (int k = 0; k < copies; k++) out.add(new Example(text, c, "syn:" + line++));
            }
        }
        java.util.Collections.shuffle(out, r);
        return out;
    }

    @Test
    void partitionIsStratifiedAndKeepsDuplicatesTogether() {
        List<Example> data = synthetic(1);
        Splits.Result s = Splits.stratified(data, 0.8, 0.1, 42);
        assertPartition(data, s);
        assertStratified(data, s, 0.8, 0.1);
        assertNoTextInTwoSplits(s);
        assertTrue(data.size() > 1030, "the fixture must contain duplicates");
    }

    @Test
    void deterministicForASeedAndDifferentForAnother() {
        List<Example> data = synthetic(2);
        Splits.Result a = Splits.stratified(data, 0.7, 0.15, 123);
        Splits.Result b = Splits.stratified(data, 0.7, 0.15, 123);
        Splits.Result c = Splits.stratified(data, 0.7, 0.15, 124);
        assertEquals(a, b);
        assertNotEquals(a.test(), c.test());
        assertArrayEquals(a.counts()[2], c.counts()[2], "class counts do not depend on the seed");
    }

    @Test
    void keepsInputOrderWithinEachSplit() {
        List<Example> data = synthetic(3);
        Map<Example, Integer> pos = new IdentityHashMap<>();
        for (int i = 0; i < data.size(); i++) pos.put(data.get(i), i);
        for (List<Example> split : Splits.stratified(data, 0.6, 0.2, 5).all()) {
            for (int i = 1; i < split.size(); i++) assertTrue(pos.get(split.get(i - 1)) < pos.get(split.get(i)));
        }
    }

    /** Copies of one text with different labels (annotator disagreement) are still never split apart. */
    @Test
    void conflictingDuplicatesStayTogether() {
        List<Example> data = new ArrayList<>(synthetic(4));
        for (int i = 0; i < 30; i++) {
            data.add(new Example("ambiguous " + i, 0, "x:" + i));
            data.add(new Example("ambiguous " + i, 2, "y:" + i));
        }
        Splits.Result s = Splits.stratified(data, 0.8, 0.1, 9);
        assertPartition(data, s);
        assertNoTextInTwoSplits(s);
    }

    /** Big duplicate groups are placed while every split still has room, so the singletons can fill the targets exactly. */
    @Test
    void largeDuplicateGroupsStillWithinOne() {
        for (long seed = 0; seed < 20; seed++) {
            List<Example> data = new ArrayList<>();
            for (int c = 0; c < 3; c++) {
                for (int k = 0; k < 8; k++) data.add(new Example("big group of class " + c, c, "g:" + c + "." + k));
                for (int k = 0; k < 12; k++) data.add(new Example("single " + c + "." + k, c, "s:" + c + "." + k));
            }
            Splits.Result s = Splits.stratified(data, 0.5, 0.25, seed);
            assertArrayEquals(new int[][] {{10, 10, 10}, {5, 5, 5}, {5, 5, 5}}, s.counts(), "seed " + seed + "\n" + s);
            assertNoTextInTwoSplits(s);
        }
    }

    @Test
    void countsAndTable() {
        List<Example> data = List.of(
                new Example("a", 0, "s:1"), new Example("b", 1, "s:2"), new Example("c", 1, "s:3"),
                new Example("d", 2, "s:4"), new Example("e", 2, "s:5"), new Example("f", 2, "s:6"));
        Splits.Result s = Splits.stratified(data, 0.5, 0.0, 0);
        // per class n·0.5 rounded by largest remainder, ties to train: class 0 (1) -> 1/0, class 1 (2) -> 1/1, class 2 (3) -> 2/1
        assertArrayEquals(new int[][] {{1, 1, 2}, {0, 0, 0}, {0, 1, 1}}, s.counts());
        assertEquals(0, s.validation().size());
        String table = s.toString();
        assertTrue(table.startsWith("split        negative    neutral   positive      total\n"), table);
        assertTrue(table.contains("\nvalidation          0          0          0          0\n"), table);
        assertTrue(table.contains("\ntest                0          1          1          2\n"), table);
        assertTrue(table.endsWith("total               1          2          3          6\n"), table);
    }

    @Test
    void apportionIsWithinOneOfTheIdealAndExhaustive() {
        Random r = new Random(3);
        for (int t = 0; t < 2000; t++) {
            int n = r.nextInt(500);
            double a = r.nextDouble();
            double b = r.nextDouble() * (1 - a);
            double[] f = {a, b, 1 - a - b};
            int[] out = Splits.apportion(n, f);
            assertEquals(n, out[0] + out[1] + out[2]);
            for (int s = 0; s < 3; s++) assertTrue(Math.abs(out[s] - n * f[s]) < 1.0 + 1e-9, n + " " + s);
        }
        assertArrayEquals(new int[] {8, 1, 1}, Splits.apportion(10, new double[] {0.8, 0.1, 0.1}));
    }

    @Test
    void rejectsBadFractions() {
        List<Example> data = List.of(new Example("a", 0, "s:1"));
        assertThrows(IllegalArgumentException.class, () -> Splits.stratified(data, 0.8, 0.3, 1));
        assertThrows(IllegalArgumentException.class, () -> Splits.stratified(data, -0.1, 0.3, 1));
        assertThrows(IllegalArgumentException.class, () -> Splits.stratified(data, Double.NaN, 0.1, 1));
    }

    /**
     * The real 50Agree development file: the duplicate sentences it contains (shared/README.md: six) are counted
     * here from the file, and no split may share a text with another.
     */
    @Test
    void realFinancialPhraseBank() throws IOException {
        Path p = SharedData.require(SharedData.FPB_50_DEV);
        List<Example> data = FinancialPhraseBank.read(p).examples();
        Map<String, Integer> copies = new HashMap<>();
        for (Example e : data) copies.merge(e.text(), 1, Integer::sum);
        int duplicatedLines = copies.values().stream().filter(v -> v > 1).mapToInt(Integer::intValue).sum();
        assertEquals(6, duplicatedLines, "lines whose sentence occurs more than once");

        Splits.Result s = Splits.stratified(data, 0.8, 0.1, 2024);
        assertPartition(data, s);
        assertStratified(data, s, 0.8, 0.1);
        assertNoTextInTwoSplits(s);
        System.out.print(s);
    }

    private static void assertPartition(List<Example> data, Splits.Result s) {
        Map<Example, Integer> seen = new IdentityHashMap<>();
        for (List<Example> split : s.all()) for (Example e : split) seen.merge(e, 1, Integer::sum);
        assertEquals(data.size(), seen.size());
        for (Example e : data) assertEquals(1, seen.get(e), e.source());
    }

    private static void assertStratified(List<Example> data, Splits.Result s, double train, double val) {
        int[] total = new int[s.numClasses()];
        for (Example e : data) total[e.label()]++;
        int[][] c = s.counts();
        double[] f = {train, val, 1 - train - val};
        for (int split = 0; split < 3; split++) {
            for (int k = 0; k < total.length; k++) {
                assertTrue(Math.abs(c[split][k] - total[k] * f[split]) <= 1.0 + 1e-9,
                        "split " + split + " class " + k + ": " + c[split][k] + " vs ideal " + total[k] * f[split] + "\n" + s);
            }
        }
    }

    private static void assertNoTextInTwoSplits(Splits.Result s) {
        List<Set<String>> texts = new ArrayList<>();
        for (List<Example> split : s.all()) {
            Set<String> t = new HashSet<>();
            for (Example e : split) t.add(e.text());
            texts.add(t);
        }
        for (int a = 0; a < 3; a++) {
            for (int b = a + 1; b < 3; b++) {
                Set<String> both = new HashSet<>(texts.get(a));
                both.retainAll(texts.get(b));
                assertTrue(both.isEmpty(), "splits " + a + " and " + b + " share " + both);
            }
        }
    }
}
