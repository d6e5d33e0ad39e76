package org.finsent.study;

import org.finsent.train.ModelSources;

import java.io.IOException;

/**
 * Turns a model spec into a fresh classifier and its tokenizer; {@link StudyRunner} loads one per cell. The real
 * one is {@link ModelSources#load} (built-ins {@code all-MiniLM-L6-v2}, {@code bert-base-uncased},
 * {@code random:gpt2-tiny}, local Hugging Face directories, {@code hf:org/name}); tests plug in tiny models.
 */
@FunctionalInterface
public interface StudyModels {

    ModelSources.Source load(String spec, int numLabels, long seed) throws IOException;

    static StudyModels sources() {
        return ModelSources::load;
    }

    /** Randomly initialised models (their numbers are not the study's). */
    static boolean randomInit(String spec) {
        return spec.strip().startsWith("random:");
    }
}
