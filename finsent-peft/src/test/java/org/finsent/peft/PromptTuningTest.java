package org.finsent.peft;

import org.finsent.core.model.Batch;
import org.finsent.core.model.BertForSequenceClassification;
import org.finsent.core.model.SequenceClassifier;
import org.finsent.core.nn.GradCheck;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PromptTuningTest {
    static final DataType D = DataType.DOUBLE;

    @Test
    void gradientsOnBertAndGpt2() {
        var cfg = PromptTuningConfig.random(3);
        assertEquals(1 + 2, Tiny.gradCheckTrainable(Peft.apply(Tiny.bert(D, 1), cfg), Tiny.batch(0)));
        assertEquals(1 + 1, Tiny.gradCheckTrainable(Peft.apply(Tiny.gpt2(D, 2), cfg), Tiny.batch(39)));
    }

    @Test
    void everyMethodAtOnce() {
        for (SequenceClassifier base : List.of(Tiny.bert(D, 3), Tiny.gpt2(D, 4))) {
            boolean bert = base instanceof BertForSequenceClassification;
            var m = Peft.apply(base, bert ? LoraConfig.bert(2, 4) : LoraConfig.gpt2(2, 4), new AdapterConfig("a", 4, 1),
                    new PrefixTuningConfig(2, false, 0, 2), new PromptTuningConfig(2, new int[]{7, 8, 9}, "x", 3));
            for (LoraLinear l : m.loraModules()) GradCheck.randomize(l.loraB.value(), 0, 0.3, 9);
            Tiny.gradCheckTrainable(m, Tiny.batch(bert ? 0 : 39));
        }
    }

    @Test
    void textInitCopiesTheWordEmbeddingsCyclically() {
        var base = Tiny.bert(D, 5);
        var m = Peft.apply(base, new PromptTuningConfig(5, new int[]{7, 11}, "two tokens", 1));
        INDArray e = m.promptEmbedding().embeddings(), words = base.bert.word.weight.value();
        int[] expected = {7, 11, 7, 11, 7};
        for (int i = 0; i < 5; i++) assertTrue(e.getRow(i).equals(words.getRow(expected[i])), "row " + i);
    }

    @Test
    void gpt2LeftPaddingStillChangesNothing() {
        var m = Peft.apply(Tiny.gpt2(D, 6), PromptTuningConfig.random(3));
        INDArray alone = m.forward(new Batch(new int[][]{{11, 4, 30}}, new int[1][3], new int[][]{{1, 1, 1}}));
        INDArray padded = m.forward(new Batch(new int[][]{{5, 17, 3, 22, 9}, {39, 39, 11, 4, 30}}, new int[2][5],
                new int[][]{{1, 1, 1, 1, 1}, {0, 0, 1, 1, 1}}));
        assertTrue(alone.getRow(0).sub(padded.getRow(1)).amaxNumber().doubleValue() <= 1e-12);
    }
}
