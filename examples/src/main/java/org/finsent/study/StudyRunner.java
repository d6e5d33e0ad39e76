package org.finsent.study;

import com.fasterxml.jackson.databind.JsonNode;
import org.finsent.core.data.Example;
import org.finsent.core.data.Sentiment;
import org.finsent.core.metrics.ClassificationMetrics;
import org.finsent.core.nn.Parameter;
import org.finsent.peft.Peft;
import org.finsent.peft.PeftMethod;
import org.finsent.peft.PeftModel;
import org.finsent.tokenizers.Tokenizer;
import org.finsent.report.ResourceMonitor;
import org.finsent.report.RunReporter;
import org.finsent.train.Checkpoint;
import org.finsent.train.EvalResult;
import org.finsent.train.FineTunedModel;
import org.finsent.train.ModelSources;
import org.finsent.train.Predictor;
import org.finsent.train.TrainResult;
import org.finsent.train.Trainer;
import org.finsent.train.TrainingArguments;
import org.finsent.train.TrainingListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * Runs the study's grid: every model × technique × data set cell in its own directory
 * ({@code <output>/<data>/<model>/<technique>}), one after the other.
 *
 * <p><b>Resumable.</b> A cell whose {@code cell.json} says {@code ok} is skipped. A cell interrupted mid-training
 * continues from its newest {@code checkpoint-<step>} (the trainer restores weights, optimizer, schedule and data
 * position; with dropout on the continuation is statistically, not bitwise, the same run); one without a
 * checkpoint restarts. A cell that fails records the error in its {@code cell.json} and the grid goes on; the next
 * run retries it. A finished cell whose recorded settings differ from the current ones is left alone (a warning
 * says so): its numbers stay, labelled with their own settings.
 *
 * <p>Per cell it trains with the study's presets ({@link StudyPresets}), evaluates the best model on the held-out
 * test split, writes {@code resources.json} and the plots of the run ({@link RunReporter}), the trained model as
 * {@code finsent train} saves it ({@code model/}: PEFT files for PEFT methods, the whole model for full
 * fine-tuning; {@link FineTunedModel}), and
 * measures inference latency with {@link Predictor}: the median milliseconds per sentence at batch 1 and the
 * sentences per second at batch 32, on test sentences, after a warm-up.
 */
public final class StudyRunner {
    private static final Logger LOG = LoggerFactory.getLogger(StudyRunner.class);
    /** The trained model as {@code finsent train} writes it ({@link FineTunedModel}). */
    public static final String MODEL_DIR = "model";
    public static final String TEST_CONFUSION_PNG = "test_confusion_matrix.png";
    static final String SETTINGS_FILE = "settings.json";
    static final int LATENCY_SENTENCES = 100, THROUGHPUT_SENTENCES = 320, WARMUP = 5;

    /**
     * The grid.
     *
     * @param models     model specs (e.g. {@code all-MiniLM-L6-v2})
     * @param techniques technique ids ({@code full}, {@code lora}, {@code adapter}, {@code prefix}, {@code prompt},
     *                   or PEFT ones joined by {@code +})
     * @param data       data specs ({@code fpb[:PATH]}, {@code tweets[:PATH]})
     * @param output     the study's root directory
     * @param gpt2Lr     which of the study's two GPT-2 learning rates
     * @param overrides  quick-run overrides (recorded in every cell)
     */
    public record Grid(List<String> models, List<String> techniques, List<String> data, Path output,
                       StudyPresets.Gpt2LearningRate gpt2Lr, StudyPresets.Overrides overrides) {
        public Grid {
            models = List.copyOf(models);
            techniques = List.copyOf(techniques);
            data = List.copyOf(data);
            Objects.requireNonNull(output, "output");
            Objects.requireNonNull(gpt2Lr, "gpt2Lr");
            Objects.requireNonNull(overrides, "overrides");
            if (models.isEmpty() || techniques.isEmpty() || data.isEmpty()) {
                throw new IllegalArgumentException("the grid needs at least one model, technique and data set");
            }
            techniques.forEach(StudyPresets.Technique::parseCombination); // fail before hours of training
            data.forEach(StudyData::kind);
        }
    }

    /** What happened to one cell in this run. */
    public enum Action { TRAINED, RESUMED, SKIPPED, FAILED }

    public record Outcome(Path dir, Action action, CellResult result) {
    }

    private final StudyModels models;
    private final StudyData.Reader reader;
    private final TrainingListener extraListener;

    public StudyRunner(StudyModels models, StudyData.Reader reader) {
        this(models, reader, new TrainingListener() { });
    }

    /** With a listener added to every cell's trainer (tests use it to interrupt a run). */
    StudyRunner(StudyModels models, StudyData.Reader reader, TrainingListener extraListener) {
        this.models = Objects.requireNonNull(models, "models");
        this.reader = Objects.requireNonNull(reader, "reader");
        this.extraListener = Objects.requireNonNull(extraListener, "extraListener");
    }

