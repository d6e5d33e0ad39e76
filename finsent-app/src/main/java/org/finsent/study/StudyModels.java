package org.finsent.study;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.finsent.core.hub.HfHub;
import org.finsent.train.ModelSources;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;

/** What the grid needs to know about a model spec ({@link ModelSources}) before training it. */
final class StudyModels {
    private StudyModels() {
    }

    /**
     * {@code bert} or {@code gpt2}, which picks the study's preset family: built-in names directly, a local directory
     * or {@code hf:} model from its {@code config.json}'s {@code model_type} (a hub model's config is fetched into the
     * cache, where training finds it next).
     */
    static String architecture(String spec) throws IOException {
        String s = spec.strip();
        if (namedBert(s)) return "bert";
        if (s.startsWith("random:")) return s.toLowerCase(Locale.ROOT).contains("gpt2") ? "gpt2" : "bert";
        Path config;
        if (s.startsWith(ModelSources.HF_PREFIX)) {
            String id = s.substring(ModelSources.HF_PREFIX.length());
            String rev = id.contains("@") ? id.substring(id.indexOf('@') + 1) : null;
            if (rev != null) id = id.substring(0, id.indexOf('@'));
            config = HfHub.fromEnvironment().download(HfHub.RepoType.MODEL, id, rev, "config.json");
        } else {
            config = Path.of(s).resolve("config.json");
            if (!Files.isRegularFile(config)) {
                throw new NoSuchFileException(s, null, "not a model: give " + ModelSources.MINILM + ", " + ModelSources.BERT_BASE
                        + ", " + ModelSources.RANDOM_GPT2 + ", hf:<org>/<name> or a Hugging Face model directory");
            }
        }
        return new ObjectMapper().readTree(config.toFile()).path("model_type").asText("?");
    }

    /** Whether the spec names a local model directory, as {@link ModelSources} reads it (built-in names and hub ids first). */
    static boolean isDirectory(String spec) {
        String s = spec.strip();
        if (namedBert(s) || s.startsWith("random:") || s.startsWith(ModelSources.HF_PREFIX)) return false;
        try {
            return Files.isDirectory(Path.of(s));
        } catch (java.nio.file.InvalidPathException e) {
            return false;
        }
    }

    /** The built-in BERT-family names ModelSources resolves before any directory. */
    private static boolean namedBert(String s) {
        return s.equalsIgnoreCase(ModelSources.MINILM) || s.equalsIgnoreCase("sentence-transformers/" + ModelSources.MINILM)
                || s.equalsIgnoreCase(ModelSources.BERT_BASE);
    }

    /** Randomly initialised models (their numbers are not the study's). */
    static boolean randomInit(String spec) {
        return spec.strip().startsWith("random:");
    }
}
