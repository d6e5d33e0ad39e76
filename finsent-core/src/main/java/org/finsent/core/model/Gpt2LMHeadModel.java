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

    public void train(boolean on) {
        transformer.train(on);
    }

    public List<Parameter> parameters() {
        return transformer.parameters();
    }
}
