package org.finsent.peft;

/** A fine-tuning method {@link Peft#apply} understands; several may be combined on one model. */
public sealed interface PeftMethod permits LoraConfig, AdapterConfig, PrefixTuningConfig, PromptTuningConfig, PeftMethod.Baseline {

    /** The study's baselines: everything trainable, or only the classification head. */
    enum Baseline implements PeftMethod {
        FULL_FINE_TUNING, HEAD_ONLY
    }
}
