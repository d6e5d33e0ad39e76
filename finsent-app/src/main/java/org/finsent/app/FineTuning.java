package org.finsent.app;

import org.finsent.train.*;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.finsent.core.data.Example;
import org.finsent.core.data.Splits;
import org.finsent.core.model.SequenceClassifier;
import org.finsent.peft.Peft;
import org.finsent.peft.PeftMethod;
import org.finsent.report.ProgressBars;
import org.finsent.report.ResourceMonitor;
import org.finsent.report.RunReporter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * One fine-tuning run as a library call: a {@link Spec} (model, data, techniques, training arguments, split) in, a
 * finished output directory out — the {@link FineTunedModel} files, the {@link Trainer}'s log and metrics, the
 * {@link RunReporter}'s resources and plots, {@code test_metrics.json} on the held-out test split, and
 * {@code run_spec.json}. What {@code finsent train} runs, and what a grid of runs (the study) calls per cell:
 * <ul>
 *   <li>a directory that already holds a finished run of the same spec is <b>skipped</b> (its metrics returned);</li>
 *   <li>an unfinished run of the same spec with checkpoints is <b>resumed</b> from the latest one;</li>
 *   <li>a directory holding a different spec is refused unless {@code overwrite} is set.</li>
 * </ul>
 */
public final class FineTuning {
    private static final Logger LOG = LoggerFactory.getLogger(FineTuning.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    public static final String SPEC_FILE = "run_spec.json";
    public static final String TEST_METRICS_FILE = "test_metrics.json";

    private FineTuning() {
    }

    /**
     * @param model              model spec ({@link ModelSources})
     * @param data               data spec ({@link DataSources})
     * @param dataOptions        how to read it
     * @param techniques         what to train
     * @param args               the trainer's arguments; {@code outputDir} is the run directory
     * @param trainFraction      share of the examples for training (stratified, duplicate-safe split)
     * @param validationFraction share for validation (evaluation during training, best model); the rest is the test split
     * @param splitSeed          seed of the split, or null for the training seed ({@code args.seed()}): fix it to train
     *                           with other seeds on the same split (seed-to-seed variance on one test set)
     */
    public record Spec(String model, String data, DataSources.Options dataOptions, Techniques techniques,
                       TrainingArguments args, double trainFraction, double validationFraction, Long splitSeed) {
        /** A spec whose split follows the training seed. */
        public Spec(String model, String data, DataSources.Options dataOptions, Techniques techniques,
                    TrainingArguments args, double trainFraction, double validationFraction) {
            this(model, data, dataOptions, techniques, args, trainFraction, validationFraction, null);
        }

        public Spec {
            Objects.requireNonNull(model, "model");
            Objects.requireNonNull(data, "data");
            Objects.requireNonNull(dataOptions, "dataOptions");
            Objects.requireNonNull(techniques, "techniques");
            Objects.requireNonNull(args, "args");
            if (!(trainFraction > 0 && validationFraction >= 0 && trainFraction + validationFraction <= 1 + 1e-9)) {
                throw new IllegalArgumentException("split fractions must be train > 0, validation >= 0, train + validation <= 1: "
                        + trainFraction + ", " + validationFraction);
            }
        }

        /** The seed the split is made with. */
        public long effectiveSplitSeed() {
            return splitSeed != null ? splitSeed : args.seed();
        }

        /** The split of {@code examples} this spec trains, validates and tests on. */
        public Splits.Result split(List<Example> examples) {
            return Splits.stratified(examples, trainFraction, validationFraction, effectiveSplitSeed());
        }

        /** What identifies the run (the output directory and a resume checkpoint do not). */
        public JsonNode toJson() {
            ObjectNode j = JSON.createObjectNode();
            j.put("model", model);
            j.put("data", data);
            j.put("agreement", dataOptions.agreement().name());
            j.set("data_options", JSON.valueToTree(Map.of("text_column", dataOptions.textColumn(), "label_column",
                    dataOptions.labelColumn(), "labels", dataOptions.labelNames(), "bad_rows", dataOptions.policy().name())));
            j.set("techniques", JSON.valueToTree(techniques.toMap()));
            ObjectNode a = JSON.valueToTree(args);
            a.remove("outputDir");
            a.remove("resumeFromCheckpoint");
            j.set("training_arguments", a);
            j.put("train_fraction", trainFraction);
            j.put("validation_fraction", validationFraction);
            if (splitSeed != null) j.put("split_seed", splitSeed); // absent when it follows the training seed (as before it existed)
            return j;
        }
    }

    /**
     * @param dir         the run directory
     * @param skipped     true when a finished run of the same spec was found and nothing ran
     * @param metrics     {@code metrics.json} (validation metrics of the returned model, training summary)
     * @param testMetrics {@code test_metrics.json}, or empty without a test split
     * @param model       the fine-tuned model (null when skipped: load it with {@link FineTunedModel#load})
     * @param resources   the resource summary of this run (null when skipped)
     * @param data        the data read and where from (DataSources.Loaded#describe; null when skipped)
     */
    public record Outcome(Path dir, boolean skipped, Map<String, Object> metrics, Map<String, Object> testMetrics,
                          FineTunedModel model, ResourceMonitor.Summary resources, String data) {
    }

    /** The split seed a written {@code run_spec.json} records ({@code split_seed}, else the training seed). */
    public static long splitSeed(JsonNode runSpec) {
        JsonNode s = runSpec.path("split_seed");
        return s.isNumber() ? s.asLong() : runSpec.path("training_arguments").path("seed").asLong();
    }

    public static Outcome run(Spec spec, boolean overwrite) throws IOException {
        Path dir = spec.args().outputDir();
        // through text, so numbers compare as they read back (a long written is an int read)
        JsonNode specJson = JSON.readTree(JSON.writeValueAsString(spec.toJson()));
        Path specFile = dir.resolve(SPEC_FILE);
        boolean sameSpec = Files.isRegularFile(specFile) && JSON.readTree(specFile.toFile()).equals(specJson);
        boolean finished = Files.isRegularFile(dir.resolve(FineTunedModel.INFO_FILE));
        if (Files.isRegularFile(specFile) && !sameSpec && !overwrite) {
            throw new IllegalStateException(dir + " holds a run with other settings (" + SPEC_FILE + " differs); choose another "
                    + "output directory or pass --overwrite");
        }
        if (finished && sameSpec && !overwrite) {
            LOG.info("{}: finished run with the same settings found; skipping", dir);
            return new Outcome(dir, true, readMap(dir.resolve(Trainer.METRICS_FILE)), readMap(dir.resolve(TEST_METRICS_FILE)), null, null, null);
        }
        TrainingArguments args = spec.args();
        if (overwrite || !sameSpec) deleteCheckpoints(dir);
        else if (args.resumeFromCheckpoint() == null) {
            Path last = latestCheckpoint(dir);
            if (last != null) {
                LOG.info("{}: unfinished run with the same settings; resuming from {}", dir, last.getFileName());
                args = args.toBuilder().resumeFromCheckpoint(last).build();
            }
        }

        // ---- data and split
        DataSources.Loaded data = DataSources.load(spec.data(), spec.dataOptions());
        if (data.dataset().skipped() > 0) LOG.warn("{}: skipped {} bad rows, e.g. {}", data.source(), data.dataset().skipped(),
                data.dataset().skippedReasons().get(0));
        Splits.Result split = spec.split(data.dataset().examples());
        LOG.info("{} ({} examples) split {}/{}/{}:\n{}", data.source(), data.dataset().examples().size(), split.train().size(),
                split.validation().size(), split.test().size(), split);

        // ---- model, techniques, training with the run reporter attached
        List<String> labels = data.labelNames();
        ModelSources.Source source = ModelSources.load(spec.model(), labels.size(), args.seed());
        SequenceClassifier model = source.model();
        List<PeftMethod> methods = spec.techniques().methods(model, source.tokenizer());
        model = Peft.apply(model, methods.toArray(PeftMethod[]::new));
        Trainer trainer = new Trainer(model, source.tokenizer(), args, labels);
        ProgressBars bars = ProgressBars.forConsole();
        if (bars != null) trainer.addListener(bars);
        // the spec is recorded once data and model loaded: a run that failed before training blocks nothing
        Files.createDirectories(dir);
        Files.deleteIfExists(dir.resolve(FineTunedModel.INFO_FILE));
        JSON.writerWithDefaultPrettyPrinter().writeValue(specFile.toFile(), specJson);
        TrainResult result;
        ResourceMonitor.Summary resources;
        try (RunReporter reporter = new RunReporter(dir, labels)) {
            result = trainer.addListener(reporter).train(split.train(), split.validation());
            resources = reporter.resources();
        }

        // ---- held-out test split, then the model directory
        Map<String, Object> test = new LinkedHashMap<>();
        if (!split.test().isEmpty()) {
            EvalResult t = trainer.evaluate(split.test());
            for (var e : t.toMap().entrySet()) test.put(e.getKey().replaceFirst("^eval_", "test_"), e.getValue());
            JSON.writerWithDefaultPrettyPrinter().writeValue(dir.resolve(TEST_METRICS_FILE).toFile(), test);
            RunReporter.confusionMatrices(dir, "test_", t.metrics().confusionMatrix().toArray(), labels);
            // per-example predictions, so the study's statistics are recomputed from files (TestPredictions)
            new TestPredictions(split.test().stream().mapToInt(Example::label).toArray(), t.predictions()).write(dir);
            LOG.info("test split: accuracy {}, f1_weighted {}, f1_macro {}", t.metrics().accuracy(), t.metrics().weightedF1(),
                    t.metrics().macroF1());
        }
        Map<String, Object> metrics = readMap(dir.resolve(Trainer.METRICS_FILE));
        Map<String, Object> card = new LinkedHashMap<>();
        for (String k : List.of("eval_accuracy", "eval_f1_weighted", "eval_f1_macro", "eval_loss", "train_loss", "global_step",
                "train_runtime_s")) {
            if (metrics.containsKey(k)) card.put(k, metrics.get(k));
        }
        for (String k : List.of("test_accuracy", "test_f1_weighted", "test_f1_macro", "test_precision_weighted",
                "test_recall_weighted", "test_samples")) {
            if (test.containsKey(k)) card.put(k, test.get(k));
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> trainingArguments = JSON.convertValue(specJson.path("training_arguments"), LinkedHashMap.class);
        FineTunedModel fine = FineTunedModel.of(source, model, labels, args.maxSeqLength(), card)
                .withTraining(new ModelCard.Training(spec.data(), data.source(), trainingArguments));
        fine.save(dir);
        LOG.info("model saved to {} ({} of {} parameters trained, {} steps in {} s)", dir, fine.info().trainableParameters(),
                fine.info().totalParameters(), result.globalStep(), String.format("%.1f", result.trainRuntimeSeconds()));
        return new Outcome(dir, false, metrics, test, fine, resources, data.describe());
    }

    private static Map<String, Object> readMap(Path file) throws IOException {
        if (!Files.isRegularFile(file)) return Map.of();
        @SuppressWarnings("unchecked")
        Map<String, Object> m = JSON.readValue(file.toFile(), LinkedHashMap.class);
        return m;
    }

    /** The {@code checkpoint-<step>} directory with the highest step, or null. */
    static Path latestCheckpoint(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) return null;
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> Files.isDirectory(p) && p.getFileName().toString().matches("checkpoint-\\d+"))
                    .max(Comparator.comparingLong(p -> Long.parseLong(p.getFileName().toString().substring(11))))
                    .orElse(null);
        }
    }

    private static void deleteCheckpoints(Path dir) throws IOException {
        for (Path c; (c = latestCheckpoint(dir)) != null; ) {
            try (Stream<Path> walk = Files.walk(c)) {
                for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
            }
        }
    }
}