    /** Runs every cell not yet finished, data set by data set (each is read and split once). */
    public List<Outcome> run(Grid grid) throws IOException {
        Files.createDirectories(grid.output());
        StudyReport.recordGrid(grid.output(), grid);
        List<Outcome> out = new ArrayList<>();
        for (String dataSpec : grid.data()) {
            StudyData data = null;
            for (String model : grid.models()) {
                for (String technique : grid.techniques()) {
                    Path dir = CellResult.cellDir(grid.output(), StudyData.kind(dataSpec), model, technique);
                    CellResult done = CellResult.read(dir);
                    if (done != null && done.ok()) {
                        LOG.info("{}: finished earlier, skipped", dir);
                        out.add(new Outcome(dir, Action.SKIPPED, done));
                        continue;
                    }
                    long t0 = System.nanoTime();
                    try {
                        if (data == null) data = StudyData.load(reader, dataSpec, grid.overrides().sampleSize(), StudyPresets.SEED);
                        out.add(runCell(grid, data, model, technique, dir));
                    } catch (Exception | OutOfMemoryError e) {
                        LOG.error("{} failed: {}", dir, e.toString(), e);
                        CellResult failed = new CellResult(CellResult.FAILED, e.toString(), StudyData.kind(dataSpec), model,
                                technique, null, false, null, null, null, null, null, null, null, null, false, null,
                                null, null, null, null, null, Instant.now().toString());
                        failed.write(dir);
                        out.add(new Outcome(dir, Action.FAILED, failed));
                    }
                    LOG.info("{}: {} in {} s", dir, out.get(out.size() - 1).action(), Math.round((System.nanoTime() - t0) / 1e9));
                    System.gc(); // the finished cell's model and off-heap arrays
                }
            }
        }
        return out;
    }

    private Outcome runCell(Grid grid, StudyData data, String modelSpec, String technique, Path dir) throws IOException {
        List<String> labels = List.of(Sentiment.labels());
        ModelSources.Source loaded = models.load(modelSpec, labels.size(), StudyPresets.SEED);
        StudyPresets.Family family = StudyPresets.Family.of(loaded.architecture());
        List<StudyPresets.Technique> techniques = StudyPresets.Technique.parseCombination(technique);
        PeftMethod[] methods = StudyPresets.methods(family, techniques);
        TrainingArguments args = StudyPresets.arguments(family, techniques, dir, grid.gpt2Lr(), grid.overrides());
        Map<String, Object> settings = settings(data, loaded, technique, methods, args, grid.overrides());

        // resume only a checkpoint written with these very settings; anything else in the directory is stale
        Files.createDirectories(dir);
        Path settingsFile = dir.resolve(SETTINGS_FILE);
        Path checkpoint = Checkpoint.latest(dir);
        boolean resume = checkpoint != null && Files.isRegularFile(settingsFile)
                && CellResult.JSON.readTree(settingsFile.toFile()).equals(asTree(settings));
        if (!resume) {
            deleteContents(dir);
            CellResult.JSON.writeValue(settingsFile.toFile(), settings);
        } else {
            LOG.info("{}: resuming from {}", dir, checkpoint.getFileName());
            args = args.toBuilder().resumeFromCheckpoint(checkpoint).build();
        }

        PeftModel model = Peft.apply(loaded.model(), methods);
        Trainer trainer = new Trainer(model, loaded.tokenizer(), args, labels).addListener(new KeepNewestCheckpoint(dir))
                .addListener(extraListener);
        TrainResult train;
        ResourceMonitor.Summary resources;
        try (RunReporter reporter = new RunReporter(dir, labels)) { // resources.json and the run's plots
            train = trainer.addListener(reporter).train(data.split().train(), data.split().validation());
            resources = reporter.resources();
        }
        EvalResult test = trainer.evaluate(data.split().test());

        // what `finsent train` writes: PEFT files (adapter + head) or the whole model for full fine-tuning
        Path saved = dir.resolve(MODEL_DIR);
        Map<String, Object> testMetrics = new LinkedHashMap<>();
        test.toMap().forEach((k, v) -> testMetrics.put(k.replaceFirst("^eval_", "test_"), v));
        FineTunedModel.of(loaded, model, labels, args.maxSeqLength(), testMetrics).save(saved);
        long weightBytes;
        try (Stream<Path> files = Files.walk(saved)) {
            weightBytes = files.filter(f -> f.getFileName().toString().endsWith(".safetensors")).mapToLong(f -> f.toFile().length()).sum();
        }
        List<String> texts = data.split().test().stream().map(Example::text).toList();
        double latency = medianLatencyMs(model, loaded.tokenizer(), labels, args.maxSeqLength(), texts);
        double throughput = throughput(model, loaded.tokenizer(), labels, args.maxSeqLength(), texts);
        deleteCheckpoints(dir);

        long trainable = 0, total = 0;
        for (Parameter p : model.parameters()) {
            total += p.numel();
            if (p.trainable()) trainable += p.numel();
        }
        ClassificationMetrics m = test.metrics();
        var metrics = new CellResult.Metrics(m.accuracy(), m.weightedPrecision(), m.weightedRecall(), m.weightedF1(),
                m.macroF1(), test.loss(), labels, m.confusionMatrix().toArray());
        var res = new CellResult.Resources(resources.processCpuPercent().avg(), resources.processCpuPercent().max(),
                resources.processRssBytes().avg(), resources.processRssBytes().max(),
                resources.gpuMemoryUsedBytes() == null ? null : resources.gpuMemoryUsedBytes().max(), resources.logicalCores());
        var sizes = new CellResult.Sizes(data.split().train().size(), data.split().validation().size(), data.split().test().size());
        CellResult result = new CellResult(CellResult.OK, null, data.name(), modelSpec, technique, loaded.architecture(),
                StudyModels.randomInit(modelSpec), settings, sizes, metrics, train.bestStep() >= 0 ? train.bestMetric() : null,
                train.bestStep() >= 0 ? train.bestStep() : null, train.trainRuntimeSeconds(), train.globalStep(), train.epoch(),
                resume, res, trainable, total, weightBytes, latency, throughput, Instant.now().toString());
        result.write(dir);
        return new Outcome(dir, resume ? Action.RESUMED : Action.TRAINED, result);
    }

