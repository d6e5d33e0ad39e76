package org.finsent.core.model;

import org.finsent.core.nn.FastPaths;
import org.finsent.core.nn.Projection;
import org.finsent.core.nn.ProjectionSlot;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link SingleSequenceForward} against {@link BertLayer}'s path: the training forward with dropout 0 (which never
 * takes the single-sequence path; InferenceModeTest shows it equals BertLayer's eval forward bit for bit) must give
 * the same bits — every hidden state, the pooled output, the logits, and every gradient of a backward after the
 * eval forward — on lengths that take each of {@link org.finsent.core.nn.Gemm}'s block layouts (1 row, the
 * small-matrix blocks up to 20 rows, column blocks, row blocks from 128 rows) and the buffers' growth in steps of 32.
 * Its ONNX Runtime oracle on the real MiniLM is {@code MiniLmOnnxRuntimeOracleTest}.
 */
class SingleSequenceForwardTest {
    // wide enough for the small-matrix and column-split GEMM blocks: hidden 64 (4 heads), intermediate 256
    private static final BertConfig CONFIG = new BertConfig(50, 64, 2, 4, 256, 160, 2, 1e-12, "gelu", 0.0, 0.0, 3);

    private static BertForSequenceClassification classifier(BertConfig c, DataType type) {
        var m = new BertForSequenceClassification(c, type, 5);
        TinyModels.randomize(m.parameters(), 5);
        return m;
    }

    private static Batch sequence(int t, int vocab, long seed) {
        Random rnd = new Random(seed);
        int[] ids = new int[t], types = new int[t], mask = new int[t];
        for (int i = 0; i < t; i++) {
            ids[i] = rnd.nextInt(vocab);
            types[i] = i < t / 2 ? 0 : 1;
            mask[i] = 1;
        }
        return new Batch(new int[][]{ids}, new int[][]{types}, new int[][]{mask});
    }

    private static double[] values(INDArray x) {
        return x.dup().data().asDouble();
    }

    private static List<double[]> values(List<INDArray> xs) {
        List<double[]> out = new ArrayList<>();
        for (INDArray x : xs) out.add(values(x));
        return out;
    }

    @Test
    void sameBitsAsTheLayersPath() {
        Assumptions.assumeTrue(FastPaths.enabled(), "the single-sequence path needs the CPU fast paths");
        for (int t : new int[]{1, 2, 7, 20, 21, 33, 64, 130}) {
            for (boolean readout : new boolean[]{false, true}) {
                for (boolean skip : new boolean[]{false, true}) {
                    String what = "T=" + t + " poolerRowsOnly=" + readout + " skipPadding=" + skip;
                    Batch batch = sequence(t, CONFIG.vocabSize(), t);
                    var m = classifier(CONFIG, DataType.FLOAT);
                    m.bert.poolerRowsOnly(readout);
                    m.bert.skipPadding(skip);

                    m.train(true);                                   // dropout 0: BertLayer's path, the reference
                    double[] hRef = values(m.bert.forward(batch));
                    List<double[]> statesRef = values(m.bert.hiddenStates());
                    assertFalse(m.bert.singleSequenceRan());
                    double[] logitsRef = values(m.forward(batch));

                    m.train(false);
                    double[] h = values(m.bert.forward(batch));
                    assertTrue(m.bert.singleSequenceRan(), what + ": the single-sequence path ran");
                    List<double[]> states = values(m.bert.hiddenStates());
                    double[] logits = values(m.forward(batch));
                    assertTrue(m.bert.singleSequenceRan());

                    assertArrayEquals(hRef, h, 0.0, what + " last hidden state");
                    assertEquals(statesRef.size(), states.size(), what);
                    for (int i = 0; i < states.size(); i++) assertArrayEquals(statesRef.get(i), states.get(i), 0.0, what + " hidden state " + i);
                    assertArrayEquals(logitsRef, logits, 0.0, what + " logits");
                }
            }
        }
    }

