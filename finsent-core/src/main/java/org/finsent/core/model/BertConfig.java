package org.finsent.core.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Path;

/** A Hugging Face BERT {@code config.json}: the fields the model needs, with Hugging Face's defaults. */
public record BertConfig(int vocabSize, int hiddenSize, int numHiddenLayers, int numAttentionHeads, int intermediateSize,
                         int maxPositionEmbeddings, int typeVocabSize, double layerNormEps, String hiddenAct,
                         double hiddenDropoutProb, double attentionProbsDropoutProb, int numLabels) {

    public BertConfig {
        if (hiddenSize % numAttentionHeads != 0) {
            throw new IllegalArgumentException("hidden_size " + hiddenSize + " is not a multiple of num_attention_heads " + numAttentionHeads);
        }
        org.finsent.core.nn.Gelu.fromConfig(hiddenAct);
    }

    /** bert-base-uncased. */
    public static BertConfig base(int numLabels) {
        return new BertConfig(30522, 768, 12, 12, 3072, 512, 2, 1e-12, "gelu", 0.1, 0.1, numLabels);
    }

    public BertConfig withNumLabels(int n) {
        return new BertConfig(vocabSize, hiddenSize, numHiddenLayers, numAttentionHeads, intermediateSize,
                maxPositionEmbeddings, typeVocabSize, layerNormEps, hiddenAct, hiddenDropoutProb, attentionProbsDropoutProb, n);
    }

    public static BertConfig read(Path configJson) throws IOException {
        JsonNode c;
        try {
            c = new ObjectMapper().readTree(configJson.toFile());
        } catch (IOException e) {
            throw new IOException(configJson + ": cannot read config: " + e.getMessage(), e);
        }
        try {
            int labels = c.has("id2label") ? c.get("id2label").size() : c.path("num_labels").asInt(2);
            return new BertConfig(req(c, "vocab_size"), req(c, "hidden_size"), req(c, "num_hidden_layers"),
                    req(c, "num_attention_heads"), req(c, "intermediate_size"), c.path("max_position_embeddings").asInt(512),
                    c.path("type_vocab_size").asInt(2), c.path("layer_norm_eps").asDouble(1e-12),
                    c.path("hidden_act").asText("gelu"), c.path("hidden_dropout_prob").asDouble(0.1),
                    c.path("attention_probs_dropout_prob").asDouble(0.1), labels);
        } catch (IllegalArgumentException e) {
            throw new IOException(configJson + ": " + e.getMessage(), e);
        }
    }

    private static int req(JsonNode c, String field) {
        JsonNode v = c.get(field);
        if (v == null || !v.canConvertToInt()) throw new IllegalArgumentException("missing or non-integer \"" + field + "\"");
        return v.asInt();
    }

    public void write(Path configJson) throws IOException {
        write(configJson, "BertForSequenceClassification");
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
        c.put("model_type", "bert").put("vocab_size", vocabSize).put("hidden_size", hiddenSize)
                .put("num_hidden_layers", numHiddenLayers).put("num_attention_heads", numAttentionHeads)
                .put("intermediate_size", intermediateSize).put("max_position_embeddings", maxPositionEmbeddings)
                .put("type_vocab_size", typeVocabSize).put("layer_norm_eps", layerNormEps).put("hidden_act", hiddenAct)
                .put("hidden_dropout_prob", hiddenDropoutProb).put("attention_probs_dropout_prob", attentionProbsDropoutProb);
        if (classifier) {
            ObjectNode id2label = c.putObject("id2label");
            for (int i = 0; i < numLabels; i++) id2label.put(String.valueOf(i), "LABEL_" + i);
        }
        m.writerWithDefaultPrettyPrinter().writeValue(configJson.toFile(), c);
    }
}
