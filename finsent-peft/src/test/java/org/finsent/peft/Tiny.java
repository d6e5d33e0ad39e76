package org.finsent.peft;

import org.finsent.core.model.Batch;
import org.finsent.core.model.BertConfig;
import org.finsent.core.model.BertForSequenceClassification;
import org.finsent.core.model.CrossEntropyLoss;
import org.finsent.core.model.Gpt2Config;
import org.finsent.core.model.Gpt2ForSequenceClassification;
import org.finsent.core.model.SequenceClassifier;
import org.finsent.core.nn.GradCheck;
import org.finsent.core.nn.Parameter;
import org.nd4j.linalg.api.buffer.DataType;

/** Tiny BERT/GPT-2 classifiers (hidden 16 so a reduction factor of 16 still leaves a bottleneck of 1... use 4). */
final class Tiny {
    private Tiny() {
    }

    static final int[] LABELS = {2, 0};
    static final CrossEntropyLoss LOSS = new CrossEntropyLoss(new double[]{1.0, 2.5, 0.7});

    static BertForSequenceClassification bert(DataType type, long seed) {
        var m = new BertForSequenceClassification(new BertConfig(40, 16, 2, 2, 24, 16, 2, 1e-12, "gelu", 0, 0, 3), type, seed);
        randomize(m, seed);
        return m;
    }

    static Gpt2ForSequenceClassification gpt2(DataType type, long seed) {
        var m = new Gpt2ForSequenceClassification(new Gpt2Config(40, 16, 16, 2, 2, 24, "gelu_new", 0, 0, 0, 1e-5, 3, 39), type, seed);
        randomize(m, seed);
        return m;
    }

    static void randomize(SequenceClassifier m, long seed) {
        long s = seed;
        for (Parameter p : m.parameters()) {
            boolean ln = p.name().contains("LayerNorm.weight") || p.name().matches(".*ln_(1|2|f)\\.weight");
            GradCheck.randomize(p.value(), ln ? 1 : 0, ln ? 0.2 : 0.4, s++);
        }
    }

    static Batch batch(int pad) {
        return new Batch(new int[][]{{5, 17, 3, 22, 9}, {11, 4, 30, pad, pad}},
                new int[][]{{0, 0, 0, 1, 1}, {0, 0, 0, 0, 0}}, new int[][]{{1, 1, 1, 1, 1}, {1, 1, 1, 0, 0}});
    }

    static double loss(SequenceClassifier m, Batch b) {
        return LOSS.compute(m.forward(b), LABELS).loss();
    }

    /** Finite-difference check of every trainable parameter (FP64). */
    static int gradCheckTrainable(SequenceClassifier m, Batch b) {
        m.zeroGrad();
        m.backward(LOSS.compute(m.forward(b), LABELS).dLogits());
        int n = 0;
        for (Parameter p : m.parameters()) {
            if (!p.trainable()) continue;
            GradCheck.check(p.name(), p.value(), p.grad(), () -> loss(m, b), 20, n++);
        }
        return n;
    }
}
