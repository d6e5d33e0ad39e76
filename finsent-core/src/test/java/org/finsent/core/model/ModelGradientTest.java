package org.finsent.core.model;

import org.finsent.core.nn.GradCheck;
import org.finsent.core.nn.Parameter;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * Whole tiny BERT and GPT-2 classifiers (2 layers, 2 heads, padded batch, class-weighted cross-entropy) against
 * central finite differences in FP64, for every parameter tensor (see {@link GradCheck}).
 */
class ModelGradientTest {
    static final int[] LABELS = {2, 0};
    static final CrossEntropyLoss LOSS = new CrossEntropyLoss(new double[]{1.0, 2.5, 0.7});

    static void checkAll(SequenceClassifier m, Batch batch) {
        m.zeroGrad();
        var r = LOSS.compute(m.forward(batch), LABELS);
        m.backward(r.dLogits());
        int checked = 0;
        for (Parameter p : m.parameters()) {
            if (!p.trainable()) continue;
            GradCheck.check(p.name(), p.value(), p.grad(), () -> LOSS.compute(m.forward(batch), LABELS).loss(), 24, checked);
            checked++;
        }
        assertEquals(m.parameters().size(), checked);
    }

    @Test
    void keyBiasGradientIsZeroAsSoftmaxCancelsIt() {
        var m = TinyModels.bertClassifier(1);
        Batch batch = TinyModels.batch(false, 0);
        m.zeroGrad();
        m.backward(LOSS.compute(m.forward(batch), LABELS).dLogits());
        Parameter kb = m.namedParameters().get("bert.encoder.layer.0.attention.self.key.bias");
        Parameter qb = m.namedParameters().get("bert.encoder.layer.0.attention.self.query.bias");
        org.junit.jupiter.api.Assertions.assertTrue(kb.grad().norm2Number().doubleValue() < 1e-14, "key bias grad " + kb.grad());
        org.junit.jupiter.api.Assertions.assertTrue(qb.grad().norm2Number().doubleValue() > 1e-6, "query bias grad is not zero");
    }

    @Test
    void tinyBertClassifier() {
        checkAll(TinyModels.bertClassifier(1), TinyModels.batch(false, 0));
    }

    @Test
    void tinyGpt2ClassifierRightAndLeftPadding() {
        checkAll(TinyModels.gpt2Classifier(2), TinyModels.batch(false, 39));
        checkAll(TinyModels.gpt2Classifier(3), TinyModels.batch(true, 39));
    }

    @Test
    void tiedLmHeadGetsBothGradients() {
        var m = new Gpt2LMHeadModel(TinyModels.gpt2(0), DataType.DOUBLE, 4);
        TinyModels.randomize(m.parameters(), 4);
        Batch batch = TinyModels.batch(false, 39);
        INDArray r = org.nd4j.linalg.factory.Nd4j.zeros(DataType.DOUBLE, 10, 40);
        GradCheck.randomize(r, 0, 1, 5);
        for (Parameter p : m.parameters()) p.zeroGrad();
        m.forward(batch);
        m.backward(r);
        Parameter wte = m.transformer.wte.weight;
        GradCheck.check("tied wte", wte.value(), wte.grad(), () -> m.forward(batch).mul(r).sumNumber().doubleValue(), 60, 1);
    }

    @Test
    void frozenParametersGetNoGradientAndOthersAreUnchanged() {
        var m = TinyModels.bertClassifier(6);
        Batch batch = TinyModels.batch(false, 0);
        for (Parameter p : m.bert.parameters()) p.setTrainable(false);   // head-only training
        var r = LOSS.compute(m.forward(batch), LABELS);
        m.backward(r.dLogits());
        for (Parameter p : m.bert.parameters()) assertNull(p.grad());
        GradCheck.check("classifier.weight (head only)", m.classifier.weight.value(), m.classifier.weight.grad(),
                () -> LOSS.compute(m.forward(batch), LABELS).loss(), 30, 1);
    }
}
