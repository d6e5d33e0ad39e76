package org.finsent.peft;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.finsent.core.io.DType;
import org.finsent.core.io.SafeTensors;
import org.finsent.core.io.StateDict;
import org.finsent.core.io.TensorData;
import org.finsent.core.io.WeightFormatException;
import org.finsent.core.model.ModelWeights;
import org.finsent.core.model.SequenceClassifier;
import org.finsent.core.nn.Parameter;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Prefix and prompt tuning in PEFT's files: {@code adapter_config.json} ({@code peft_type} PREFIX_TUNING or
 * PROMPT_TUNING, {@code num_virtual_tokens}, {@code token_dim}, {@code num_layers}, {@code num_attention_heads},
 * {@code num_transformer_submodules=1}, ...) and {@code adapter_model.safetensors} holding the single key
 * {@code prompt_embeddings}: the prefix encoder's <em>output</em> {@code [P, L·2·C]} (PEFT saves prefix tuning in
 * inference form, so a projection MLP is not saved) or the prompt rows {@code [P, C]}. The head is saved as
 * {@code base_model.classifier.*} / {@code base_model.score.*} (PEFT's prompt-learning models hold the transformers
 * model directly as {@code base_model}). A loaded prefix is fixed (inference form).
 */
public final class PromptLearningFiles {
    public static final String KEY = "prompt_embeddings";
    static final String HEAD_PREFIX = "base_model.";
    private static final ObjectMapper JSON = new ObjectMapper();

    private PromptLearningFiles() {
    }

    public static void save(PeftModel m, Path dir, String baseModelNameOrPath) throws IOException {
        boolean prefix = m.prefixEncoder() != null, prompt = m.promptEmbedding() != null;
        if (prefix == prompt) throw new IllegalArgumentException("save needs exactly one of prefix or prompt tuning on the model");
        Files.createDirectories(dir);
        ObjectNode c = JSON.createObjectNode();
        c.putNull("auto_mapping");
        c.put("base_model_name_or_path", baseModelNameOrPath);
        c.put("inference_mode", true);
        putModulesToSave(c);
        c.put("num_attention_heads", m.numHeads());
        c.put("num_layers", m.numLayers());
        c.put("num_transformer_submodules", 1);
        c.putNull("revision");
        c.put("task_type", "SEQ_CLS");
        c.put("token_dim", m.hiddenSize());
        INDArray rows;
        if (prefix) {
            PrefixTuningConfig cfg = m.methods().stream().filter(PrefixTuningConfig.class::isInstance).map(PrefixTuningConfig.class::cast).findFirst().orElseThrow();
            c.put("peft_type", "PREFIX_TUNING").put("num_virtual_tokens", cfg.numVirtualTokens())
                    .put("encoder_hidden_size", cfg.prefixProjection() ? cfg.encoderHiddenSize() : m.hiddenSize())
                    .put("prefix_projection", cfg.prefixProjection());
            rows = m.prefixEncoder().output();
        } else {
            PromptTuningConfig cfg = m.methods().stream().filter(PromptTuningConfig.class::isInstance).map(PromptTuningConfig.class::cast).findFirst().orElseThrow();
            c.put("peft_type", "PROMPT_TUNING").put("num_virtual_tokens", cfg.numVirtualTokens())
                    .put("prompt_tuning_init", cfg.initTokenIds() == null ? "RANDOM" : "TEXT");
            if (cfg.initText() != null) c.put("prompt_tuning_init_text", cfg.initText());
            rows = m.promptEmbedding().embeddings();
        }
        JSON.writerWithDefaultPrettyPrinter().writeValue(dir.resolve(LoraFiles.CONFIG).toFile(), c);
        boolean f64 = rows.dataType() == DataType.DOUBLE;
        StateDict sd = new StateDict();
        sd.put(f64 ? TensorData.of(KEY, rows.dup('c').data().asDouble(), rows.shape())
                : TensorData.of(KEY, rows.castTo(DataType.FLOAT).dup('c').data().asFloat(), rows.shape()));
        Map<String, Parameter> head = new LinkedHashMap<>();
        for (Parameter p : m.headParameters()) head.put(p.name(), p);
        for (TensorData t : ModelWeights.stateDict(head, f64 ? DType.F64 : DType.F32)) sd.put(t.withName(HEAD_PREFIX + t.name()));
        SafeTensors.write(dir.resolve(LoraFiles.WEIGHTS), sd, Map.of("format", "pt"));
    }

    /**
     * PEFT's {@code modules_to_save} for SEQ_CLS: both head names, whatever the architecture (PEFT adds
     * {@code ["classifier", "score"]} to every sequence-classification config and writes them all).
     */
    static void putModulesToSave(ObjectNode c) {
        c.putArray("modules_to_save").add("classifier").add("score");
    }

    public static PeftModel load(SequenceClassifier base, Path dir) throws IOException {
        Path cfgFile = dir.resolve(LoraFiles.CONFIG);
        if (!Files.isRegularFile(cfgFile)) throw new NoSuchFileException(cfgFile + ": no PEFT adapter config");
        JsonNode c = JSON.readTree(cfgFile.toFile());
        String type = c.path("peft_type").asText("");
        int p = c.path("num_virtual_tokens").asInt(-1);
        if (c.path("token_dim").asInt(base.hiddenSize()) != base.hiddenSize() || c.path("num_layers").asInt(base.numLayers()) != base.numLayers()) {
            throw new WeightFormatException(cfgFile.toString(), null, "trained for token_dim " + c.path("token_dim") + ", num_layers "
                    + c.path("num_layers") + "; the base model has " + base.hiddenSize() + ", " + base.numLayers());
        }
        PeftModel m = switch (type) {
            case "PREFIX_TUNING" -> Peft.apply(base, new PrefixTuningConfig(p, false, 0, 0));
            case "PROMPT_TUNING" -> Peft.apply(base, PromptTuningConfig.random(p));
            default -> throw new WeightFormatException(cfgFile.toString(), null, "peft_type '" + type + "' is not prefix or prompt tuning");
        };
        Path file = dir.resolve(LoraFiles.WEIGHTS);
        StateDict sd = SafeTensors.read(file);
        Parameter target = type.equals("PREFIX_TUNING") ? m.prefixEncoder().embedding : m.promptEmbedding().embedding;
        TensorData rows = sd.get(KEY);
        if (rows == null) throw new WeightFormatException(file.toString(), KEY, "missing");
        if (!Arrays.equals(rows.shape(), target.value().shape())) {
            throw new WeightFormatException(file.toString(), KEY, "shape " + Arrays.toString(rows.shape()) + " does not fit "
                    + Arrays.toString(target.value().shape()));
        }
        target.assign(rows.toINDArray(target.value().dataType()));
        Map<String, Parameter> params = m.namedParameters();
        for (TensorData t : sd) {
            if (t.name().equals(KEY)) continue;
            Parameter q = t.name().startsWith(HEAD_PREFIX) ? params.get(t.name().substring(HEAD_PREFIX.length())) : null;
            if (q == null) throw new WeightFormatException(file.toString(), t.name(), "matches nothing in the model");
            if (!Arrays.equals(t.shape(), q.value().shape())) throw new WeightFormatException(file.toString(), t.name(), "shape mismatch");
            q.assign(t.toINDArray(q.value().dataType()));
        }
        return m;
    }
}
