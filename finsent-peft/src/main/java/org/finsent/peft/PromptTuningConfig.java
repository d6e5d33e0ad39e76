package org.finsent.peft;

/**
 * Prompt tuning (Lester et al. 2021), PEFT's {@code PromptTuningConfig}: {@code num_virtual_tokens} learned input
 * embeddings, initialised randomly or ({@code prompt_tuning_init=TEXT}) from the word embeddings of the token ids
 * of an init text, cut or repeated to length, as PEFT does.
 *
 * @param numVirtualTokens P
 * @param initTokenIds     token ids of the init text (without special tokens), or null for random init
 * @param initText         the text those ids came from (written to adapter_config.json), or null
 * @param seed             seed of the random init
 */
public record PromptTuningConfig(int numVirtualTokens, int[] initTokenIds, String initText, long seed) implements PeftMethod {
    public PromptTuningConfig {
        if (numVirtualTokens <= 0) throw new IllegalArgumentException("num_virtual_tokens must be positive");
        if (initTokenIds != null && initTokenIds.length == 0) throw new IllegalArgumentException("the init text has no tokens");
    }

    public static PromptTuningConfig random(int numVirtualTokens) {
        return new PromptTuningConfig(numVirtualTokens, null, null, 42);
    }

    /** Initialised from a text, e.g. "Classify the sentiment of this financial sentence:". */
    public static PromptTuningConfig fromText(int numVirtualTokens, org.finsent.tokenizers.Tokenizer tokenizer, String text) {
        return new PromptTuningConfig(numVirtualTokens, tokenizer.encodeIds(text), text, 42);
    }
}
