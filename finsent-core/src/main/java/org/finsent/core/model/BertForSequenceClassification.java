package org.finsent.core.model;

import org.finsent.core.nn.Dropout;
import org.finsent.core.nn.Linear;
import org.finsent.core.nn.Parameter;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.List;

/** {@code logits = classifier(Drop(pooler(BERT(x))))}, Hugging Face names {@code bert.*} and {@code classifier.*}. */
public final class BertForSequenceClassification implements SequenceClassifier {
    public final BertModel bert;
    public final Linear classifier;
    private final Dropout dropout;

    public BertForSequenceClassification(BertConfig c, DataType type, long seed) {
        bert = new BertModel(c, "bert.", true, type, seed);
        bert.skipPadding(true);     // the logits read [CLS] only: no work for padding positions...
        bert.poolerRowsOnly(true);  // ...nor for the last layer's other rows
        dropout = new Dropout(c.hiddenDropoutProb(), Nd4j.getRandomFactory().getNewRandomInstance(seed + 1));
        classifier = Linear.linear("classifier", c.hiddenSize(), c.numLabels(), true, type);
        org.finsent.core.nn.Init.initialize(classifier.parameters(), seed + 2, 0); // the encoder initialised itself
    }

    @Override
    public INDArray forward(Batch batch) {
        INDArray pooled = bert.pool(bert.forward(batch));
        return classifier.forward(dropout.forward(pooled, bert.training()));
    }

    @Override
    public void backward(INDArray dLogits) {
        INDArray dPooled = dropout.backward(classifier.backward(dLogits));
        bert.backward(bert.poolBackward(dPooled));
    }

    @Override
    public org.finsent.core.nn.InsertionPoints insertionPoints() {
        return bert.insertionPoints("BertForSequenceClassification");
    }

    @Override
    public List<Parameter> headParameters() {
        return classifier.parameters();
    }

    @Override
    public int hiddenSize() {
        return bert.config.hiddenSize();
    }

    @Override
    public int numLayers() {
        return bert.config.numHiddenLayers();
    }

    @Override
    public int numHeads() {
        return bert.config.numAttentionHeads();
    }

    @Override
    public void train(boolean on) {
        bert.train(on);
    }

    @Override
    public List<Parameter> parameters() {
        List<Parameter> p = new ArrayList<>(bert.parameters());
        p.addAll(classifier.parameters());
        return p;
    }
}
