package org.finsent.peft;

import java.util.List;
import java.util.regex.Pattern;

/**
 * LoRA settings, with Python PEFT's names and defaults ({@code LoraConfig}): {@code r=8}, {@code lora_alpha=8},
 * {@code lora_dropout=0}, {@code bias="none"}, {@code use_rslora=false}. Targets: a list of module names matched
 * exactly or as a dotted suffix ({@code "query"} matches {@code bert.encoder.layer.0.attention.self.query}), or a
 * regex that must match the whole module name (PEFT's behaviour for a string {@code target_modules}).
 *
 * @param r             rank
 * @param loraAlpha     scaling numerator: {@code scaling = alpha/r} (or {@code alpha/√r} with rsLoRA)
 * @param loraDropout   dropout on the LoRA branch's input
 * @param bias          which biases also train
 * @param targetModules module names or suffixes (ignored when {@code targetRegex} is set)
 * @param targetRegex   full-match regex over module names, or null
 * @param useRslora     rank-stabilised scaling
 * @param seed          seed of A's initialisation and of the dropout
 */
public record LoraConfig(int r, double loraAlpha, double loraDropout, Bias bias, List<String> targetModules,
                         String targetRegex, boolean useRslora, long seed) implements PeftMethod {

    /** PEFT's {@code bias} option. */
    public enum Bias {
        NONE, ALL, LORA_ONLY;

        public String pythonName() {
            return this == LORA_ONLY ? "lora_only" : name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public LoraConfig {
        if (r <= 0) throw new IllegalArgumentException("LoRA rank r must be positive, got " + r);
        if (loraDropout < 0 || loraDropout >= 1) throw new IllegalArgumentException("lora_dropout must be in [0,1)");
        targetModules = List.copyOf(targetModules);
        if (targetRegex == null && targetModules.isEmpty()) throw new IllegalArgumentException("no target_modules");
    }

    /** BERT default targets: {@code query, value}. */
    public static LoraConfig bert(int r, double alpha) {
        return new LoraConfig(r, alpha, 0.0, Bias.NONE, List.of("query", "value"), null, false, 42);
    }

    /** GPT-2 default target: the fused {@code c_attn}. */
    public static LoraConfig gpt2(int r, double alpha) {
        return new LoraConfig(r, alpha, 0.0, Bias.NONE, List.of("c_attn"), null, false, 42);
    }

    public LoraConfig withTargets(String... modules) {
        return new LoraConfig(r, loraAlpha, loraDropout, bias, List.of(modules), null, useRslora, seed);
    }

    public LoraConfig withDropout(double p) {
        return new LoraConfig(r, loraAlpha, p, bias, targetModules, targetRegex, useRslora, seed);
    }

    public LoraConfig withBias(Bias b) {
        return new LoraConfig(r, loraAlpha, loraDropout, b, targetModules, targetRegex, useRslora, seed);
    }

    public LoraConfig withRslora(boolean on) {
        return new LoraConfig(r, loraAlpha, loraDropout, bias, targetModules, targetRegex, on, seed);
    }

    public LoraConfig withSeed(long s) {
        return new LoraConfig(r, loraAlpha, loraDropout, bias, targetModules, targetRegex, useRslora, s);
    }

    public double scaling() {
        return useRslora ? loraAlpha / Math.sqrt(r) : loraAlpha / r;
    }

    /** PEFT's {@code check_target_module_exists}: exact or dotted-suffix match, or a full regex match. */
    public boolean targets(String module) {
        if (targetRegex != null) return Pattern.compile(targetRegex).matcher(module).matches();
        for (String t : targetModules) {
            if (module.equals(t) || module.endsWith("." + t)) return true;
        }
        return false;
    }
}
