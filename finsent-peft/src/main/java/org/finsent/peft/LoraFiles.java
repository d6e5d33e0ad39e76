package org.finsent.peft;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
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

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * LoRA in the files Python's PEFT {@code save_pretrained} writes and {@code PeftModel.from_pretrained} reads:
 * <ul>
 *   <li>{@code adapter_config.json}: {@code peft_type "LORA"}, {@code task_type "SEQ_CLS"}, {@code r},
 *       {@code lora_alpha}, {@code lora_dropout}, {@code bias}, {@code target_modules}, {@code modules_to_save},
 *       {@code fan_in_fan_out} (true for GPT-2's Conv1D), {@code use_rslora}, {@code inference_mode true}, ...;</li>
 *   <li>{@code adapter_model.safetensors} (metadata {@code format=pt}) with PEFT's saved keys — the adapter name is
 *       removed and the {@code base_model.model.} prefix kept:
 *       {@code base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight} {@code [r, in]},
 *       {@code ...lora_B.weight} {@code [out, r]}, the head {@code base_model.model.classifier.weight/bias}
 *       ({@code score.weight} for GPT-2), and biases when {@code bias} is not "none".</li>
 * </ul>
 * Only trainable weights are written (~2 MB for BERT-Base, r=8, q+v). Loading checks the file against the base
 * model: peft type, that every target exists, rank and shapes, and no stray keys.
 */
public final class LoraFiles {
    public static final String CONFIG = "adapter_config.json";
    public static final String WEIGHTS = "adapter_model.safetensors";
    static final String PREFIX = "base_model.model.";
    private static final ObjectMapper JSON = new ObjectMapper();

    private LoraFiles() {
    }

    /** The tensors PEFT would save for this model, under PEFT's keys. */
    public static StateDict adapterStateDict(PeftModel m, LoraConfig cfg) {
        DType dtype = m.parameters().get(0).value().dataType() == DataType.DOUBLE ? DType.F64 : DType.F32;
        Map<String, Parameter> keep = new LinkedHashMap<>();
        for (LoraLinear l : m.loraModules()) {
            keep.put(l.loraA.name(), l.loraA);
            keep.put(l.loraB.name(), l.loraB);
            if (cfg.bias() == LoraConfig.Bias.LORA_ONLY && l.base.bias != null) keep.put(l.base.bias.name(), l.base.bias);
        }
        if (cfg.bias() == LoraConfig.Bias.ALL) {
            for (Parameter p : m.parameters()) if (p.name().endsWith(".bias")) keep.put(p.name(), p);
        }
        for (Parameter p : m.headParameters()) keep.put(p.name(), p);
        StateDict out = new StateDict();
        for (TensorData t : ModelWeights.stateDict(keep, dtype)) out.put(t.withName(PREFIX + t.name()));
        return out;
    }

    public static void save(PeftModel m, LoraConfig cfg, Path dir, String baseModelNameOrPath) throws IOException {
        if (m.loraModules().isEmpty()) throw new IllegalArgumentException("the model has no LoRA modules");
        Files.createDirectories(dir);
        // PEFT's flag for weights stored [in, out] (GPT-2's Conv1D)
        boolean fanInFanOut = m.loraModules().stream().anyMatch(l -> l.base.isConv1d());
        ObjectNode c = JSON.createObjectNode();
        c.putObject("alpha_pattern");
        c.putNull("auto_mapping");
        c.put("base_model_name_or_path", baseModelNameOrPath);
        c.put("bias", cfg.bias().pythonName());
        c.put("fan_in_fan_out", fanInFanOut);
        c.put("inference_mode", true);
        c.put("init_lora_weights", true);
        c.putNull("layers_pattern");
        c.putNull("layers_to_transform");
        if (cfg.loraAlpha() == Math.rint(cfg.loraAlpha())) c.put("lora_alpha", (long) cfg.loraAlpha()); // PEFT's int
        else c.put("lora_alpha", cfg.loraAlpha());
        c.put("lora_dropout", cfg.loraDropout());
        PromptLearningFiles.putModulesToSave(c);
        c.put("peft_type", "LORA");
        c.put("r", cfg.r());
        c.putObject("rank_pattern");
        c.putNull("revision");
        if (cfg.targetRegex() != null) {
            c.put("target_modules", cfg.targetRegex());
        } else {
            ArrayNode t = c.putArray("target_modules");
            cfg.targetModules().forEach(t::add);
        }
        c.put("task_type", "SEQ_CLS");
        c.put("use_dora", false);
        c.put("use_rslora", cfg.useRslora());
        JSON.writerWithDefaultPrettyPrinter().writeValue(dir.resolve(CONFIG).toFile(), c);
        SafeTensors.write(dir.resolve(WEIGHTS), adapterStateDict(m, cfg), Map.of("format", "pt"));
    }

    /** Reads {@code adapter_config.json} into a {@link LoraConfig}. */
    public static LoraConfig readConfig(Path dir) throws IOException {
        Path file = dir.resolve(CONFIG);
        if (!Files.isRegularFile(file)) throw new NoSuchFileException(file + ": no PEFT adapter config");
        JsonNode c = JSON.readTree(file.toFile());
        String type = c.path("peft_type").asText("");
        if (!type.equals("LORA")) throw new WeightFormatException(file.toString(), null, "peft_type is '" + type + "', expected LORA");
        if (c.path("use_dora").asBoolean(false)) throw new WeightFormatException(file.toString(), null, "DoRA is not supported");
        LoraConfig.Bias bias = switch (c.path("bias").asText("none")) {
            case "none" -> LoraConfig.Bias.NONE;
            case "all" -> LoraConfig.Bias.ALL;
            case "lora_only" -> LoraConfig.Bias.LORA_ONLY;
            default -> throw new WeightFormatException(file.toString(), null, "unknown bias " + c.path("bias"));
        };
        JsonNode t = c.path("target_modules");
        List<String> targets = new ArrayList<>();
        String regex = null;
        if (t.isTextual()) regex = t.asText();
        else for (JsonNode n : t) targets.add(n.asText());
        if (!c.path("r").canConvertToInt()) throw new WeightFormatException(file.toString(), null, "no integer r");
        return new LoraConfig(c.get("r").asInt(), c.path("lora_alpha").asDouble(8), c.path("lora_dropout").asDouble(0), bias,
                targets, regex, c.path("use_rslora").asBoolean(false), 42);
    }

    /** Applies the saved LoRA to {@code base} (a freshly loaded base model) and fills in its weights. */
    public static PeftModel load(SequenceClassifier base, Path dir) throws IOException {
        LoraConfig cfg = readConfig(dir);
        Path file = dir.resolve(WEIGHTS);
        StateDict sd = SafeTensors.read(file);
        PeftModel m = Peft.apply(base, cfg);
        Map<String, Parameter> params = m.namedParameters();
        List<String> unused = new ArrayList<>(sd.names());
        for (String key : sd.names()) {
            if (!key.startsWith(PREFIX)) throw new WeightFormatException(file.toString(), key, "key lacks the '" + PREFIX + "' prefix");
            Parameter p = params.get(key.substring(PREFIX.length()));
            if (p == null) continue;
            TensorData t = sd.get(key);
            if (!Arrays.equals(t.shape(), p.value().shape())) {
                throw new WeightFormatException(file.toString(), key, "shape " + Arrays.toString(t.shape()) + " does not fit the base model's "
                        + Arrays.toString(p.value().shape()) + " (different rank, hidden size or base model?)");
            }
            p.assign(t.toINDArray(p.value().dataType()));
            unused.remove(key);
        }
        if (!unused.isEmpty()) throw new WeightFormatException(file.toString(), unused.get(0), unused.size() + " keys match nothing in the model: " + unused);
        for (LoraLinear l : m.loraModules()) {
            for (Parameter p : List.of(l.loraA, l.loraB)) {
                if (!sd.contains(PREFIX + p.name())) throw new WeightFormatException(file.toString(), PREFIX + p.name(), "missing");
            }
        }
        return m;
    }
}
