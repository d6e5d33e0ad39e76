package org.finsent.study;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * What one grid cell (model × technique × data set) produced: its {@code cell.json}. A cell whose file says
 * {@code "status": "ok"} is finished and skipped by the next run; {@code "failed"} records the error and is retried.
 * Metrics are the held-out test split's (scikit-learn definitions; precision/recall/F1 weighted by support).
 * Fields that could not be measured are null ({@code gpu_memory_max_bytes} on the CPU backend).
 */
@JsonInclude(JsonInclude.Include.ALWAYS)
public record CellResult(String status, String error, String data, String model, String technique, String architecture,
                         boolean randomInit, Map<String, Object> settings, Sizes sizes, Metrics test,
                         Double validationBestAccuracy, Long validationBestStep, Double trainRuntimeSeconds,
                         Long globalSteps, Double epochs, boolean resumed, Resources resources, Long trainableParameters,
                         Long totalParameters, Long weightsFileBytes, Double latencyMsMedianBatch1,
                         Double throughputPerSecondBatch32, String finishedAt) {

    public static final String FILE = "cell.json";
    public static final String OK = "ok", FAILED = "failed";

    /** Examples per split. */
    public record Sizes(int train, int validation, int test) {
    }

    /** Test-split metrics; {@code confusionMatrix} rows are true classes, columns predictions (label-id order). */
    public record Metrics(double accuracy, double precisionWeighted, double recallWeighted, double f1Weighted,
                          double f1Macro, double loss, List<String> labels, long[][] confusionMatrix) {
    }

    /** Training-time process resources from the resource monitor (CPU: 100 % = every logical core busy); null = not sampled (a run shorter than one tick). */
    public record Resources(Double cpuAvgPercent, Double cpuMaxPercent, Double rssAvgBytes, Double rssMaxBytes,
                            Double gpuMemoryMaxBytes, int logicalCores) {
    }

    public boolean ok() {
        return OK.equals(status);
    }

    /** The cell's directory name path: {@code <data>/<model>/<technique>}. */
    public static Path cellDir(Path root, String data, String model, String technique) {
        return root.resolve(slug(data)).resolve(slug(model)).resolve(slug(technique));
    }

    /** A file-name-safe form of a spec (paths and hub ids become dashes). */
    public static String slug(String s) {
        String t = s.strip().replaceAll("[^A-Za-z0-9._+-]+", "-").replaceAll("^-+|-+$", "");
        if (t.isEmpty() || t.equals(".") || t.equals("..")) throw new IllegalArgumentException("cannot name a directory after '" + s + "'");
        return t;
    }

    static final ObjectMapper JSON = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    /** Writes atomically, so a crash never leaves a half-written file that would look finished. */
    public void write(Path dir) throws IOException {
        Files.createDirectories(dir);
        org.finsent.core.io.AtomicFiles.write(dir.resolve(FILE), tmp -> JSON.writeValue(tmp.toFile(), this));
    }

    /** The cell's result, or null when it has none. */
    public static CellResult read(Path dir) throws IOException {
        Path f = dir.resolve(FILE);
        if (!Files.isRegularFile(f)) return null;
        return JSON.readValue(f.toFile(), CellResult.class);
    }
}
