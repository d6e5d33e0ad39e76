package org.finsent.core.metrics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every case of {@code metrics/sklearn_golden.json}, written by scikit-learn itself
 * ({@code make_sklearn_golden.py} beside it): the docstring examples, rounding corner cases, absent classes under
 * each {@code zero_division}, digits 0 / 4 / 13, long and non-ASCII names, and random label sets.
 *
 * <p>Per-class values, accuracy, confusion matrices and the report text must match exactly (the same IEEE
 * divisions are done on both sides); the averages to 1e-15 (numpy may sum in another order).
 */
class ClassificationMetricsSklearnGoldenTest {

    @TestFactory
    Stream<DynamicTest> matchesScikitLearn() throws IOException {
        JsonNode root;
        try (InputStream in = getClass().getResourceAsStream("/metrics/sklearn_golden.json")) {
            if (in == null) throw new IllegalStateException("missing test resource metrics/sklearn_golden.json");
            root = new ObjectMapper().readTree(in);
        }
        assertTrue(root.get("cases").size() >= 30, "golden file lost cases");
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode c : root.get("cases")) {
            tests.add(DynamicTest.dynamicTest(c.get("name").asText() + " (sklearn " + root.get("sklearn").asText() + ")", () -> check(c)));
        }
        return tests.stream();
    }

    private static void check(JsonNode c) {
        int k = c.get("k").asInt();
        ZeroDivision zd = switch (c.get("zero_division").asText()) {
            case "warn" -> ZeroDivision.WARN;
            case "0" -> ZeroDivision.ZERO;
            case "1" -> ZeroDivision.ONE;
            default -> throw new IllegalArgumentException(c.get("zero_division").toString());
        };
        ClassificationMetrics m = ClassificationMetrics.compute(ints(c.get("y_true")), ints(c.get("y_pred")), k, zd);

        JsonNode cm = c.get("confusion");
        long[][] expectedCm = new long[k][k];
        for (int i = 0; i < k; i++) for (int j = 0; j < k; j++) expectedCm[i][j] = cm.get(i).get(j).asLong();
        assertArrayEquals(expectedCm, m.confusionMatrix().toArray(), "confusion_matrix");

        assertArrayEquals(doubles(c.get("precision")), m.precision(), 0, "precision");
        assertArrayEquals(doubles(c.get("recall")), m.recall(), 0, "recall");
        assertArrayEquals(doubles(c.get("f1")), m.f1(), 0, "f1");
        long[] support = new long[k];
        for (int i = 0; i < k; i++) support[i] = c.get("support").get(i).asLong();
        assertArrayEquals(support, m.support(), "support");
        assertEquals(c.get("accuracy").asDouble(), m.accuracy(), 0, "accuracy");

        double[] macro = doubles(c.get("macro"));
        assertArrayEquals(macro, new double[] {m.macroPrecision(), m.macroRecall(), m.macroF1()}, 1e-15, "macro");
        double[] weighted = doubles(c.get("weighted"));
        assertArrayEquals(weighted, new double[] {m.weightedPrecision(), m.weightedRecall(), m.weightedF1()}, 1e-15, "weighted");
        double[] micro = doubles(c.get("micro"));
        assertArrayEquals(micro, new double[] {m.microPrecision(), m.microRecall(), m.microF1()}, 1e-15, "micro");

        TreeSet<String> warned = new TreeSet<>();
        for (JsonNode w : c.get("warned")) warned.add(w.asText());
        TreeSet<String> ours = new TreeSet<>();
        for (String w : m.warnings()) ours.add(w.substring(0, w.indexOf(" is ill-defined")));
        assertEquals(warned, ours, "which metrics raised UndefinedMetricWarning");

        String[] names = null;
        if (!c.get("names").isNull()) {
            names = new String[k];
            for (int i = 0; i < k; i++) names[i] = c.get("names").get(i).asText();
        }
        assertEquals(c.get("report").asText(), m.classificationReport(names, c.get("digits").asInt()), "classification_report");
    }

    static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) out[i] = a.get(i).asInt();
        return out;
    }

    static double[] doubles(JsonNode a) {
        double[] out = new double[a.size()];
        for (int i = 0; i < out.length; i++) out[i] = a.get(i).asDouble();
        return out;
    }
}