    @Test
    void aBackwardAfterItRecomputesTheLayersAndGivesTheSameGradients() {
        Assumptions.assumeTrue(FastPaths.enabled(), "the single-sequence path needs the CPU fast paths");
        Batch batch = sequence(19, CONFIG.vocabSize(), 3);
        List<double[]> logits = new ArrayList<>(), grads = new ArrayList<>();
        for (boolean training : new boolean[]{true, false}) {
            var m = classifier(CONFIG, DataType.FLOAT);
            m.train(training);
            m.zeroGrad();
            INDArray out = m.forward(batch);
            assertEquals(!training, m.bert.singleSequenceRan());
            logits.add(values(out));
            m.backward(Nd4j.linspace(-1, 1, out.length(), DataType.FLOAT).reshape(out.shape()));
            grads.add(m.parameters().stream().flatMapToDouble(p -> java.util.Arrays.stream(values(p.grad()))).toArray());
        }
        assertArrayEquals(logits.get(0), logits.get(1), 0.0, "logits");
        assertArrayEquals(grads.get(0), grads.get(1), 0.0, "every gradient");
    }

    @Test
    void otherInputsKeepTheLayersPath() {
        Assumptions.assumeTrue(FastPaths.enabled(), "the single-sequence path needs the CPU fast paths");
        var m = classifier(CONFIG, DataType.FLOAT);
        m.train(false);
        m.forward(sequence(9, CONFIG.vocabSize(), 1));
        assertTrue(m.bert.singleSequenceRan(), "the positive control");

        m.forward(TinyModels.batch(false, 0));                          // two sequences
        assertFalse(m.bert.singleSequenceRan(), "a batch of two");
        Batch padded = new Batch(new int[][]{{5, 6, 7, 0}}, new int[][]{{0, 0, 0, 0}}, new int[][]{{1, 1, 1, 0}});
        m.forward(padded);
        assertFalse(m.bert.singleSequenceRan(), "one sequence with padding");

        var fp64 = classifier(CONFIG, DataType.DOUBLE);
        fp64.train(false);
        fp64.forward(sequence(9, CONFIG.vocabSize(), 1));
        assertFalse(fp64.bert.singleSequenceRan(), "FP64");

        // a wrapped projection (as a PEFT method wraps one): still the same logits, through BertLayer
        double[] before = values(m.forward(sequence(9, CONFIG.vocabSize(), 1)));
        ProjectionSlot slot = m.insertionPoints().projections().get(0);
        Projection plain = slot.get().get();
        slot.set().accept(new Projection() {
            public INDArray forward(INDArray x) { return plain.forward(x); }
            public INDArray backward(INDArray dy) { return plain.backward(dy); }
            public INDArray backwardAdd(INDArray dy, INDArray dxSum) { return plain.backwardAdd(dy, dxSum); }
            public void backwardParameters(INDArray dy) { plain.backwardParameters(dy); }
            public int inFeatures() { return plain.inFeatures(); }
            public int outFeatures() { return plain.outFeatures(); }
            public List<org.finsent.core.nn.Parameter> parameters() { return plain.parameters(); }
        });
        double[] wrapped = values(m.forward(sequence(9, CONFIG.vocabSize(), 1)));
        assertFalse(m.bert.singleSequenceRan(), "a wrapped projection");
        assertArrayEquals(before, wrapped, 0.0, "the same logits either way");
    }

    @Test
    void badTokenIdsFailAsTheEmbeddingDoes() {
        Assumptions.assumeTrue(FastPaths.enabled(), "the single-sequence path needs the CPU fast paths");
        var m = classifier(CONFIG, DataType.FLOAT);
        m.train(false);
        Batch bad = new Batch(new int[][]{{3, 50}}, new int[][]{{0, 0}}, new int[][]{{1, 1}});
        var e = assertThrows(IllegalArgumentException.class, () -> m.forward(bad));
        assertTrue(e.getMessage().contains("word_embeddings") && e.getMessage().contains("50"), e.getMessage());
        Batch badType = new Batch(new int[][]{{3, 4}}, new int[][]{{0, 2}}, new int[][]{{1, 1}});
        var e2 = assertThrows(IllegalArgumentException.class, () -> m.forward(badType));
        assertTrue(e2.getMessage().contains("token_type_embeddings"), e2.getMessage());
    }
}
