package org.finsent.train.optim;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link ClassWeights#balanced} against n/(k·count_c) worked by hand, and its refusals. */
class ClassWeightsTest {

    @Test
    void balancedWeights() {
        // n = 6, k = 3, counts (3, 1, 2): 6/9, 6/3, 6/6
        assertArrayEquals(new double[]{2.0 / 3, 2.0, 1.0}, ClassWeights.balanced(new int[]{0, 2, 0, 1, 2, 0}, 3), 1e-15);
        assertArrayEquals(new double[]{1, 1}, ClassWeights.balanced(new int[]{1, 0, 0, 1}, 2), 0.0);
        // FinancialPhraseBank-like 604 negative / 2879 neutral / 1363 positive (n = 4846)
        int[] y = new int[4846];
        for (int i = 604; i < 604 + 2879; i++) y[i] = 1;
        for (int i = 604 + 2879; i < y.length; i++) y[i] = 2;
        double[] w = ClassWeights.balanced(y, 3);
        assertArrayEquals(new double[]{4846.0 / (3 * 604), 4846.0 / (3 * 2879), 4846.0 / (3 * 1363)}, w, 1e-15);
        assertArrayEquals(new long[]{604, 2879, 1363}, ClassWeights.counts(y, 3));
    }

    @Test
    void refusals() {
        var e = assertThrows(IllegalArgumentException.class, () -> ClassWeights.balanced(new int[]{0, 0, 2}, 3));
        assertTrue(e.getMessage().contains("class 1"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ClassWeights.balanced(new int[]{0, 3}, 3));
        assertThrows(IllegalArgumentException.class, () -> ClassWeights.balanced(new int[]{0, -1}, 3));
        assertThrows(IllegalArgumentException.class, () -> ClassWeights.balanced(new int[0], 2));
        assertThrows(IllegalArgumentException.class, () -> ClassWeights.balanced(new int[]{0}, 0));
    }
}
