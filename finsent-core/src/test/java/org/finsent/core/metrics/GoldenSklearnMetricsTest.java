package org.finsent.core.metrics;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.finsent.core.oracle.Golden;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@link ClassificationMetrics} and {@link ConfusionMatrix} against scikit-learn 1.9.1 on golden/metrics/sklearn.json
 * (200 labels, two prediction sets: one ~70 % right, one that never predicts class 2, so its precision and F1 are
 * 0/0 and {@code zero_division=0} decides them). Per-class values, accuracy and the confusion matrix must be equal
 * (the same IEEE divisions); the macro and weighted averages to 1e-15 (numpy may sum in another order).
 */
class GoldenSklearnMetricsTest {

    @ParameterizedTest(name = "y_pred{0}")
    @CsvSource(value = {"'', y_pred", "no_class2., y_pred_no_class2"})
    void matchesScikitLearn(String prefix, String predictions) throws IOException {
        JsonNode r = new ObjectMapper().readTree(Golden.root().resolve("metrics/sklearn.json").toFile());
        int[] yTrue = ClassificationMetricsSklearnGoldenTest.ints(r.get("y_true")), yPred = ClassificationMetricsSklearnGoldenTest.ints(r.get(predictions));
        assertEquals(200, yTrue.length);

        ConfusionMatrix cm = ConfusionMatrix.of(yTrue, yPred, 3);
        long[][] want = new long[3][3];
        for (int i = 0; i < 3; i++) for (int j = 0; j < 3; j++) want[i][j] = r.get(prefix + "confusion_matrix").get(i).get(j).asLong();
        assertArrayEquals(want, cm.toArray(), "confusion_matrix");

        ClassificationMetrics m = ClassificationMetrics.compute(yTrue, yPred, 3, ZeroDivision.ZERO);
        assertArrayEquals(want, m.confusionMatrix().toArray());
        assertEquals(r.get(prefix + "accuracy").asDouble(), m.accuracy(), 0, "accuracy");
        JsonNode per = r.get(prefix + "per_class");
        assertArrayEquals(ClassificationMetricsSklearnGoldenTest.doubles(per.get("precision")), m.precision(), 0, "precision");
        assertArrayEquals(ClassificationMetricsSklearnGoldenTest.doubles(per.get("recall")), m.recall(), 0, "recall");
        assertArrayEquals(ClassificationMetricsSklearnGoldenTest.doubles(per.get("f1")), m.f1(), 0, "f1");
        JsonNode macro = r.get(prefix + "macro"), weighted = r.get(prefix + "weighted");
        assertEquals(macro.get("precision").asDouble(), m.macroPrecision(), 1e-15, "macro precision");
        assertEquals(macro.get("recall").asDouble(), m.macroRecall(), 1e-15, "macro recall");
        assertEquals(macro.get("f1").asDouble(), m.macroF1(), 1e-15, "macro f1");
        assertEquals(weighted.get("precision").asDouble(), m.weightedPrecision(), 1e-15, "weighted precision");
        assertEquals(weighted.get("recall").asDouble(), m.weightedRecall(), 1e-15, "weighted recall");
        assertEquals(weighted.get("f1").asDouble(), m.weightedF1(), 1e-15, "weighted f1");
    }
}
