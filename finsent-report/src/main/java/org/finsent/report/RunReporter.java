package org.finsent.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.finsent.train.TrainResult;
import org.finsent.train.Trainer;
import org.finsent.train.TrainingArguments;
import org.finsent.train.TrainingListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Wires the resource monitor and the plots into a training run: attach it with {@link Trainer#addListener} and the
 * run directory gets {@code resources.json} (sampled from the first to the last step) and the PNG charts next to
 * {@code training_log.jsonl} when training ends. Close it in a {@code finally} (or try-with-resources) so a run
 * that throws still stops the sampler and writes what it measured.
 *
 * <pre>{@code
 * try (RunReporter reporter = new RunReporter(args.outputDir(), labelNames)) {
 *     trainer.addListener(reporter).train(train, validation);
 * }
 * }</pre>
 *
 * The plots are drawn from {@code training_log.jsonl} and {@code metrics.json} on disk rather than from the
 * in-memory log, so a resumed run's charts show the whole history, not just the part after the checkpoint.
 * {@code resources.json} covers the last {@link Trainer#train} call only (a resumed run measures its own part).
 */
public final class RunReporter implements TrainingListener, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RunReporter.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    public static final String RESOURCES_FILE = "resources.json";
    public static final String LOSS_PNG = "loss.png";
    public static final String LR_PNG = "learning_rate.png";
    public static final String EVAL_METRICS_PNG = "eval_metrics.png";
    public static final String CONFUSION_PNG = "confusion_matrix.png";
    public static final String CONFUSION_NORMALISED_PNG = "confusion_matrix_normalized.png";

    private final Path runDir;
    private final List<String> labelNames;
    private final ResourceMonitor.Options monitorOptions;
    private ResourceMonitor monitor;

    public RunReporter(Path runDir, List<String> labelNames) {
        this(runDir, labelNames, ResourceMonitor.Options.defaults());
    }

    public RunReporter(Path runDir, List<String> labelNames, ResourceMonitor.Options monitorOptions) {
        this.runDir = runDir;
        this.labelNames = List.copyOf(labelNames);
        this.monitorOptions = monitorOptions;
    }

    @Override
    public void onTrainBegin(TrainingArguments args, long totalSteps) {
        if (monitor == null) monitor = ResourceMonitor.start(monitorOptions);
    }

    @Override
    public void onEnd(TrainResult result) {
        writeResources();
        writePlots(runDir, labelNames);
    }

    /** The monitor's summary so far (null before training began). */
    public ResourceMonitor.Summary resources() {
        return monitor == null ? null : monitor.summary();
    }

    /** Stops the sampler; if the run ended abnormally, still writes {@code resources.json}. Idempotent. */
    @Override
    public void close() {
        if (monitor != null && monitor.isRunning()) writeResources();
    }

    private void writeResources() {
        if (monitor == null) return;
        monitor.close();
        monitor.writeJson(runDir.resolve(RESOURCES_FILE));
    }

    /**
     * Draws every chart of a run directory from its {@code training_log.jsonl} and {@code metrics.json}: loss,
     * learning rate and evaluation metrics against the step, and the final evaluation's confusion matrix (counts
     * and row-normalised). Charts without data (no evaluation set: no eval metrics or confusion matrix) are skipped.
     *
     * @return the files written
     */
    public static List<Path> writePlots(Path runDir, List<String> labelNames) {
        List<Path> written = new ArrayList<>();
        try {
            Path log = runDir.resolve(Trainer.LOG_FILE);
            if (Files.isRegularFile(log)) written.addAll(curves(runDir, Files.readAllLines(log, StandardCharsets.UTF_8)));
            Path metrics = runDir.resolve(Trainer.METRICS_FILE);
            if (Files.isRegularFile(metrics)) {
                long[][] cm = confusion(JSON.readTree(metrics.toFile()).path("eval_confusion_matrix"));
                if (cm != null) written.addAll(confusionMatrices(runDir, "", cm, labelNames));
            }
        } catch (IOException e) {
            // the model and logs are what matter; a chart that cannot be drawn must not fail the run
            LOG.warn("could not draw the plots of {}: {}", runDir, e.toString());
        }
        return written;
    }

    /**
     * Writes the counts and row-normalised confusion-matrix heat maps into {@code dir} as {@code <prefix>confusion_matrix.png}
     * and {@code <prefix>confusion_matrix_normalized.png} (prefix e.g. {@code ""} for validation, {@code "test_"}).
     */
    public static List<Path> confusionMatrices(Path dir, String prefix, long[][] matrix, List<String> labelNames) {
        return confusionMatrices(dir, prefix, splitOf(prefix), matrix, labelNames);
    }

    /** As {@link #confusionMatrices(Path, String, long[][], List)}, the titles naming the examples ({@code what}, e.g. "test split"). */
    public static List<Path> confusionMatrices(Path dir, String prefix, String what, long[][] matrix, List<String> labelNames) {
        String[] names = labelNames.toArray(String[]::new);
        if (names.length != matrix.length) {
            throw new IllegalArgumentException(matrix.length + "x" + matrix.length + " confusion matrix but " + names.length + " label names");
        }
        return List.of(Plots.confusionMatrix(dir.resolve(prefix + CONFUSION_PNG), Plots.Style.confusionMatrix(false, what), matrix, names, false),
                Plots.confusionMatrix(dir.resolve(prefix + CONFUSION_NORMALISED_PNG), Plots.Style.confusionMatrix(true, what), matrix,
                        names, true));
    }

    /** What a file prefix's matrix shows: {@code ""} the validation split, {@code "test_"} the test split. */
    static String splitOf(String prefix) {
        String p = prefix.replaceAll("_+$", "");
        return (p.isEmpty() || p.equals("eval") ? "validation" : p) + " split";
    }

    private static List<Path> curves(Path runDir, List<String> lines) throws IOException {
        List<double[]> train = new ArrayList<>(), lr = new ArrayList<>(), eval = new ArrayList<>();
        for (String line : lines) {
            if (line.isBlank()) continue;
            JsonNode j = JSON.readTree(line);
            double step = j.path("step").asDouble();
            if (j.has("train_loss")) train.add(new double[]{step, j.get("train_loss").asDouble()});
            if (j.has("lr")) lr.add(new double[]{step, j.get("lr").asDouble()});
            if (j.has("eval_loss")) {
                eval.add(new double[]{step, j.get("eval_loss").asDouble(), j.path("eval_accuracy").asDouble(Double.NaN),
                        j.path("eval_f1_weighted").asDouble(Double.NaN), j.path("eval_f1_macro").asDouble(Double.NaN)});
            }
        }
        List<Path> out = new ArrayList<>();
        if (train.isEmpty() && eval.isEmpty()) return out;
        out.add(Plots.loss(runDir.resolve(LOSS_PNG), series("Training loss", train, 1),
                eval.isEmpty() ? null : series("Validation loss", eval, 1)));
        if (!lr.isEmpty()) out.add(Plots.learningRate(runDir.resolve(LR_PNG), series("Learning rate", lr, 1)));
        if (!eval.isEmpty()) {
            out.add(Plots.validationMetrics(runDir.resolve(EVAL_METRICS_PNG), Plots.Style.validationMetrics(), List.of(
                    series("Accuracy", eval, 2), series("F1 (weighted)", eval, 3), series("F1 (macro)", eval, 4))));
        }
        return out;
    }

    private static Plots.Series series(String name, List<double[]> rows, int column) {
        double[] x = new double[rows.size()], y = new double[rows.size()];
        for (int i = 0; i < rows.size(); i++) {
            x[i] = rows.get(i)[0];
            y[i] = rows.get(i)[column];
        }
        return new Plots.Series(name, x, y);
    }

    private static long[][] confusion(JsonNode m) {
        if (!m.isArray() || m.isEmpty()) return null;
        long[][] out = new long[m.size()][];
        for (int i = 0; i < m.size(); i++) {
            out[i] = new long[m.get(i).size()];
            for (int j = 0; j < out[i].length; j++) out[i][j] = m.get(i).get(j).asLong();
        }
        return out;
    }
}
