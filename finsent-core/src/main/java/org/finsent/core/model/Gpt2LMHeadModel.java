package org.finsent.core.model;

import org.finsent.core.nn.Gemm;
import org.finsent.core.nn.Parameter;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.List;

/**
 * GPT-2 with its language-model head tied to the token embedding: {@code logits = h·wteᵀ} ({@code [B·T, V]}).
 * The checkpoint key {@code lm_head.weight} is the same tensor as {@code transformer.wte.weight}; its gradient
 * accumulates from both uses.
 */
public final class Gpt2LMHeadModel {
    public final Gpt2Model transformer;
    private INDArray h;

    public Gpt2LMHeadModel(Gpt2Config c, DataType type, long seed) {
        transformer = new Gpt2Model(c, "transformer.", type, seed);
    }

    public INDArray forward(Batch batch) {
        h = transformer.forward(batch);
        INDArray logits = Nd4j.createUninitialized(h.dataType(), h.rows(), transformer.config.vocabSize()); // beta 0: never read
        Gemm.gemm(h, transformer.wte.weight.value(), logits, false, true, 1.0, 0.0);
        return logits;
    }

    public void backward(INDArray dLogits) {
        Parameter wte = transformer.wte.weight;
        if (wte.grad() != null) Gemm.gemm(dLogits, h, wte.grad(), true, false, 1.0, 1.0);   // dW += dLᵀ·h
        INDArray dh = Nd4j.createUninitialized(h.dataType(), h.rows(), h.columns());
        Gemm.gemm(dLogits, wte.value(), dh, false, false, 1.0, 0.0);                      // dh = dL·W
        transformer.backward(dh);
    }

    /**
     * Causal-LM loss of {@code batch} with {@code labels [B][T]} aligned with the inputs (usually the input ids, -100
     * at padding): Transformers' shift by one ({@link LanguageModelLoss#causal}); with {@code backward}, the
     * gradients of the loss scaled by {@code scale} (an accumulation group's share). Returns the unscaled loss.
     * One difference from Transformers, for left padding only: a prediction made <em>from</em> a padding position (the
     * last pad before the first token) is dropped; Transformers counts it, although that position attends to no key
     * and its hidden state means nothing. With right padding (what pretraining uses) the two are the same.
     */
    public LanguageModelLoss.Result loss(Batch batch, int[][] labels, boolean backward, double scale) {
        int[][] mask = batch.attentionMask();
        int[][] l = new int[labels.length][];
        for (int n = 0; n < labels.length; n++) {
            l[n] = labels[n].clone();
            // label i is predicted from position i−1: drop it when that position is padding
            for (int i = 1; i < l[n].length; i++) if (mask[n][i - 1] == 0) l[n][i] = LanguageModelLoss.IGNORE;
        }
        LanguageModelLoss.Result r = LanguageModelLoss.causal(forward(batch), l);
        if (backward && r.count() > 0) backward(scale == 1 ? r.dLogits() : r.dLogits().muli(scale));
        return r;
    }

    public void train(boolean on) {
        transformer.train(on);
    }

    /** Parameters by Hugging Face name ({@code lm_head.weight} is {@code transformer.wte.weight}). */
    public java.util.Map<String, Parameter> namedParameters() {
        java.util.Map<String, Parameter> m = new java.util.LinkedHashMap<>();
        for (Parameter p : parameters()) m.put(p.name(), p);
        return m;
    }

    public void zeroGrad() {
        for (Parameter p : parameters()) p.zeroGrad();
    }

    /** Where PEFT methods attach. */
    public org.finsent.core.nn.InsertionPoints insertionPoints() {
        return transformer.insertionPoints("GPT2LMHeadModel");
    }

    public List<Parameter> parameters() {
        return transformer.parameters();
    }
}
