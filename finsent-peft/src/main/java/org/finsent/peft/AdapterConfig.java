package org.finsent.peft;

/**
 * Pfeiffer bottleneck adapter settings: the {@code adapters} library's {@code SeqBnConfig} ("pfeiffer" /
 * "seq_bn"): {@code reduction_factor=16}, {@code non_linearity="relu"}, {@code original_ln_before=True},
 * {@code original_ln_after=True}, {@code residual_before_ln=True}, {@code mh_adapter=False},
 * {@code output_adapter=True}, {@code scaling=1.0}, {@code init_weights="bert"} (N(0, 0.02²), zero biases).
 * Only these settings are implemented.
 *
 * @param name            adapter name (appears in the weight keys, e.g. {@code adapters.<name>.adapter_up})
 * @param reductionFactor bottleneck = hidden / reductionFactor
 * @param seed            initialisation seed
 */
public record AdapterConfig(String name, int reductionFactor, long seed) implements PeftMethod {
    public AdapterConfig {
        if (reductionFactor <= 0) throw new IllegalArgumentException("reduction_factor must be positive");
        if (name == null || name.isBlank() || name.contains(".")) throw new IllegalArgumentException("bad adapter name '" + name + "'");
    }

    public static AdapterConfig pfeiffer(String name) {
        return new AdapterConfig(name, 16, 42);
    }
}
