package org.finsent.core.nn;

import org.nd4j.linalg.api.ops.random.impl.GaussianDistribution;
import org.nd4j.linalg.api.rng.Random;
import org.nd4j.linalg.factory.Nd4j;

import java.util.List;

/**
 * Hugging Face's {@code _init_weights} for BERT and GPT-2, seeded: weights of projections and embeddings
 * ~ N(0, 0.02²), biases 0, LayerNorm γ = 1 and β = 0; GPT-2 additionally scales every {@code c_proj.weight} to
 * N(0, (0.02/√(2·n_layer))²) (the GPT-2 paper's residual scaling). Pretrained weights overwrite all of it except
 * new heads.
 */
public final class Init {
    public static final double STD = 0.02;

    private Init() {
    }

    public static void initialize(List<Parameter> params, long seed, int gpt2Layers) {
        Random rng = Nd4j.getRandomFactory().getNewRandomInstance(seed);
        for (Parameter p : params) {
            String n = p.name();
            boolean norm = n.contains("LayerNorm.") || n.matches(".*ln_(1|2|f)\\.(weight|bias)");
            if (norm) {
                p.value().assign(n.endsWith("weight") ? 1 : 0);
            } else if (n.endsWith(".bias")) {
                p.value().assign(0);
            } else {
                double std = gpt2Layers > 0 && n.endsWith("c_proj.weight") ? STD / Math.sqrt(2.0 * gpt2Layers) : STD;
                Nd4j.getExecutioner().exec(new GaussianDistribution(p.value(), 0, std), rng);
            }
        }
    }
}
