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

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The Pfeiffer adapter in the {@code adapters} library's layout: {@code adapter_config.json}
 * ({@code {"config": {SeqBnConfig fields}, "hidden_size", "model_type", "model_class", "name", "version"}}) and
 * {@code adapter.safetensors} with its keys ({@code bert.encoder.layer.i.output.adapters.<name>.adapter_down.0.weight},
 * GPT-2: {@code transformer.h.i.output_adapters.adapters.<name>...}). The classification head is written next to it
 * as {@code model_head.safetensors} under its Hugging Face names ({@code classifier.*} / {@code score.*}) — a
 * plain Hugging Face head, not the library's flex head.
 */
public final class AdapterFiles {
    public static final String CONFIG = "adapter_config.json";
    public static final String WEIGHTS = "adapter.safetensors";
    public static final String HEAD = "model_head.safetensors";
    private static final ObjectMapper JSON = new ObjectMapper();

    private AdapterFiles() {
    }

    public static void save(PeftModel m, AdapterConfig cfg, Path dir) throws IOException {
        if (m.adapterModules().isEmpty()) throw new IllegalArgumentException("the model has no bottleneck adapters");
        Files.createDirectories(dir);
        var points = m.insertionPoints();
        ObjectNode root = JSON.createObjectNode();
        ObjectNode c = root.putObject("config");
        c.putNull("architecture");
        c.put("mh_adapter", false).put("output_adapter", true).put("reduction_factor", cfg.reductionFactor())
                .put("non_linearity", "relu").put("original_ln_before", true).put("original_ln_after", true)
                .put("ln_before", false).put("ln_after", false).put("init_weights", "bert").put("is_parallel", false)
                .put("scaling", 1.0).put("use_gating", false).put("residual_before_ln", true)
                .put("adapter_residual_before_ln", false).put("inv_adapter", (String) null).put("dropout", 0.0);
        root.put("hidden_size", m.hiddenSize());
        root.put("model_type", points.modelType());
        root.put("model_class", points.modelClass());
        root.put("name", cfg.name());
        root.put("version", "finsent-0.1.0");
        JSON.writerWithDefaultPrettyPrinter().writeValue(dir.resolve(CONFIG).toFile(), root);
        DType dtype = m.parameters().get(0).value().dataType() == DataType.DOUBLE ? DType.F64 : DType.F32;
        Map<String, Parameter> adapter = new LinkedHashMap<>(), head = new LinkedHashMap<>();
        for (BottleneckAdapter a : m.adapterModules()) for (Parameter p : a.parameters()) adapter.put(p.name(), p);
        for (Parameter p : m.headParameters()) head.put(p.name(), p);
        SafeTensors.write(dir.resolve(WEIGHTS), ModelWeights.stateDict(adapter, dtype), Map.of("format", "pt"));
        SafeTensors.write(dir.resolve(HEAD), ModelWeights.stateDict(head, dtype), Map.of("format", "pt"));
    }

    public static PeftModel load(SequenceClassifier base, Path dir) throws IOException {
        Path cfgFile = dir.resolve(CONFIG);
        if (!Files.isRegularFile(cfgFile)) throw new NoSuchFileException(cfgFile + ": no adapter config");
        JsonNode root = JSON.readTree(cfgFile.toFile());
        JsonNode c = root.path("config");
        if (!c.path("architecture").isNull() && !c.path("architecture").isMissingNode()) {
            throw new WeightFormatException(cfgFile.toString(), null, "architecture " + c.get("architecture") + " is not a bottleneck adapter");
        }
        if (c.path("mh_adapter").asBoolean(false) || !c.path("output_adapter").asBoolean(true) || c.path("ln_before").asBoolean(false)
                || c.path("ln_after").asBoolean(false) || !c.path("original_ln_before").asBoolean(true)
                || !c.path("original_ln_after").asBoolean(true) || !"relu".equals(c.path("non_linearity").asText("relu"))) {
            throw new WeightFormatException(cfgFile.toString(), null, "only the Pfeiffer (SeqBn) configuration is supported: " + c);
        }
        int hidden = root.path("hidden_size").asInt(-1);
        if (hidden != base.hiddenSize()) {
            throw new WeightFormatException(cfgFile.toString(), null, "adapter was trained for hidden size " + hidden
                    + ", the base model has " + base.hiddenSize());
        }
        AdapterConfig cfg = new AdapterConfig(root.path("name").asText("adapter"), c.path("reduction_factor").asInt(16), 42);
        PeftModel m = Peft.apply(base, cfg);
        Map<String, Parameter> params = m.namedParameters();
        for (String f : new String[]{WEIGHTS, HEAD}) {
            StateDict sd = SafeTensors.read(dir.resolve(f));
            for (TensorData t : sd) {
                Parameter p = params.get(t.name());
                if (p == null) throw new WeightFormatException(dir.resolve(f).toString(), t.name(), "matches nothing in the model");
                if (!Arrays.equals(t.shape(), p.value().shape())) {
                    throw new WeightFormatException(dir.resolve(f).toString(), t.name(), "shape " + Arrays.toString(t.shape())
                            + " does not fit " + Arrays.toString(p.value().shape()));
                }
                p.assign(t.toINDArray(p.value().dataType()));
            }
        }
        return m;
    }
}
