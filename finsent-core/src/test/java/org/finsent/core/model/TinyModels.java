package org.finsent.core.model;

import org.finsent.core.nn.GradCheck;
import org.finsent.core.nn.Parameter;
import org.nd4j.linalg.api.buffer.DataType;

import java.util.List;

/** Tiny FP64 BERT and GPT-2 configurations with random weights, for gradient checks and references. */
final class TinyModels {
    private TinyModels() {
    }

    static BertConfig bert(double dropout) {
        return new BertConfig(40, 8, 2, 2, 12, 16, 2, 1e-12, "gelu", dropout, dropout, 3);
    }

    static Gpt2Config gpt2(double dropout) {
        return new Gpt2Config(40, 16, 8, 2, 2, 12, "gelu_new", dropout, dropout, dropout, 1e-5, 3, 39);
    }

    /** LayerNorm weights around 1, everything else N(0, 0.4²). */
    static void randomize(List<Parameter> params, long seed) {
        long s = seed;
        for (Parameter p : params) {
            boolean lnWeight = p.name().endsWith("LayerNorm.weight") || p.name().matches(".*ln_(1|2|f)\\.weight");
            GradCheck.randomize(p.value(), lnWeight ? 1 : 0, lnWeight ? 0.2 : 0.4, s++);
        }
    }

    static BertForSequenceClassification bertClassifier(long seed) {
        var m = new BertForSequenceClassification(bert(0), DataType.DOUBLE, seed);
        randomize(m.parameters(), seed);
        return m;
    }

    static Gpt2ForSequenceClassification gpt2Classifier(long seed) {
        var m = new Gpt2ForSequenceClassification(gpt2(0), DataType.DOUBLE, seed);
        randomize(m.parameters(), seed);
        return m;
    }

    /** Two rows, the second padded at the end (right padding) or start (left). */
    static Batch batch(boolean leftPad, int pad) {
        int[][] ids = {{5, 17, 3, 22, 9}, {pad, pad, 11, 4, 30}};
        int[][] mask = {{1, 1, 1, 1, 1}, {0, 0, 1, 1, 1}};
        if (!leftPad) {
            ids[1] = new int[]{11, 4, 30, pad, pad};
            mask[1] = new int[]{1, 1, 1, 0, 0};
        }
        int[][] types = {{0, 0, 0, 1, 1}, {0, 0, 0, 0, 0}};
        return new Batch(ids, types, mask);
    }
}
