package org.finsent.bench.train;

import org.finsent.peft.AdapterConfig;
import org.finsent.peft.LoraConfig;
import org.finsent.peft.PeftMethod;
import org.finsent.peft.PrefixTuningConfig;

/** The fine-tuning methods compared; each as the study configures it. */
public enum Technique {
    FULL, LORA, ADAPTER, PREFIX;

    /** LoRA rank (r = 8, alpha 16, on the attention's q/k/v; GPT-2's fused c_attn). */
    public static final int LORA_R = 8;
    /** Pfeiffer reduction factor (bottleneck C/16). */
    public static final int ADAPTER_REDUCTION = 16;
    /** Prefix rows per layer, and the prefix MLP's width. */
    public static final int PREFIX_TOKENS = 10, PREFIX_HIDDEN = 768;

    public PeftMethod method(Arch arch) {
        return switch (this) {
            case FULL -> PeftMethod.Baseline.FULL_FINE_TUNING;
            case LORA -> arch.decoder() ? LoraConfig.gpt2(LORA_R, 16) : LoraConfig.bert(LORA_R, 16).withTargets("query", "key", "value");
            case ADAPTER -> AdapterConfig.pfeiffer("pfeiffer");
            case PREFIX -> PrefixTuningConfig.study();
        };
    }

    public int prefixLength() {
        return this == PREFIX ? PREFIX_TOKENS : 0;
    }
}
