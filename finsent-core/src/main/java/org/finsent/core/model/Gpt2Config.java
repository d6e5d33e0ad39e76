package org.finsent.core.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Path;

/** A Hugging Face GPT-2 {@code config.json}: the fields the model needs, with Hugging Face's defaults. */
public record Gpt2Config(int vocabSize, int nPositions, int nEmbd, int nLayer, int nHead, int nInner,
                         String activationFunction, double residPdrop, double embdPdrop, double attnPdrop,
                         double layerNormEpsilon, int numLabels, int padTokenId) {

    public Gpt2Config {
        if (nEmbd % nHead != 0) throw new IllegalArgumentException("n_embd " + nEmbd + " is not a multiple of n_head " + nHead);
        org.finsent.core.nn.Gelu.fromConfig(activationFunction);
    }

    /** gpt2 (124M); pad = {@code <|endoftext|>} (50256), the usual choice for classification. */
    public static Gpt2Config small(int numLabels) {
        return new Gpt2Config(50257, 1024, 768, 12, 12, 3072, "gelu_new", 0.1, 0.1, 0.1, 1e-5, numLabels, 50256);
    }

    public static Gpt2Config read(Path configJson) throws IOException {
        JsonNode c = new ObjectMapper().readTree(configJson.toFile());
        int embd = c.path("n_embd").asInt(768);
        int inner = c.hasNonNull("n_inner") ? c.get("n_inner").asInt() : 4 * embd;
        int labels = c.has("id2label") ? c.get("id2label").size() : c.path("num_labels").asInt(2);
        int pad = c.hasNonNull("pad_token_id") ? c.get("pad_token_id").asInt() : c.path("eos_token_id").asInt(50256);
        try {
            return new Gpt2Config(c.path("vocab_size").asInt(50257), c.path("n_positions").asInt(1024), embd,
                    c.path("n_layer").asInt(12), c.path("n_head").asInt(12), inner,
                    c.path("activation_function").asText("gelu_new"), c.path("resid_pdrop").asDouble(0.1),
                    c.path("embd_pdrop").asDouble(0.1), c.path("attn_pdrop").asDouble(0.1),
                    c.path("layer_norm_epsilon").asDouble(1e-5), labels, pad);
        } catch (IllegalArgumentException e) {
            throw new IOException(configJson + ": " + e.getMessage(), e);
        }
    }

    public void write(Path configJson) throws IOException {
        write(configJson, "GPT2ForSequenceClassification");
    }

    /**
     * {@code config.json} naming {@code architecture}; a classifier's carries {@code id2label}, a language model's
     * ({@code *LMHeadModel}, {@code *ForMaskedLM}) does not.
     */
    public void write(Path configJson, String architecture) throws IOException {
        boolean classifier = architecture.endsWith("ForSequenceClassification");
        ObjectMapper m = new ObjectMapper();
        ObjectNode c = m.createObjectNode();
        c.putArray("architectures").add(architecture);
        c.put("model_type", "gpt2").put("vocab_size", vocabSize).put("n_positions", nPositions).put("n_embd", nEmbd)
                .put("n_layer", nLayer).put("n_head", nHead).put("n_inner", nInner)
                .put("activation_function", activationFunction).put("resid_pdrop", residPdrop)
                .put("embd_pdrop", embdPdrop).put("attn_pdrop", attnPdrop).put("layer_norm_epsilon", layerNormEpsilon)
                .put("pad_token_id", padTokenId);
        if (classifier) {
            ObjectNode id2label = c.putObject("id2label");
            for (int i = 0; i < numLabels; i++) id2label.put(String.valueOf(i), "LABEL_" + i);
        }
        m.writerWithDefaultPrettyPrinter().writeValue(configJson.toFile(), c);
    }
}
