package org.finsent.study;

import org.finsent.core.data.Example;
import org.finsent.core.data.Splits;
import org.finsent.core.model.SequenceClassifier;
import org.finsent.report.ResourceMonitor;
import org.finsent.report.RunReporter;
import org.finsent.tokenizers.Tokenizer;
import org.finsent.train.Checkpoint;
import org.finsent.train.DataSources;
import org.finsent.train.FineTunedModel;
import org.finsent.app.FineTuning;
import org.finsent.train.Predictor;
import org.finsent.train.TrainingArguments;
import org.finsent.train.pretrain.PretrainingRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
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
import java.util.Set;
import java.util.stream.Stream;

/**
 * Runs the study's grid: every model × technique × data set cell in its own directory
 * ({@code <output>/<data>/<model>/<technique>}), one after the other. Each cell is one {@link FineTuning} run (what
 * {@code finsent train} runs) with the study's presets ({@link StudyPresets}): it trains, picks the best model by
 * validation accuracy, evaluates it on the held-out test split and saves it with its log, resources and plots.
 * On top of that the runner measures inference latency with {@link Predictor} (the median milliseconds per sentence
 * at batch 1 and the sentences per second at batch 32, on test sentences, after a warm-up) and writes
 * {@code cell.json}.
 *
 * <p><b>Resumable.</b> A cell whose {@code cell.json} says {@code ok} is skipped. An interrupted cell continues from
 * its newest {@code checkpoint-<step>} ({@link FineTuning} resumes an unfinished run of the same spec; with dropout
 * on the continuation is statistically, not bitwise, the same run). A cell that fails records the error in its
 * {@code cell.json} and the grid goes on; the next run retries it. A directory holding a run with other settings is
 * refused (recorded as a failure), never overwritten.
 */
public final class StudyRunner {
    private static final Logger LOG = LoggerFactory.getLogger(StudyRunner.class);
    public static final String TEST_CONFUSION_PNG = "test_confusion_matrix.png";
    /** Where {@code --sample} writes its stratified samples, under the study directory. */
    static final String SAMPLES_DIR = "samples";
    static final int LATENCY_SENTENCES = 100, THROUGHPUT_SENTENCES = 320, WARMUP = 5;

