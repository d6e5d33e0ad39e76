package org.finsent.peft;

import org.finsent.core.nn.Parameter;
import org.finsent.core.nn.VirtualTokens;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.random.impl.GaussianDistribution;
import org.nd4j.linalg.factory.Nd4j;

/**
 * PEFT's {@code PromptEmbedding}: P trainable rows prepended to the input embeddings. Random init is N(0, 1) as
 * torch's {@code nn.Embedding}; text init copies the word-embedding rows of the init text's tokens, repeated
 * or cut to P ({@code init_token_ids * ceil(P/len)} then {@code [:P]}).
 */
public final class PromptEmbedding implements VirtualTokens {
    public final Parameter embedding;

    public PromptEmbedding(PromptTuningConfig cfg, Parameter wordEmbeddings, DataType type) {
        int p = cfg.numVirtualTokens();
        long c = wordEmbeddings.value().size(1);
        embedding = new Parameter("prompt_encoder.embedding.weight", Nd4j.zeros(type, p, c));
        if (cfg.initTokenIds() == null) {
            Nd4j.getExecutioner().exec(new GaussianDistribution(embedding.value(), 0, 1), Nd4j.getRandomFactory().getNewRandomInstance(cfg.seed()));
        } else {
            int[] ids = cfg.initTokenIds();
            for (int i = 0; i < p; i++) {
                int id = ids[i % ids.length];
                if (id < 0 || id >= wordEmbeddings.value().rows()) throw new IllegalArgumentException("init token id " + id + " outside the vocabulary");
                embedding.value().putRow(i, wordEmbeddings.value().getRow(id).castTo(type));
            }
        }
    }

    @Override
    public int length() {
        return (int) embedding.value().rows();
    }

    @Override
    public INDArray embeddings() {
        return embedding.value();
    }

    @Override
    public void backward(INDArray d) {
        if (embedding.grad() != null) embedding.grad().addi(d);
    }
}
