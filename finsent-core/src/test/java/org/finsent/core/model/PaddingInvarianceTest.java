package org.finsent.core.model;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Padded positions never change the outputs at real positions (FP64, exact up to rounding). */
class PaddingInvarianceTest {
    static final double TOL = 1e-12;

    static void assertRowsEqual(INDArray a, long rowA, INDArray b, long rowB, String what) {
        for (long c = 0; c < a.columns(); c++) {
            assertEquals(a.getDouble(rowA, c), b.getDouble(rowB, c), TOL, what + " row " + rowA + " col " + c);
        }
    }

    @Test
    void bertHiddenStatesAndLogits() {
        var m = TinyModels.bertClassifier(11);
        m.bert.poolerRowsOnly(false);                                    // every row of the last layer
        Batch padded = TinyModels.batch(false, 0);                       // row 1 = [11,4,30,pad,pad]
        INDArray hPadded = m.bert.forward(padded);
        INDArray logitsPadded = m.forward(padded);
        Batch alone = new Batch(new int[][]{{11, 4, 30}}, new int[][]{{0, 0, 0}}, new int[][]{{1, 1, 1}});
        INDArray hAlone = m.bert.forward(alone);
        INDArray logitsAlone = m.forward(alone);
        for (int i = 0; i < 3; i++) assertRowsEqual(hPadded, 5 + i, hAlone, i, "bert hidden");
        assertRowsEqual(logitsPadded, 1, logitsAlone, 0, "bert logits");
    }

    /**
     * The classifier's defaults (layers on real tokens only, the last layer on [CLS] rows only) and each alone,
     * against every row computed: logits and all gradients, left and right padding.
     */
    @Test
    void bertSkippingRowsChangesNoLogitOrGradient() {
        boolean[][] modes = {{false, false}, {true, false}, {false, true}, {true, true}}; // {skipPadding, poolerRowsOnly}
        for (boolean left : new boolean[]{false, true}) {
            Batch batch = TinyModels.batch(left, 0);
            double[][] logits = new double[modes.length][];
            java.util.List<java.util.List<double[]>> grads = new java.util.ArrayList<>();
            for (int k = 0; k < modes.length; k++) {
                var m = TinyModels.bertClassifier(11);
                m.bert.skipPadding(modes[k][0]);
                m.bert.poolerRowsOnly(modes[k][1]);
                m.train(true);                                           // dropout is 0 in TinyModels
                m.zeroGrad();
                INDArray out = m.forward(batch);
                logits[k] = out.dup().data().asDouble();
                m.backward(ModelGradientTest.LOSS.compute(out, ModelGradientTest.LABELS).dLogits());
                java.util.List<double[]> g = new java.util.ArrayList<>();
                for (var p : m.parameters()) g.add(p.grad().dup().data().asDouble());
                grads.add(g);
            }
            for (int k = 1; k < modes.length; k++) {
                String side = (left ? "left padding" : "right padding") + ", skipPadding " + modes[k][0] + ", poolerRowsOnly " + modes[k][1];
                org.junit.jupiter.api.Assertions.assertArrayEquals(logits[0], logits[k], 1e-14, side + " logits");
                for (int i = 0; i < grads.get(0).size(); i++) {
                    double[] want = grads.get(0).get(i);
                    double scale = java.util.Arrays.stream(want).map(Math::abs).max().orElse(0);
                    org.junit.jupiter.api.Assertions.assertArrayEquals(want, grads.get(k).get(i), 1e-13 * Math.max(scale, 1e-3),
                            side + " gradient of parameter " + i);
                }
            }
        }
    }

    @Test
    void gpt2RightAndLeftPadding() {
        var m = TinyModels.gpt2Classifier(12);
        Batch alone = new Batch(new int[][]{{11, 4, 30}}, new int[][]{{0, 0, 0}}, new int[][]{{1, 1, 1}});
        INDArray hAlone = m.transformer.forward(alone);
        INDArray logitsAlone = m.forward(alone);
        for (boolean left : new boolean[]{false, true}) {
            Batch padded = TinyModels.batch(left, 39);
            INDArray h = m.transformer.forward(padded);
            int offset = left ? 2 : 0;
            for (int i = 0; i < 3; i++) assertRowsEqual(h, 5 + offset + i, hAlone, i, "gpt2 hidden left=" + left);
            assertRowsEqual(m.forward(padded), 1, logitsAlone, 0, "gpt2 logits left=" + left);
        }
    }

    @Test
    void gpt2PadEqualToEosInsideAndAtTheEndOfTheText() {
        var m = TinyModels.gpt2Classifier(13);
        int eos = 39;
        // text ends with eos and also contains it; padded with eos on the right
        Batch padded = new Batch(new int[][]{{1, 2, 3, 4}, {7, eos, 8, eos}, {5, eos, eos, eos}},
                new int[3][4], new int[][]{{1, 1, 1, 1}, {1, 1, 1, 1}, {1, 1, 0, 0}});
        Batch alone = new Batch(new int[][]{{5, eos}}, new int[1][2], new int[][]{{1, 1}});
        assertRowsEqual(m.forward(padded), 2, m.forward(alone), 0, "pooled at the last real token, an eos");
    }
}