    /**
     * The grid.
     *
     * @param models     model specs (e.g. {@code all-MiniLM-L6-v2})
     * @param techniques technique ids ({@code full}, {@code lora}, {@code adapter}, {@code prefix}, {@code prompt},
     *                   or PEFT ones joined by {@code +})
     * @param data       data specs ({@code fpb[:PATH]}, {@code tweets[:PATH]}, ...)
     * @param output     the study's root directory
     * @param gpt2Lr     which of the study's two GPT-2 learning rates
     * @param overrides  quick-run overrides (recorded in every cell)
     */
    public record Grid(List<String> models, List<String> techniques, List<String> data, Path output,
                       StudyPresets.Gpt2LearningRate gpt2Lr, StudyPresets.Overrides overrides, List<Long> seeds) {
        /** One seed: the overrides' (or the study's). */
        public Grid(List<String> models, List<String> techniques, List<String> data, Path output,
                    StudyPresets.Gpt2LearningRate gpt2Lr, StudyPresets.Overrides overrides) {
            this(models, techniques, data, output, gpt2Lr, overrides,
                    List.of(overrides.seed() == null ? StudyPresets.SEED : overrides.seed()));
        }

        public Grid {
            seeds = List.copyOf(seeds);
            if (seeds.isEmpty() || seeds.stream().distinct().count() != seeds.size()) {
                throw new IllegalArgumentException("seeds must be distinct and at least one: " + seeds);
            }
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

        /**
         * The grid of one training seed: the study's seed trains into {@code output} itself (the study's own runs),
         * any other into {@code output/seeds/seed-N}, all on the study's split.
         */
        Grid forSeed(long seed) {
            Path root = seedRoot(output, seed);
            var o = overrides;
            Long override = seed == StudyPresets.SEED ? null : seed;
            return new Grid(models, techniques, data, root, gpt2Lr,
                    new StudyPresets.Overrides(o.epochs(), o.maxSteps(), o.sampleSize(), o.maxLength(), o.evalSteps(), override),
                    List.of(seed));
        }
    }

    /** Where the runs of a training seed go: the study root for the study's seed, else {@code seeds/seed-N} under it. */
    public static Path seedRoot(Path root, long seed) {
        return seed == StudyPresets.SEED ? root : root.resolve(SEEDS_DIR).resolve("seed-" + seed);
    }

    /** Under the study root: one directory per extra training seed. */
    public static final String SEEDS_DIR = "seeds";

    /** What happened to one cell in this run. */
    public enum Action { TRAINED, RESUMED, SKIPPED, FAILED }

    public record Outcome(Path dir, Action action, CellResult result) {
    }

    /** Runs every cell not yet finished. */
    public List<Outcome> run(Grid all) throws IOException {
        Files.createDirectories(all.output());
        for (long seed : all.seeds()) StudyReport.recordGrid(seedRoot(all.output(), seed), all);
        List<Outcome> out = new ArrayList<>();
        // data set by data set, every seed of one before the next (FinancialPhraseBank's cells finish first)
        for (String dataSpec : all.data()) {
            for (long seed : all.seeds()) {
                Grid grid = all.forSeed(seed);
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
                            out.add(runCell(grid, dataSpec, model, technique, dir));
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
        }
        return out;
    }

    /** The key of {@link #basePretraining} in a cell's settings. */
    public static final String BASE_PRETRAINING = "base_pretraining";

    private Outcome runCell(Grid grid, String dataSpec, String modelSpec, String technique, Path dir) throws IOException {
        List<StudyPresets.Technique> techniques = StudyPresets.Technique.parseCombination(technique);
        StudyPresets.Family family = StudyPresets.Family.of(StudyModels.architecture(modelSpec));
        TrainingArguments args = StudyPresets.arguments(family, techniques, dir, grid.gpt2Lr(), grid.overrides());
        String data = grid.overrides().sampleSize() == null ? dataSpec : sample(grid.output(), dataSpec, grid.overrides().sampleSize());
        // another training seed (--seed) keeps the study's split; without one the spec is what it always was
        Long splitSeed = grid.overrides().seed() == null ? null : StudyPresets.SEED;
        var spec = new FineTuning.Spec(modelSpec, data, DataSources.Options.defaults(),
                StudyPresets.techniques(family, techniques, args.seed()), args, StudyData.TRAIN_FRACTION,
                StudyData.VALIDATION_FRACTION, splitSeed);
        boolean resume = Checkpoint.latest(dir) != null;

        // FineTuning trains (resuming an unfinished run of the same spec), tests on the held-out split and saves
        FineTuning.Outcome run = FineTuning.run(spec, false);
        FineTunedModel fine = run.model() != null ? run.model() : FineTunedModel.load(dir);
        deleteCheckpoints(dir); // the model is saved; full fine-tuning checkpoints are large

        long weightBytes;
        try (Stream<Path> files = Files.walk(dir)) {
            weightBytes = files.filter(f -> f.getFileName().toString().endsWith(".safetensors")).mapToLong(f -> f.toFile().length()).sum();
        }
        // the same split FineTuning made (same data, fractions and seed)
        Splits.Result split = spec.split(DataSources.load(data, spec.dataOptions()).dataset().examples());
        List<String> labels = fine.labels(), texts = split.test().stream().map(Example::text).toList();
        double latency = medianLatencyMs(fine.model(), fine.tokenizer(), labels, args.maxSeqLength(), texts);
        double throughput = throughput(fine.model(), fine.tokenizer(), labels, args.maxSeqLength(), texts);

        Map<String, Object> m = run.metrics(), t = run.testMetrics();
        var metrics = new CellResult.Metrics(num(t, "test_accuracy"), num(t, "test_precision_weighted"), num(t, "test_recall_weighted"),
                num(t, "test_f1_weighted"), num(t, "test_f1_macro"), num(t, "test_loss"), labels, matrix(t.get("test_confusion_matrix")));
        ResourceMonitor.Summary r = run.resources() != null ? run.resources()
                : ResourceMonitor.readJson(dir.resolve(RunReporter.RESOURCES_FILE)).summary();
        var res = new CellResult.Resources(avg(r.processCpuPercent()), max(r.processCpuPercent()), avg(r.processRssBytes()),
                max(r.processRssBytes()), max(r.gpuMemoryUsedBytes()), r.logicalCores());
        long bestStep = ((Number) m.getOrDefault("best_step", -1)).longValue();
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("data", dataSpec);
        if (!data.equals(dataSpec)) settings.put("sample", data);
        settings.put("overrides", grid.overrides().asMap());
        settings.put("run_spec", CellResult.JSON.treeToValue(CellResult.JSON.readTree(dir.resolve(FineTuning.SPEC_FILE).toFile()), Map.class));
        Map<String, Object> pretraining = basePretraining(modelSpec, split);
        if (pretraining != null) settings.put(BASE_PRETRAINING, pretraining);
        CellResult result = new CellResult(CellResult.OK, null, StudyData.kind(dataSpec), modelSpec, technique,
                fine.info().architecture(), StudyModels.randomInit(modelSpec), settings,
                new CellResult.Sizes(split.train().size(), split.validation().size(), split.test().size()), metrics,
                bestStep >= 0 ? num(m, "best_metric") : null, bestStep >= 0 ? bestStep : null, num(m, "train_runtime_s"),
                ((Number) m.get("global_step")).longValue(), num(m, "epoch"), resume, res, fine.info().trainableParameters(),
                fine.info().totalParameters(), weightBytes, latency, throughput, Instant.now().toString());
        result.write(dir);
        return new Outcome(dir, resume ? Action.RESUMED : Action.TRAINED, result);
    }

    /**
     * A base model made by {@code finsent pretrain} (a local directory with a {@link PretrainingRecord}): its record, and
     * how many of this cell's validation and test texts were among its pretraining texts (0 unless the pretraining
     * read them: they would then not be unseen). Null for any other base.
     */
    static Map<String, Object> basePretraining(String modelSpec, Splits.Result split) throws IOException {
        if (!StudyModels.isDirectory(modelSpec)) return null;
        Path dir = Path.of(modelSpec.strip());
        PretrainingRecord record = PretrainingRecord.read(dir);
        if (record == null) return null;
        @SuppressWarnings("unchecked")
        Map<String, Object> out = new LinkedHashMap<>(CellResult.JSON.convertValue(record, Map.class));
        Set<String> seen = PretrainingRecord.fingerprints(dir);
        out.put("validation_texts_pretrained_on", PretrainingRecord.countIn(seen, split.validation().stream().map(Example::text).toList()));
        out.put("test_texts_pretrained_on", PretrainingRecord.countIn(seen, split.test().stream().map(Example::text).toList()));
        return out;
    }

    /**
     * {@code --sample N}: a stratified sample of N examples of a data set (seed {@link StudyPresets#SEED}), written once
     * as JSON lines under the study directory, so every cell reads the same file; returns its {@code jsonl:} spec.
     */
    static String sample(Path root, String dataSpec, int n) throws IOException {
        Path file = root.resolve(SAMPLES_DIR).resolve(StudyData.kind(dataSpec) + "-" + n + ".jsonl").toAbsolutePath();
        if (!Files.isRegularFile(file)) {
            DataSources.Loaded all = DataSources.load(dataSpec, DataSources.Options.defaults());
            List<Example> ex = all.dataset().examples();
            List<Example> picked = n >= ex.size() ? ex : Splits.stratified(ex, (double) n / ex.size(), 0, StudyPresets.SEED).train();
            Files.createDirectories(file.getParent());
            org.finsent.core.io.AtomicFiles.write(file, tmp -> {
                try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
                    for (Example e : picked) {
                        w.write(CellResult.JSON.writer().without(com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT)
                                .writeValueAsString(new java.util.TreeMap<>(Map.of("label", all.labelNames().get(e.label()), "text", e.text()))));
                        w.write('\n');
                    }
                }
            });
        }
        return "jsonl:" + file;
    }

    /** A monitor statistic, or null when it was not sampled (CPU/RSS before the first tick; GPU memory on CPU). */
    private static Double avg(ResourceMonitor.Stat s) {
        return s == null ? null : s.avg();
    }

    private static Double max(ResourceMonitor.Stat s) {
        return s == null ? null : s.max();
    }

    private static double num(Map<String, Object> m, String key) {
        Object v = m.get(key);
        return v instanceof Number n ? n.doubleValue() : Double.NaN;
    }

    /** The confusion matrix as FineTuning returns it: {@code long[][]} from a run, nested lists from a skipped run's file. */
    private static long[][] matrix(Object o) {
        if (o instanceof long[][] m) return m;
        if (!(o instanceof List<?> rows)) throw new IllegalStateException("no test confusion matrix in the run's results: " + o);
        long[][] out = new long[rows.size()][];
        for (int i = 0; i < out.length; i++) {
            List<?> row = (List<?>) rows.get(i);
            out[i] = row.stream().mapToLong(x -> ((Number) x).longValue()).toArray();
        }
        return out;
    }

    static double medianLatencyMs(SequenceClassifier model, Tokenizer tokenizer, List<String> labels, int maxLen, List<String> texts) {
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

    static double throughput(SequenceClassifier model, Tokenizer tokenizer, List<String> labels, int maxLen, List<String> texts) {
        Predictor p = new Predictor(model, tokenizer, labels, maxLen, 32);
        List<String> sample = texts.subList(0, Math.min(THROUGHPUT_SENTENCES, texts.size()));
        p.predict(sample.subList(0, Math.min(32, sample.size()))); // warm-up
        long t0 = System.nanoTime();
        p.predict(sample);
        return sample.size() / ((System.nanoTime() - t0) / 1e9);
    }

    private static void deleteCheckpoints(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.filter(p -> p.getFileName().toString().startsWith(Checkpoint.PREFIX)).toList()) {
                try (Stream<Path> walk = Files.walk(p)) {
                    for (Path q : walk.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(q);
                }
            }
        }
    }
}
