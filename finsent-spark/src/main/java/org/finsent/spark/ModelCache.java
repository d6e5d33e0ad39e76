package org.finsent.spark;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.finsent.train.FineTunedModel;
import org.finsent.train.Predictor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * The models of this JVM (an executor, or the driver in local mode), loaded once per model directory and shared by
 * every task that runs here. A task resolves its {@code modelPath} as a local directory, else as a file shipped
 * with {@code SparkContext.addFile(dir, true)} ({@code SparkFiles.get(name)}), and loads it with
 * {@link FineTunedModel#load}; a packed export ({@link ModelExport}) whose base is the relative {@code ./base}
 * is loaded from inside the directory.
 */
public final class ModelCache {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Map<String, FineTunedModel> MODELS = new ConcurrentHashMap<>();
    private static final Map<String, Predictor> PREDICTORS = new ConcurrentHashMap<>();
    private static final AtomicInteger LOADS = new AtomicInteger();

    private ModelCache() {
    }

    /** How many model directories this JVM has loaded (tests assert once per JVM). */
    public static int loads() {
        return LOADS.get();
    }

    /** The model of {@code modelPath}, loaded on first use in this JVM. */
    public static FineTunedModel model(String modelPath) {
        Path dir = resolve(modelPath);
        return MODELS.computeIfAbsent(dir.toAbsolutePath().normalize().toString(), k -> {
            try {
                FineTunedModel m = load(Path.of(k));
                LOADS.incrementAndGet();
                return m;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot load the FinSent model " + modelPath + ": " + e.getMessage(), e);
            }
        });
    }

    /** A shared predictor of the model with this truncation length (0 = the model's) and batch size. */
    public static Predictor predictor(String modelPath, int maxSeqLength, int batchSize) {
        FineTunedModel m = model(modelPath);
        int len = maxSeqLength > 0 ? maxSeqLength : m.maxSeqLength();
        return PREDICTORS.computeIfAbsent(resolve(modelPath).toAbsolutePath().normalize() + "|" + len + "|" + batchSize,
                k -> new Predictor(m.model(), m.tokenizer(), m.labels(), len, batchSize));
    }

    /** A local directory, else a directory shipped with {@code addFile(dir, true)} under its file name. */
    static Path resolve(String modelPath) {
        if (modelPath == null || modelPath.isBlank()) throw new IllegalArgumentException("no modelPath set");
        Path p = Path.of(modelPath);
        if (Files.isDirectory(p)) return p;
        try {
            if (org.apache.spark.SparkEnv.get() != null) {
                Path shipped = Path.of(org.apache.spark.SparkFiles.get(p.getFileName().toString()));
                if (Files.isDirectory(shipped)) return shipped;
            }
        } catch (RuntimeException | NoClassDefFoundError e) { // no Spark running: only local paths
        }
        throw new UncheckedIOException(new NoSuchFileException(modelPath, null, "no such model directory on this machine: "
                + "ship it to the executors (finsent export, then spark.sparkContext().addFile(dir, true) or "
                + "spark-submit --archives model.zip#model) or put it on a shared file system"));
    }

    /**
     * {@link FineTunedModel#load}, and for a packed export ({@code base_model} {@code ./base}) the same through a
     * directory of links whose {@code finsent.json} names the base by its absolute path here.
     */
    public static FineTunedModel load(Path dir) throws IOException {
        Path info = dir.resolve(FineTunedModel.INFO_FILE);
        if (!Files.isRegularFile(info)) return FineTunedModel.load(dir); // its error message
        ObjectNode j = (ObjectNode) JSON.readTree(info.toFile());
        String base = j.path("base_model").asText();
        if (!base.startsWith("./")) return FineTunedModel.load(dir);
        Path baseDir = dir.resolve(base).toAbsolutePath().normalize();
        if (!Files.isDirectory(baseDir)) throw new NoSuchFileException(baseDir.toString(), null, "the packed export's base is missing");
        Path links = Files.createTempDirectory("finsent-model-");
        links.toFile().deleteOnExit();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path f : s.toList()) {
                if (f.getFileName().toString().equals(FineTunedModel.INFO_FILE)) continue;
                Path l = Files.createSymbolicLink(links.resolve(f.getFileName().toString()), f.toAbsolutePath());
                l.toFile().deleteOnExit();
            }
        }
        j.put("base_model", baseDir.toString());
        Path rewritten = links.resolve(FineTunedModel.INFO_FILE);
        JSON.writeValue(rewritten.toFile(), j);
        rewritten.toFile().deleteOnExit();
        return FineTunedModel.load(links);
    }
}
