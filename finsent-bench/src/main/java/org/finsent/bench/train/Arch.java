package org.finsent.bench.train;

import org.finsent.core.model.BertConfig;
import org.finsent.core.model.BertForSequenceClassification;
import org.finsent.core.model.Gpt2Config;
import org.finsent.core.model.Gpt2ForSequenceClassification;
import org.finsent.core.model.SequenceClassifier;
import org.nd4j.linalg.api.buffer.DataType;

/** The three model shapes of the training benchmarks (random weights: timing depends on shapes only). */
public enum Arch {
    /** bert-base-uncased: 12 × 768, 12 heads, FFN 3072, post-LN, erf GELU. */
    BERT_BASE(BertConfig.base(3), null),
    /** all-MiniLM-L6-v2: 6 × 384, 12 heads, FFN 1536. */
    MINILM(new BertConfig(30522, 384, 6, 12, 1536, 512, 2, 1e-12, "gelu", 0.1, 0.1, 3), null),
    /** gpt2 (124M): 12 × 768, 12 heads, FFN 3072, pre-LN, causal, tanh GELU. */
    GPT2_SMALL(null, Gpt2Config.small(3));

    public final BertConfig bert;
    public final Gpt2Config gpt2;

    Arch(BertConfig bert, Gpt2Config gpt2) {
        this.bert = bert;
        this.gpt2 = gpt2;
    }

    public boolean decoder() {
        return gpt2 != null;
    }

    public int layers() {
        return bert != null ? bert.numHiddenLayers() : gpt2.nLayer();
    }

    public int hidden() {
        return bert != null ? bert.hiddenSize() : gpt2.nEmbd();
    }

    public int heads() {
        return bert != null ? bert.numAttentionHeads() : gpt2.nHead();
    }

    public int ffn() {
        return bert != null ? bert.intermediateSize() : gpt2.nInner();
    }

    public int vocab() {
        return bert != null ? bert.vocabSize() : gpt2.vocabSize();
    }

    public int maxPositions() {
        return bert != null ? bert.maxPositionEmbeddings() : gpt2.nPositions();
    }

    public int numLabels() {
        return 3;
    }

    /** The FinSent classifier of this shape, FP32, initialised as Hugging Face does. */
    public SequenceClassifier newModel(long seed) {
        return bert != null ? new BertForSequenceClassification(bert, DataType.FLOAT, seed)
                : new Gpt2ForSequenceClassification(gpt2, DataType.FLOAT, seed);
    }
}
