package org.finsent.train;

import org.finsent.core.model.Gpt2ForSequenceClassification;
import org.finsent.core.model.SequenceClassifier;
import org.finsent.peft.AdapterConfig;
import org.finsent.peft.LoraConfig;
import org.finsent.peft.PeftMethod;
import org.finsent.peft.PrefixTuningConfig;
import org.finsent.peft.PromptTuningConfig;
import org.finsent.tokenizers.Tokenizer;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Fine-tuning techniques by name ({@code lora}, {@code adapter}, {@code prefix}, {@code prompt}, {@code full},
 * {@code head}) and their hyperparameters, resolved against a model into {@link PeftMethod}s. Defaults are the
 * study's: LoRA r=8, α=16, dropout 0.1 (BERT targets query, key, value; GPT-2 c_attn); Pfeiffer reduction factor 16;
 * prefix 10 virtual tokens with a 768-wide projection; prompt tuning 10 random virtual tokens.
 *
 * @param names            technique names; several PEFT methods compose, {@code full}/{@code head} stand alone
 * @param loraR            LoRA rank
 * @param loraAlpha        LoRA α
 * @param loraDropout      LoRA dropout
 * @param loraTargets      LoRA target modules, or empty for the architecture's default
 * @param reductionFactor  Pfeiffer adapter reduction factor
 * @param prefixTokens     prefix virtual tokens
 * @param prefixProjection prefix reparameterisation MLP on/off
 * @param prefixHidden     its width
 * @param promptTokens     prompt virtual tokens
 * @param promptInitText   prompt init text, or null for random init
 * @param seed             initialisation seed of the inserted modules
 */
public record Techniques(List<String> names, int loraR, double loraAlpha, double loraDropout, List<String> loraTargets,
                         int reductionFactor, int prefixTokens, boolean prefixProjection, int prefixHidden,
                         int promptTokens, String promptInitText, long seed) {
    public static final List<String> KNOWN = List.of("lora", "adapter", "prefix", "prompt", "full", "head");

    public Techniques {
        names = names.stream().map(n -> n.strip().toLowerCase(Locale.ROOT)).distinct().toList();
        loraTargets = List.copyOf(loraTargets);
        if (names.isEmpty()) throw new IllegalArgumentException("no technique given: one or more of " + KNOWN);
        for (String n : names) if (!KNOWN.contains(n)) throw new IllegalArgumentException("unknown technique '" + n + "': use " + KNOWN);
        if ((names.contains("full") || names.contains("head")) && names.size() > 1) {
            throw new IllegalArgumentException("full and head fine-tuning stand alone; " + names + " combines them");
        }
        if (names.contains("prefix") && names.contains("prompt")) {
            throw new IllegalArgumentException("prefix and prompt tuning cannot be combined (PEFT saves one prompt-learning method per adapter)");
        }
    }

    /** The study's settings for the given technique names. */
    public static Techniques study(List<String> names) {
        return new Techniques(names, 8, 16, 0.1, List.of(), 16, 10, true, 768, 10, null, 42);
    }

    /** The methods to {@code Peft.apply} to {@code model}. */
    public List<PeftMethod> methods(SequenceClassifier model, Tokenizer tokenizer) {
        boolean gpt2 = model instanceof Gpt2ForSequenceClassification;
        List<PeftMethod> out = new ArrayList<>();
        for (String n : names) {
            out.add(switch (n) {
                case "lora" -> new LoraConfig(loraR, loraAlpha, loraDropout, LoraConfig.Bias.NONE,
                        loraTargets.isEmpty() ? (gpt2 ? List.of("c_attn") : List.of("query", "key", "value")) : loraTargets,
                        null, false, seed);
                case "adapter" -> new AdapterConfig("pfeiffer", reductionFactor, seed);
                case "prefix" -> new PrefixTuningConfig(prefixTokens, prefixProjection, prefixHidden, seed);
                case "prompt" -> promptInitText == null ? new PromptTuningConfig(promptTokens, null, null, seed)
                        : new PromptTuningConfig(promptTokens, tokenizer.encodeIds(promptInitText), promptInitText, seed);
                case "head" -> PeftMethod.Baseline.HEAD_ONLY;
                default -> PeftMethod.Baseline.FULL_FINE_TUNING;
            });
        }
        return out;
    }

    /** For {@code run_spec.json}. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("techniques", names);
        if (names.contains("lora")) {
            m.put("lora_r", loraR);
            m.put("lora_alpha", loraAlpha);
            m.put("lora_dropout", loraDropout);
            m.put("lora_target_modules", loraTargets.isEmpty() ? "default" : loraTargets);
        }
        if (names.contains("adapter")) m.put("adapter_reduction_factor", reductionFactor);
        if (names.contains("prefix")) {
            m.put("prefix_num_virtual_tokens", prefixTokens);
            m.put("prefix_projection", prefixProjection);
            m.put("prefix_encoder_hidden_size", prefixHidden);
        }
        if (names.contains("prompt")) {
            m.put("prompt_num_virtual_tokens", promptTokens);
            m.put("prompt_init_text", promptInitText);
        }
        m.put("technique_seed", seed);
        return m;
    }
}
