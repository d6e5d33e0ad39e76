package org.finsent.spark;

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

/**
 * The models of this JVM (an executor, or the driver in local mode), loaded once per model directory and shared by
 * every task that runs here. A task resolves its {@code modelPath} as a local directory, else as a file shipped
 * with {@code spark.archives} ({@link ModelExport#archive}, {@code spark-submit --archives model.zip#name}) ({@code SparkFiles.get(name)}), and loads it with
 * {@link FineTunedModel#load}; a packed export ({@link ModelExport}) whose base is the relative {@code ./base}
 * is loaded from inside the directory.
 */
public final class ModelCache {
    private static final Map<String, FineTunedModel> MODELS = new ConcurrentHashMap<>();
    private static final Map<String, Predictor> PREDICTORS = new ConcurrentHashMap<>();
    private static final AtomicInteger LOADS = new AtomicInteger();
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ModelCache.class);

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
                long t0 = System.nanoTime();
                FineTunedModel m = load(Path.of(k));
                int n = LOADS.incrementAndGet();
                LOG.info("loaded FinSent model {} in {} s (model loads in this JVM, pid {}: {})", k,
                        String.format(java.util.Locale.ROOT, "%.1f", (System.nanoTime() - t0) / 1e9), ProcessHandle.current().pid(), n);
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

    /** A local directory, else a directory shipped to this executor under that name ({@link ModelExport#archive}). */
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
                + "ship it to the executors (finsent export, then spark.archives=ModelExport.archive(dir) or "
                + "spark-submit --archives model.zip#model) or put it on a shared file system"));
    }

    /** {@link FineTunedModel#load}: a packed export's relative base ({@code ./base}) resolves inside its directory. */
    public static FineTunedModel load(Path dir) throws IOException {
        return FineTunedModel.load(dir);
    }
}
