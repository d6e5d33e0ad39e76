package org.finsent.core.metrics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ConfusionMatrixTest {

    /** sklearn/metrics/_classification.py, confusion_matrix docstring, first example. */
    @Test
    void sklearnDocstringExample() {
        ConfusionMatrix m = ConfusionMatrix.of(new int[] {2, 0, 2, 2, 0, 1}, new int[] {0, 0, 2, 2, 0, 2}, 3);
        assertArrayEquals(new long[][] {{2, 0, 0}, {0, 0, 1}, {1, 0, 2}}, m.toArray());
        assertEquals("[[2, 0, 0], [0, 0, 1], [1, 0, 2]]", m.toString());
    }

    /**
     * Same docstring, string labels with labels=["ant", "bird", "cat"]: mapping ant→0, bird→1, cat→2 must give the
     * same matrix, which pins the orientation (rows are true labels) independently of the first example.
     */
    @Test
    void sklearnDocstringStringLabels() {
        // y_true = ["cat", "ant", "cat", "cat", "ant", "bird"], y_pred = ["ant", "ant", "cat", "cat", "ant", "cat"]
        ConfusionMatrix m = ConfusionMatrix.of(new int[] {2, 0, 2, 2, 0, 1}, new int[] {0, 0, 2, 2, 0, 2}, 3);
        assertArrayEquals(new long[][] {{2, 0, 0}, {0, 0, 1}, {1, 0, 2}}, m.toArray());
    }

    /** Same docstring: tn, fp, fn, tp = confusion_matrix([0, 1, 0, 1], [1, 1, 1, 0]).ravel() == (0, 2, 1, 1). */
    @Test
    void sklearnDocstringBinaryRavel() {
        ConfusionMatrix m = ConfusionMatrix.of(new int[] {0, 1, 0, 1}, new int[] {1, 1, 1, 0}, 2);
        assertEquals(0, m.get(0, 0)); // tn
        assertEquals(2, m.get(0, 1)); // fp
        assertEquals(1, m.get(1, 0)); // fn
        assertEquals(1, m.get(1, 1)); // tp
    }

    @Test
    void absentClassStillHasRowAndColumnAndMarginsAddUp() {
        ConfusionMatrix m = ConfusionMatrix.of(new int[] {0, 0, 2, 2, 2}, new int[] {0, 2, 2, 0, 2}, 4);
        assertEquals(4, m.numClasses());
        assertArrayEquals(new long[][] {{1, 0, 1, 0}, {0, 0, 0, 0}, {1, 0, 2, 0}, {0, 0, 0, 0}}, m.toArray());
        assertEquals(5, m.total());
        assertEquals(3, m.correct());
        assertEquals(2, m.trueCount(0));
        assertEquals(3, m.trueCount(2));
        assertEquals(2, m.predictedCount(0));
        assertEquals(3, m.predictedCount(2));
        assertEquals(0, m.trueCount(1));
        assertEquals(2, m.truePositives(2));
    }

    @Test
    void toArrayIsACopy() {
        ConfusionMatrix m = ConfusionMatrix.of(new int[] {0, 1}, new int[] {0, 1}, 2);
        m.toArray()[0][0] = 99;
        assertEquals(1, m.get(0, 0));
        assertEquals(m, ConfusionMatrix.of(new int[] {1, 0}, new int[] {1, 0}, 2));
    }

    @Test
    void rejectsBadInput() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ConfusionMatrix.of(new int[] {0, 1, 3}, new int[] {0, 1, 1}, 3));
        assertTrue(e.getMessage().contains("yTrue[2] = 3"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ConfusionMatrix.of(new int[] {0, 1}, new int[] {0, -1}, 3));
        assertTrue(e.getMessage().contains("yPred[1] = -1"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ConfusionMatrix.of(new int[] {0, 1}, new int[] {0}, 3));
        assertThrows(IllegalArgumentException.class, () -> ConfusionMatrix.of(new int[0], new int[0], 0));
    }
}
