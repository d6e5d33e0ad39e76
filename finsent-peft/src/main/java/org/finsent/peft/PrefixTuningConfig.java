package org.finsent.peft;

/**
 * Prefix tuning (Li &amp; Liang 2021) with Python PEFT's {@code PrefixTuningConfig} names:
 * {@code num_virtual_tokens} (10 in the study), {@code prefix_projection} (PEFT's default false; the study uses
 * true) and {@code encoder_hidden_size} (768 in the study; the reparameterisation MLP's width).
 *
 * @param numVirtualTokens  prefix rows P per layer
 * @param prefixProjection  Embedding(P, C) → Linear(C, E) → tanh → Linear(E, L·2·C); else Embedding(P, L·2·C)
 * @param encoderHiddenSize E
 * @param seed              initialisation seed
 */
public record PrefixTuningConfig(int numVirtualTokens, boolean prefixProjection, int encoderHiddenSize, long seed)
        implements PeftMethod {
    public PrefixTuningConfig {
        if (numVirtualTokens <= 0) throw new IllegalArgumentException("num_virtual_tokens must be positive");
        if (prefixProjection && encoderHiddenSize <= 0) throw new IllegalArgumentException("encoder_hidden_size must be positive");
    }

    /** The study's setting: 10 virtual tokens, projection through a 768-wide MLP. */
    public static PrefixTuningConfig study() {
        return new PrefixTuningConfig(10, true, 768, 42);
    }
}
