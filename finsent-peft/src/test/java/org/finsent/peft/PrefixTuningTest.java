package org.finsent.peft;

import org.finsent.core.model.Batch;
import org.finsent.core.model.BertConfig;
import org.finsent.core.model.BertForSequenceClassification;
import org.finsent.core.model.SequenceClassifier;
import org.finsent.core.nn.Attention;
import org.finsent.core.nn.GradCheck;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PrefixTuningTest {
    static final DataType D = DataType.DOUBLE;

    @Test
    void gradientsWithAndWithoutProjection() {
        for (boolean projection : new boolean[]{true, false}) {
            var cfg = new PrefixTuningConfig(3, projection, 6, 1);
            assertTrue(Tiny.gradCheckTrainable(Peft.apply(Tiny.bert(D, 1), cfg), Tiny.batch(0)) >= 3);
            assertTrue(Tiny.gradCheckTrainable(Peft.apply(Tiny.gpt2(D, 2), cfg), Tiny.batch(39)) >= 2);
        }
    }

    @Test
    void composedLoraAdapterAndPrefix() {
        for (SequenceClassifier base : List.of(Tiny.bert(D, 3), Tiny.gpt2(D, 4))) {
            boolean bert = base instanceof BertForSequenceClassification;
            var m = Peft.apply(base, bert ? LoraConfig.bert(2, 4) : LoraConfig.gpt2(2, 4), new AdapterConfig("a", 4, 2),
                    new PrefixTuningConfig(2, true, 5, 3));
            for (LoraLinear l : m.loraModules()) GradCheck.randomize(l.loraB.value(), 0, 0.3, 7);
            Tiny.gradCheckTrainable(m, Tiny.batch(bert ? 0 : 39));
        }
    }

    @Test
    void maskingThePrefixOutReproducesAttentionWithoutIt() {
        // Zero prefix values are not the identity (the prefix keys still take softmax mass); a masked prefix is.
        int b = 2, h = 2, t = 4, d = 3, p = 3;
        INDArray q = rnd(1, b, h, t, d), k = rnd(2, b, h, t, d), v = rnd(3, b, h, t, d);
        INDArray pk = rnd(4, b, h, p, d), pvZero = Nd4j.zeros(D, b, h, p, d);
        int[][] mask = {{1, 1, 1, 1}, {1, 1, 1, 0}};
        INDArray base = Attention.forward(q, k, v, Attention.mask(mask, false, D), null, false).out();
        INDArray kk = Nd4j.concat(2, pk, k), vv = Nd4j.concat(2, pvZero, v);
        INDArray withPrefix = Attention.forward(q, kk, vv, Attention.mask(mask, false, p, D), null, false).out();
        assertTrue(base.sub(withPrefix).amaxNumber().doubleValue() > 1e-3, "zero-valued prefix still changes the output");
        INDArray hidden = Attention.mask(mask, false, p, D);
        hidden.get(org.nd4j.linalg.indexing.NDArrayIndex.all(), org.nd4j.linalg.indexing.NDArrayIndex.all(),
                org.nd4j.linalg.indexing.NDArrayIndex.all(), org.nd4j.linalg.indexing.NDArrayIndex.interval(0, p)).assign(-Double.MAX_VALUE);
        INDArray masked = Attention.forward(q, kk, vv, hidden, null, false).out();
        assertTrue(base.sub(masked).amaxNumber().doubleValue() <= 1e-15, "masked prefix = no prefix");
    }

    @Test
    void leftPaddingStillChangesNothingWithAPrefix() {
        var m = Peft.apply(Tiny.gpt2(D, 5), new PrefixTuningConfig(3, true, 6, 5));
        INDArray alone = m.forward(new Batch(new int[][]{{11, 4, 30}}, new int[1][3], new int[][]{{1, 1, 1}}));
        INDArray padded = m.forward(new Batch(new int[][]{{5, 17, 3, 22, 9}, {39, 39, 11, 4, 30}}, new int[2][5],
                new int[][]{{1, 1, 1, 1, 1}, {0, 0, 1, 1, 1}}));
        assertTrue(alone.getRow(0).sub(padded.getRow(1)).amaxNumber().doubleValue() <= 1e-12);
    }

    @Test
    void bertBasePrefixCountMatchesTheArchitecture() {
        var m = Peft.apply(new BertForSequenceClassification(BertConfig.base(3), DataType.FLOAT, 1), PrefixTuningConfig.study());
        assertEquals(14_772_480L + 2_307, m.trainableCount());
        System.out.println("BERT-Base prefix tuning (10 tokens, projection 768): " + m.trainableParametersReport());
    }

    static INDArray rnd(long seed, long... shape) {
        INDArray x = Nd4j.zeros(D, shape);
        GradCheck.randomize(x, 0, 1, seed);
        return x;
    }

}
