package org.finsent.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.finsent.core.io.AtomicFiles;
import org.finsent.core.io.TfTensorBundle;
import org.finsent.core.model.BertForSequenceClassification;
import org.finsent.core.model.Gpt2ForSequenceClassification;
import org.finsent.core.model.Pretrained;
import org.finsent.core.model.SequenceClassifier;
import org.finsent.core.nn.Parameter;
import org.finsent.peft.AdapterConfig;
import org.finsent.peft.AdapterFiles;
import org.finsent.peft.LoraConfig;
import org.finsent.peft.LoraFiles;
import org.finsent.peft.PeftMethod;
import org.finsent.peft.PeftModel;
import org.finsent.peft.PrefixTuningConfig;
import org.finsent.peft.PromptLearningFiles;
import org.finsent.peft.PromptTuningConfig;
import org.finsent.tokenizers.Tokenizer;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A fine-tuned classifier as a directory: what {@code finsent train} writes and {@code evaluate}, {@code predict}
 * and the web service read.
 *
 * <pre>
 * finsent.json            base model spec, architecture, techniques, labels, max_seq_length, metrics, versions
 * config.json             the Hugging Face config of the architecture, with id2label / label2id
 * tokenizer.json | vocab.txt | vocab.json + merges.txt    the tokenizer files of the base model
 * full fine-tuning:       model.safetensors (every weight, Hugging Face names; Python's from_pretrained opens it)
 * one PEFT method:        adapter_config.json + adapter_model.safetensors (LoRA, prefix, prompt: Python PEFT's layout)
 *                         or adapter_config.json + adapter.safetensors + model_head.safetensors (Pfeiffer adapter)
 * several PEFT methods:   the same files in one sub-directory per method: lora/, adapter/, prefix/, prompt/
 * README.md               a Hugging Face model card: YAML front matter, evaluation, training arguments, how to load
 * </pre>
 *
 * A PEFT directory holds only the trained weights; its base weights are loaded again from {@code base_model} (a
 * built-in name, a local directory or a hub id, see {@link ModelSources}). Prefix tuning is saved, as PEFT saves
 * it, in inference form (the projection MLP's output), so a loaded prefix model predicts but is not the trainable
 * reparameterisation.
 */
public final class FineTunedModel {
    public static final String INFO_FILE = "finsent.json";
    public static final String VERSION = "0.1.0-SNAPSHOT";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final SequenceClassifier model;
    private final Tokenizer tokenizer;
    private final Info info;
    private final Map<String, TfTensorBundle.StreamOpener> tokenizerFiles;
    private final ModelCard.Training training;
    private volatile Predictor predictor;

    /**
     * What {@code finsent.json} records.
     *
     * @param baseModel           the base model spec ({@link ModelSources#load})
     * @param architecture        {@code bert} or {@code gpt2}
     * @param techniques          {@code lora}, {@code adapter}, {@code prefix}, {@code prompt}, {@code full} or {@code head}
     * @param labels              class names by id
     * @param maxSeqLength        truncation length used in training (and for prediction)
     * @param trainableParameters parameters that were trained
     * @param totalParameters     all parameters of the model
     * @param metrics             the training run's final metrics ({@code metrics.json}), or empty
     * @param finsentVersion      the version that wrote the directory
     */
    public record Info(String baseModel, String architecture, List<String> techniques, List<String> labels, int maxSeqLength,
                       long trainableParameters, long totalParameters, Map<String, Object> metrics, String finsentVersion) {
        public Info {
            techniques = List.copyOf(techniques);
            labels = List.copyOf(labels);
            metrics = metrics == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(metrics));
        }
    }

    private FineTunedModel(SequenceClassifier model, Tokenizer tokenizer, Info info, Map<String, TfTensorBundle.StreamOpener> files,
                           ModelCard.Training training) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.info = info;
        this.tokenizerFiles = files;
        this.training = training;
    }

    /** The same model with what its model card ({@code README.md}) says about training: data and training arguments. */
    public FineTunedModel withTraining(ModelCard.Training training) {
        return new FineTunedModel(model, tokenizer, info, tokenizerFiles, training);
    }

    /**
     * A trained model ready to {@link #save}: {@code model} is the {@link PeftModel} that was trained (or, for full
     * fine-tuning, the classifier itself) on {@code source}'s base.
     */
    public static FineTunedModel of(ModelSources.Source source, SequenceClassifier model, List<String> labels,
                                    int maxSeqLength, Map<String, Object> metrics) {
        List<String> techniques = techniques(model);
        long trainable = 0, total = 0;
        for (Parameter p : model.parameters()) {
            total += p.numel();
            if (p.trainable()) trainable += p.numel();
        }
        Info info = new Info(source.spec(), source.architecture(), techniques, labels, maxSeqLength, trainable, total, metrics, VERSION);
        return new FineTunedModel(model, source.tokenizer(), info, source.tokenizerFiles(), null);
    }

    /** The technique names of a model's PEFT methods ({@code full} for a plain classifier). */
    public static List<String> techniques(SequenceClassifier model) {
        if (!(model instanceof PeftModel peft)) return List.of("full");
        List<String> out = new ArrayList<>();
        for (PeftMethod m : peft.methods()) out.add(techniqueName(m));
        if (out.contains("full") && out.size() > 1) throw new IllegalArgumentException("full fine-tuning cannot be combined with " + out);
        return out;
    }

    public static String techniqueName(PeftMethod m) {
        if (m instanceof LoraConfig) return "lora";
        if (m instanceof AdapterConfig) return "adapter";
        if (m instanceof PrefixTuningConfig) return "prefix";
        if (m instanceof PromptTuningConfig) return "prompt";
        return m == PeftMethod.Baseline.HEAD_ONLY ? "head" : "full";
    }

    public SequenceClassifier model() {
        return model;
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    public List<String> labels() {
        return info.labels();
    }

    public int maxSeqLength() {
        return info.maxSeqLength();
    }

    public Info info() {
        return info;
    }

    /** A shared, thread-safe predictor (batches of 32, the training truncation length). */
    public Predictor predictor() {
        Predictor p = predictor;
        if (p == null) {
            synchronized (this) {
                if (predictor == null) predictor = new Predictor(model, tokenizer, info.labels(), info.maxSeqLength(), 32);
                p = predictor;
            }
        }
        return p;
    }

    // ------------------------------------------------------------------------------------------ save

    /** Writes the directory (created if needed; existing model files are replaced). */
    public void save(Path dir) throws IOException {
        Files.createDirectories(dir);
        boolean full = info.techniques().contains("full") || info.techniques().contains("head");
        SequenceClassifier base = model instanceof PeftModel p ? p.base() : model;
        if (full) {
            Pretrained.saveWeights(base.namedParameters(), dir);
        } else {
            PeftModel peft = (PeftModel) model;
            boolean several = peft.methods().size() > 1;
            String baseName = pythonName(info.baseModel());
            for (PeftMethod m : peft.methods()) {
                Path d = several ? dir.resolve(techniqueName(m)) : dir;
                if (m instanceof LoraConfig c) LoraFiles.save(peft, c, d, baseName);
                else if (m instanceof AdapterConfig c) AdapterFiles.save(peft, c, d);
                else if (m instanceof PrefixTuningConfig || m instanceof PromptTuningConfig) PromptLearningFiles.save(peft, d, baseName);
            }
        }
        writeConfig(base, dir.resolve("config.json"));
        for (var f : tokenizerFiles.entrySet()) {
            try (InputStream in = f.getValue().open()) {
                Files.copy(in, dir.resolve(f.getKey()), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        ObjectNode j = JSON.createObjectNode();
        j.put("format", 1);
        j.put("finsent_version", info.finsentVersion());
        j.put("base_model", info.baseModel());
        j.put("architecture", info.architecture());
        ArrayNode t = j.putArray("techniques");
        info.techniques().forEach(t::add);
        ArrayNode l = j.putArray("labels");
        info.labels().forEach(l::add);
        j.put("max_seq_length", info.maxSeqLength());
        j.put("trainable_parameters", info.trainableParameters());
        j.put("total_parameters", info.totalParameters());
        j.set("metrics", JSON.valueToTree(info.metrics()));
        j.put("saved_at", Instant.now().toString());
        j.put("java_version", System.getProperty("java.version"));
        ModelCard.write(dir, info, training);
        // finsent.json last: its presence marks a complete directory
        AtomicFiles.write(dir.resolve(INFO_FILE), tmp -> JSON.writerWithDefaultPrettyPrinter().writeValue(tmp.toFile(), j));
    }

    /** The architecture's config.json with the label names, as Hugging Face writes them. */
    private void writeConfig(SequenceClassifier base, Path file) throws IOException {
        if (base instanceof BertForSequenceClassification b) b.bert.config.write(file);
        else if (base instanceof Gpt2ForSequenceClassification g) g.transformer.config.write(file);
        else throw new IllegalArgumentException("cannot save a " + base.getClass().getSimpleName());
        ObjectNode c = (ObjectNode) JSON.readTree(file.toFile());
        ObjectNode id2label = c.putObject("id2label"), label2id = c.putObject("label2id");
        for (int i = 0; i < info.labels().size(); i++) {
            id2label.put(String.valueOf(i), info.labels().get(i));
            label2id.put(info.labels().get(i), i);
        }
        JSON.writerWithDefaultPrettyPrinter().writeValue(file.toFile(), c);
    }

    /** {@code hf:org/name@rev} → {@code org/name} for Python's {@code base_model_name_or_path}; other specs as they are. */
    static String pythonName(String spec) {
        if (!spec.startsWith(ModelSources.HF_PREFIX)) return spec.equals(ModelSources.MINILM) ? "sentence-transformers/" + spec : spec;
        String id = spec.substring(ModelSources.HF_PREFIX.length());
        return id.contains("@") ? id.substring(0, id.indexOf('@')) : id;
    }

    // ------------------------------------------------------------------------------------------ load

    /** Reads a directory written by {@link #save}; a PEFT directory's base weights are loaded from its base model spec. */
    public static FineTunedModel load(Path dir) throws IOException {
        Objects.requireNonNull(dir, "dir");
        Path infoFile = dir.resolve(INFO_FILE);
        if (!Files.isRegularFile(infoFile)) {
            throw new NoSuchFileException(infoFile.toString(), null, "not a fine-tuned model directory (no " + INFO_FILE
                    + "); train one with: finsent train --output " + dir);
        }
        JsonNode j = JSON.readTree(infoFile.toFile());
        List<String> labels = strings(j.path("labels"));
        List<String> techniques = strings(j.path("techniques"));
        if (labels.size() < 2 || techniques.isEmpty()) throw new IOException(infoFile + ": no labels or techniques");
        int maxLen = j.path("max_seq_length").asInt(128);
        String baseSpec = j.path("base_model").asText();
        // a relative base ("./base": a self-contained export) lies inside the model directory, wherever that is
        if (baseSpec.startsWith("./") || baseSpec.startsWith("../")) baseSpec = dir.resolve(baseSpec).toAbsolutePath().normalize().toString();
        @SuppressWarnings("unchecked")
        Map<String, Object> metrics = JSON.convertValue(j.path("metrics").isObject() ? j.get("metrics") : JSON.createObjectNode(), Map.class);

        ModelSources.Source local;
        SequenceClassifier model;
        if (techniques.contains("full") || techniques.contains("head")) {
            local = ModelSources.directory(baseSpec, dir, labels.size(), 0);
            model = local.model();
        } else {
            // the head comes from the adapter files below: not reported as newly initialised
            ModelSources.Source base = ModelSources.loadBase(baseSpec, labels.size(), 0);
            SequenceClassifier raw = base.model();
            // each method's modules go into the same base model, so the last PeftModel's forward runs all of them
            PeftModel peft = null;
            for (String t : techniques) {
                Path d = techniques.size() > 1 ? dir.resolve(t) : dir;
                peft = switch (t) {
                    case "lora" -> LoraFiles.load(raw, d);
                    case "adapter" -> AdapterFiles.load(raw, d);
                    case "prefix", "prompt" -> PromptLearningFiles.load(raw, d);
                    default -> throw new IOException(infoFile + ": unknown technique '" + t + "'");
                };
            }
            model = peft;
            local = new ModelSources.Source(baseSpec, base.architecture(), model, dirTokenizer(dir, base), Map.of());
        }
        model.train(false);
        Info info = new Info(baseSpec, j.path("architecture").asText(local.architecture()), techniques, labels, maxLen,
                j.path("trainable_parameters").asLong(), j.path("total_parameters").asLong(), metrics,
                j.path("finsent_version").asText(VERSION));
        Map<String, TfTensorBundle.StreamOpener> files = new LinkedHashMap<>();
        for (String f : ModelSources.TOKENIZER_FILES) {
            Path p = dir.resolve(f);
            if (Files.isRegularFile(p)) files.put(f, () -> Files.newInputStream(p));
        }
        return new FineTunedModel(model, local.tokenizer(), info, files, null);
    }

    /** The tokenizer saved in the directory, with the base's padding id (GPT-2 pads with {@code <|endoftext|>}). */
    private static Tokenizer dirTokenizer(Path dir, ModelSources.Source base) throws IOException {
        Tokenizer t = Tokenizer.load(dir);
        return t.padId() >= 0 ? t : t.withOptions(t.options().withPadId(base.tokenizer().padId()));
    }

    private static List<String> strings(JsonNode a) {
        List<String> out = new ArrayList<>();
        for (JsonNode n : a) out.add(n.asText());
        return out;
    }
}