    /** Everything that determines a cell's numbers; a checkpoint is resumed only under equal settings. */
    static Map<String, Object> settings(StudyData data, ModelSources.Source loaded, String technique, PeftMethod[] methods,
                                        TrainingArguments a, StudyPresets.Overrides overrides) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("model", loaded.spec());
        s.put("data", data.spec());
        s.put("split", Map.of("train", StudyData.TRAIN_FRACTION, "validation", StudyData.VALIDATION_FRACTION,
                "seed", StudyPresets.SEED, "sizes", List.of(data.split().train().size(), data.split().validation().size(),
                        data.split().test().size())));
        s.put("technique", technique);
        s.put("peft", Arrays.stream(methods).map(String::valueOf).toList());
        s.put("num_train_epochs", a.numTrainEpochs());
        s.put("max_steps", a.maxSteps());
        s.put("per_device_train_batch_size", a.perDeviceTrainBatchSize());
        s.put("gradient_accumulation_steps", a.gradientAccumulationSteps());
        s.put("learning_rate", a.learningRate());
        s.put("lr_scheduler_type", a.lrSchedulerType());
        s.put("warmup_steps", a.warmupSteps());
        s.put("weight_decay", a.weightDecay());
        s.put("max_grad_norm", a.maxGradNorm());
        s.put("eval_steps", a.evalStepsResolved());
        s.put("logging_steps", a.loggingSteps());
        s.put("metric_for_best_model", a.metricForBestModel());
        s.put("load_best_model_at_end", a.loadBestModelAtEnd());
        s.put("max_seq_length", a.maxSeqLength());
        s.put("seed", a.seed());
        s.put("overrides", overrides.asMap());
        return s;
    }

    private static JsonNode asTree(Object o) throws IOException {
        return CellResult.JSON.readTree(CellResult.JSON.writeValueAsString(o)); // same number node types as a file read
    }

    static double medianLatencyMs(PeftModel model, Tokenizer tokenizer, List<String> labels, int maxLen, List<String> texts) {
        Predictor p = new Predictor(model, tokenizer, labels, maxLen, 1);
        int n = Math.min(LATENCY_SENTENCES, texts.size());
        for (int i = 0; i < Math.min(WARMUP, n); i++) p.predict(texts.get(i));
        double[] ms = new double[n];
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            p.predict(texts.get(i));
            ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(ms);
        return n % 2 == 1 ? ms[n / 2] : (ms[n / 2 - 1] + ms[n / 2]) / 2;
    }

    static double throughput(PeftModel model, Tokenizer tokenizer, List<String> labels, int maxLen, List<String> texts) {
        Predictor p = new Predictor(model, tokenizer, labels, maxLen, 32);
        List<String> sample = texts.subList(0, Math.min(THROUGHPUT_SENTENCES, texts.size()));
        p.predict(sample.subList(0, Math.min(32, sample.size()))); // warm-up
        long t0 = System.nanoTime();
        p.predict(sample);
        return sample.size() / ((System.nanoTime() - t0) / 1e9);
    }

    /** The trainer keeps every checkpoint; a grid keeps only the newest per cell (full fine-tuning ones are large). */
    private record KeepNewestCheckpoint(Path dir) implements TrainingListener {
        @Override
        public void onSave(long step, Path checkpoint) {
            try (Stream<Path> s = Files.list(dir)) {
                for (Path p : s.filter(p -> p.getFileName().toString().startsWith(Checkpoint.PREFIX) && !p.equals(checkpoint)).toList()) {
                    deleteRecursively(p);
                }
            } catch (IOException e) {
                LOG.warn("could not delete old checkpoints in {}: {}", dir, e.toString());
            }
        }
    }

    private static void deleteCheckpoints(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.filter(p -> p.getFileName().toString().startsWith(Checkpoint.PREFIX)).toList()) deleteRecursively(p);
        }
    }

    private static void deleteContents(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.toList()) deleteRecursively(p);
        }
    }

    static void deleteRecursively(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(q);
        }
    }
}
