package org.finsent.core.model;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * BERT's and GPT-2's inference forward (train(false)): LayerNorms that keep no x̂ and a GELU written over its input must give
 * the training forward's numbers (dropout 0 here), and a backward after it must recompute what it did not keep.
 */
class InferenceModeTest {

    private static BertForSequenceClassification classifier(DataType type) {
        var m = new BertForSequenceClassification(TinyModels.bert(0), type, 21);
        TinyModels.randomize(m.parameters(), 21);
        return m;
    }

    @Test
    void inferenceForwardEqualsTheTrainingForwardBitForBit() {
        // FP32 takes the fused host kernels (the in-place GELU, the LayerNorm without x̂); FP64 the ND4J ops
        for (DataType type : new DataType[]{DataType.FLOAT, DataType.DOUBLE}) {
            for (boolean left : new boolean[]{false, true}) {
                Batch batch = TinyModels.batch(left, 0);
                var m = classifier(type);
                m.bert.poolerRowsOnly(false);
                m.train(true);
                double[] hTrain = m.bert.forward(batch).dup().data().asDouble();
                double[] logitsTrain = m.forward(batch).dup().data().asDouble();
                m.train(false);
                double[] hInfer = m.bert.forward(batch).dup().data().asDouble();
                double[] logitsInfer = m.forward(batch).dup().data().asDouble();
                assertArrayEquals(hTrain, hInfer, 0.0, type + " hidden states, left=" + left);
                assertArrayEquals(logitsTrain, logitsInfer, 0.0, type + " logits, left=" + left);
            }
        }
    }

    private static Gpt2ForSequenceClassification gpt2(DataType type) {
        var m = new Gpt2ForSequenceClassification(TinyModels.gpt2(0), type, 22);
        TinyModels.randomize(m.parameters(), 22);
        return m;
    }

    /** Logits and every gradient of a fresh model after a training-mode and after an eval-mode forward + backward. */
    private static void assertEvalModeMatchesTraining(java.util.function.Supplier<SequenceClassifier> fresh, Batch batch,
                                                      DataType type, String what) {
        java.util.List<double[]> logits = new java.util.ArrayList<>(), grads = new java.util.ArrayList<>();
        for (boolean training : new boolean[]{true, false}) {
            SequenceClassifier m = fresh.get();
            m.train(training);
            m.zeroGrad();
            INDArray out = m.forward(batch);
            logits.add(out.dup().data().asDouble());
            m.backward(Nd4j.linspace(-1, 1, out.length(), type).reshape(out.shape()));
            grads.add(m.parameters().stream().flatMapToDouble(p -> java.util.Arrays.stream(p.grad().dup().data().asDouble())).toArray());
        }
        assertArrayEquals(logits.get(0), logits.get(1), 0.0, what + " logits");
        assertArrayEquals(grads.get(0), grads.get(1), 0.0, what + " every gradient");
    }

    /**
     * Eval-mode gradients (attributions, or a gradient check without dropout) recompute what the eval forward did not
     * keep: the LayerNorms' x̂ and rstd, the GELU's input.
     */
    @Test
    void evalModeLogitsAndGradientsEqualTheTrainingModeOnes() {
        for (DataType type : new DataType[]{DataType.FLOAT, DataType.DOUBLE}) {
            for (boolean left : new boolean[]{false, true}) {
                assertEvalModeMatchesTraining(() -> classifier(type), TinyModels.batch(left, 0), type, "BERT " + type + " left=" + left);
                assertEvalModeMatchesTraining(() -> gpt2(type), TinyModels.batch(left, 39), type, "GPT-2 " + type + " left=" + left);
            }
        }
    }
}
