package org.finsent.core.model;

import org.finsent.core.nn.Linear;
import org.finsent.core.nn.Parameter;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code logits = score(h[last real token])}: GPT-2 with a bias-free {@code score} head read at each row's last
 * non-padding position. The position comes from the attention mask, so right or left padding both work and a
 * pad token equal to {@code <|endoftext|>} may also occur inside (or at the end of) the text.
 */
public final class Gpt2ForSequenceClassification implements SequenceClassifier {
    public final Gpt2Model transformer;
    public final Linear score;
    private int[] lastRows;
    private long rows;

    public Gpt2ForSequenceClassification(Gpt2Config c, DataType type, long seed) {
        transformer = new Gpt2Model(c, "transformer.", type, seed);
        transformer.lastTokenOnly(true);   // the score head reads nothing else of the last block
        score = Linear.linear("score", c.nEmbd(), c.numLabels(), false, type);
        org.finsent.core.nn.Init.initialize(score.parameters(), seed + 2, c.nLayer()); // the decoder initialised itself
    }

    @Override
    public INDArray forward(Batch batch) {
        return head(batch, transformer.forward(batch));
    }

    /**
     * With explicit position ids ({@link Gpt2Model#forward(Batch, int[][])}); {@link Gpt2Model#sequentialPositions}
     * gives Hugging Face's default {@code 0..T-1}, which reproduces {@code GPT2ForSequenceClassification} called
     * without {@code position_ids} on a left-padded batch.
     */
    public INDArray forward(Batch batch, int[][] positions) {
        return head(batch, transformer.forward(batch, positions));
    }

    private INDArray head(Batch batch, INDArray h) {
        rows = h.rows();
        lastRows = Gpt2Model.lastTokenRows(transformer.effectiveMask(batch.attentionMask()));
        return score.forward(Nd4j.pullRows(h, 1, lastRows));
    }

    @Override
    public void backward(INDArray dLogits) {
        INDArray dPooled = score.backward(dLogits);
        INDArray dh = Nd4j.zeros(dPooled.dataType(), rows, dPooled.columns());
        for (int n = 0; n < lastRows.length; n++) dh.putRow(lastRows[n], dPooled.getRow(n));
        transformer.backward(dh);
    }

    @Override
    public org.finsent.core.nn.InsertionPoints insertionPoints() {
        return transformer.insertionPoints("GPT2ForSequenceClassification");
    }

    @Override
    public List<Parameter> headParameters() {
        return score.parameters();
    }

    @Override
    public int hiddenSize() {
        return transformer.config.nEmbd();
    }

    @Override
    public int numLayers() {
        return transformer.config.nLayer();
    }

    @Override
    public int numHeads() {
        return transformer.config.nHead();
    }

    @Override
    public void train(boolean on) {
        transformer.train(on);
    }

    @Override
    public List<Parameter> parameters() {
        List<Parameter> p = new ArrayList<>(transformer.parameters());
        p.addAll(score.parameters());
        return p;
    }
}
