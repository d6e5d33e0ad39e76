package org.finsent.study;

import com.fasterxml.jackson.core.type.TypeReference;
import org.finsent.report.Plots;
import org.finsent.report.RunReporter;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Writes a study directory's {@code results.json}, {@code REPORT.md} and {@code charts/} from its cells'
 * {@code cell.json} files, so the report can be rebuilt at any time (also while a grid is still running) and always
 * shows every finished cell. Cells listed in {@code grid.json} (every grid ever run into the directory) without a
 * finished result are listed as missing or failed.
 *
 * <p>Tables per data set, as the study has them: accuracy / precision / recall / F1 (weighted) per technique, with
 * the study's FinBERT accuracy beside each row and whether we reach it; training time, average and maximum CPU and
 * memory, GPU memory; trainable parameters, weights file size and inference latency; links to each run's
 * confusion matrix, loss curve and learning-rate curve. Grouped bar charts compare the techniques.
 */
public final class StudyReport {
    public static final String REPORT = "REPORT.md", RESULTS = "results.json", GRID = "grid.json", CHARTS = "charts";

    /**
     * The study's FinBERT accuracies (its table), by data set then technique; in the table's order (Map.of iterates in
     * a different order in each JVM, and results.json is written from this).
     */
    public static final Map<String, Map<String, Double>> STUDY_FINBERT = ordered(
            "fpb", ordered("full", 0.8377, "lora", 0.8453, "adapter", 0.8418, "prefix", 0.8260),
            "tweets", ordered("full", 0.8526, "lora", 0.8338, "adapter", 0.8555, "prefix", 0.8317));
    private static final Map<String, String> DATA_TITLES = Map.of("fpb", "FinancialPhraseBank", "tweets", "Twitter Financial News");

    /** An unmodifiable map iterating in the order of its key/value arguments. */
    @SuppressWarnings("unchecked")
    private static <V> Map<String, V> ordered(Object... keysAndValues) {
        Map<String, V> m = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) m.put((String) keysAndValues[i], (V) keysAndValues[i + 1]);
        return java.util.Collections.unmodifiableMap(m);
    }

    private StudyReport() {
    }

    /** One cell of a grid: its directory relative to the study root. */
    public record CellKey(String data, String model, String technique) {
        String dir() {
            return CellResult.slug(data) + "/" + CellResult.slug(model) + "/" + CellResult.slug(technique);
        }
    }

    /**
     * Adds a grid's cells to {@code grid.json} (kept as the union of every grid run into {@code root}); each training
     * seed's root ({@link StudyRunner#seedRoot}) keeps its own, so what is pending is known per seed.
     */
    public static void recordGrid(Path root, StudyRunner.Grid grid) throws IOException {
        Set<CellKey> cells = new LinkedHashSet<>(readGrid(root));
        for (String d : grid.data()) for (String m : grid.models()) for (String t : grid.techniques()) cells.add(new CellKey(StudyData.kind(d), m, t));
        Files.createDirectories(root);
        CellResult.JSON.writeValue(root.resolve(GRID).toFile(), List.copyOf(cells));
    }

    static List<CellKey> readGrid(Path root) throws IOException {
        Path f = root.resolve(GRID);
        return Files.isRegularFile(f) ? CellResult.JSON.readValue(f.toFile(), new TypeReference<List<CellKey>>() { }) : List.of();
    }

    /** Every {@code cell.json} under {@code root} ({@code <data>/<model>/<technique>/cell.json}), sorted by path. */
    public static List<CellResult> readCells(Path root) throws IOException {
        if (!Files.isDirectory(root)) return List.of();
        List<CellResult> out = new ArrayList<>();
        try (Stream<Path> s = Files.find(root, 4, (p, a) -> a.isRegularFile() && p.getFileName().toString().equals(CellResult.FILE))) {
            for (Path p : s.sorted().toList()) out.add(CellResult.read(p.getParent()));
        }
        return out;
    }

    /** Writes results.json, charts and REPORT.md; returns the report's path. */
    public static Path write(Path root) throws IOException {
        List<CellResult> all = readCells(root);
        List<CellResult> ok = all.stream().filter(CellResult::ok).toList();
        for (CellResult c : ok) {
            testConfusionMatrix(root, c);
            Path dir = root.resolve(new CellKey(c.data(), c.model(), c.technique()).dir());
            if (!Files.isRegularFile(dir.resolve(RunReporter.LOSS_PNG))) RunReporter.writePlots(dir, c.test().labels());
        }

        Map<String, Object> results = new LinkedHashMap<>();
        results.put("generated_at", Instant.now().toString());
        results.put("split", "stratified " + (int) (100 * StudyData.TRAIN_FRACTION) + "/" + (int) (100 * StudyData.VALIDATION_FRACTION)
                + "/" + (int) Math.round(100 * (1 - StudyData.TRAIN_FRACTION - StudyData.VALIDATION_FRACTION))
                + " train/validation/test, seed " + StudyPresets.SEED + "; metrics are the test split's");
        results.put("assumptions", StudyPresets.assumptions());
        results.put("study_finbert_accuracy", STUDY_FINBERT);
        results.put("cells", all);
        List<SeedStatistics.Cell> stats = SeedStatistics.cells(root);
        results.put("statistics", SeedStatistics.toJson(stats));
        results.put("model_comparisons", SeedStatistics.modelPairsToJson(SeedStatistics.modelPairs(stats)));
        List<Map<String, String>> missing = missingAllSeeds(root, all);
        results.put("missing", missing);
        CellResult.JSON.writeValue(root.resolve(RESULTS).toFile(), results);

        StringBuilder md = new StringBuilder();
        md.append("# FinSent comparative study\n\n");
        md.append("Generated ").append(Instant.now().toString(), 0, 19).append("Z by `finsent compare` from the `cell.json` of each run ")
                .append("(all numbers also in [`results.json`](").append(RESULTS).append(")). Metrics are on a held-out test split: ")
                .append(results.get("split")).append(". Precision, recall and F1 are weighted by class support (scikit-learn's ")
                .append("`average=\"weighted\"`). The *study* column is the comparative study's FinBERT accuracy. One run's ")
                .append("accuracy on a few hundred test sentences moves by points with the training seed and the CPU's rounding: ")
                .append("whether a technique reaches the study's figure, and which technique is better, is answered only from every ")
                .append("seed's runs: in the *Summary* below and each data set's *Seeds, intervals and significance* section.\n\n");
        List<CellResult> everySeed = new ArrayList<>();
        for (long seed : SeedStatistics.seeds(root)) everySeed.addAll(readCells(StudyRunner.seedRoot(root, seed)).stream().filter(CellResult::ok).toList());
        List<String> pretrained = pretrainedModels(everySeed);
        Map<String, String> pretrainedFrom = new LinkedHashMap<>();
        for (CellResult c : everySeed) {
            Map<String, Object> p = pretraining(c);
            if (p != null && p.get("base_model") != null) pretrainedFrom.putIfAbsent(c.model(), String.valueOf(p.get("base_model")));
        }
        summary(md, stats, missing, leaks(everySeed), pretrainedFrom);
        settings(md, ok);
        if (!pretrained.isEmpty()) {
            md.append("### Further-pretrained base models\n\n")
                    .append("Made by `finsent pretrain`; as recorded in each model directory's `pretraining.json`, and checked against ")
                    .append("each cell's split through its `pretraining_texts.sha256` (the counts are in each cell's `cell.json`, ")
                    .append("`settings.base_pretraining`):\n\n");
            for (String l : pretrained) md.append("- ").append(l).append('\n');
            md.append('\n');
        }
        List<String> dataSets = ok.stream().map(CellResult::data).distinct().sorted(Comparator.comparing(StudyReport::dataOrder)).toList();
        for (String data : dataSets) {
            List<String> models = ok.stream().map(CellResult::model).distinct().toList();
            dataSection(root, md, data, ok.stream().filter(c -> c.data().equals(data))
                    .sorted(Comparator.comparing((CellResult c) -> models.indexOf(c.model())).thenComparing(c -> techniqueOrder(c.technique())))
                    .toList(), stats);
        }
        missingSection(md, all, missing);
        Path report = root.resolve(REPORT);
        Files.writeString(report, md.toString(), StandardCharsets.UTF_8);
        return report;
    }

    static int dataOrder(String d) {
        return d.equals("fpb") ? 0 : d.equals("tweets") ? 1 : 2;
    }

    // ------------------------------------------------------------------------------------------ sections

    private static void summary(StringBuilder md, List<SeedStatistics.Cell> stats, List<Map<String, String>> missing, List<String> leaks,
                                Map<String, String> pretrainedFrom) {
        List<String> lines = SeedStatistics.summary(stats, DATA_TITLES, pretrainedFrom);
        if (lines.isEmpty()) return;
        md.append("## Summary\n\n");
        for (String l : leaks) md.append("**Warning:** ").append(l).append("\n\n");
        md.append("What every seed's runs support (details in each data set's *Seeds, intervals and significance*; a ranking puts ")
                .append("\">\" only where McNemar's test separates two techniques in every seed, \"≈\" where it does not):\n\n");
        for (String l : lines) md.append("- ").append(l).append('\n');
        md.append('\n');
        md.append(missing.isEmpty() ? "Every cell asked for has finished.\n\n"
                : "Still to run or failed: " + missing.size() + " cell" + (missing.size() == 1 ? "" : "s")
                  + " asked for (seeds, cells and states under *Missing and failed cells*).\n\n");
    }

    private static void settings(StringBuilder md, List<CellResult> ok) {
        md.append("## Settings\n\n");
        md.append("The study's presets (`StudyPresets`): BERT-family models 5 epochs, batch 8, learning rate 2e-4 for PEFT ")
                .append("and 2e-5 for full fine-tuning, weight decay 0.01, 300 warm-up steps, gradient accumulation 2, ")
                .append("evaluation and logging every 100 steps, best model by validation accuracy; LoRA r=8, α=16, dropout 0.1 ")
                .append("on query/key/value; Pfeiffer adapter reduction factor 16; prefix tuning 10 virtual tokens with a ")
                .append("768-wide projection. GPT-2: 3 epochs, batch 8, learning rate 2e-5, 100 warm-up steps, gradient ")
                .append("accumulation 2; LoRA r=32, α=64, dropout 0.1 on c_attn; adapter and prefix as for BERT.\n\n");
        md.append("Where the study is silent or contradicts itself:\n\n");
        for (String a : StudyPresets.assumptions()) md.append("- ").append(a).append('\n');
        Set<Object> overrides = new LinkedHashSet<>();
        for (CellResult c : ok) overrides.add(c.settings().get("overrides"));
        overrides.remove(Map.of());
        md.append('\n');
        if (!overrides.isEmpty()) {
            md.append("**Overrides in effect** (these cells do not use the study's exact settings; a `seed` override changes ")
                    .append("the training seed — initialisation, dropout, data order — and keeps the study's split): ");
            for (CellResult c : ok) {
                Object o = c.settings().get("overrides");
                if (o instanceof Map<?, ?> m && !m.isEmpty()) md.append("`").append(c.data()).append('/').append(c.model()).append('/')
                        .append(c.technique()).append("` ").append(m).append("; ");
            }
            md.setLength(md.length() - 2);
            md.append(".\n\n");
        }
        if (ok.stream().anyMatch(CellResult::randomInit)) {
            md.append("Models marked *(random init)* start from random weights (no pretrained weights are reachable here): ")
                    .append("they show that the path runs end to end; their numbers are not the study's.\n\n");
        }
    }

    /** One line per further-pretrained base model (and record): how it was made, and its cells' texts among its pretraining texts. */
    static List<String> pretrainedModels(List<CellResult> cells) {
        Map<String, Map<String, long[]>> byModel = new LinkedHashMap<>(); // "model\0record" → data → max (validation, test) seen
        Map<String, Map<String, Object>> records = new LinkedHashMap<>();
        for (CellResult c : cells) {
            Map<String, Object> p = pretraining(c);
            if (p == null) continue;
            Map<String, Object> rec = new LinkedHashMap<>(p);
            long v = ((Number) rec.remove("validation_texts_pretrained_on")).longValue(), t = ((Number) rec.remove("test_texts_pretrained_on")).longValue();
            rec.remove("finished_at");
            String key = c.model() + "\0" + rec;
            records.putIfAbsent(key, rec);
            long[] seen = byModel.computeIfAbsent(key, k -> new LinkedHashMap<>()).computeIfAbsent(c.data(), d -> new long[2]);
            seen[0] = Math.max(seen[0], v);
            seen[1] = Math.max(seen[1], t);
        }
        List<String> out = new ArrayList<>();
        for (var e : records.entrySet()) {
            Map<String, Object> r = e.getValue();
            String model = e.getKey().substring(0, e.getKey().indexOf('\0'));
            boolean mlm = "masked_lm".equals(r.get("objective"));
            long maxSteps = ((Number) r.get("max_steps")).longValue();
            StringBuilder l = new StringBuilder();
            l.append('`').append(model).append("`: ").append(r.get("base_model")).append(", ")
                    .append(mlm ? String.format(Locale.ROOT, "masked LM (%.0f %% of tokens%s)", 100 * ((Number) r.get("mlm_probability")).doubleValue(),
                            Boolean.TRUE.equals(r.get("whole_word_mask")) ? ", whole words" : "") : "causal LM")
                    .append(", ").append("lora".equals(r.get("technique")) ? "LoRA, merged" : "full weights").append(", on ")
                    .append(String.join("; ", castList(r.get("sources")))).append(" (").append(r.get("distinct_texts")).append(" distinct); ")
                    .append(maxSteps > 0 ? "" : r.get("epochs") + " epochs = ").append(r.get("global_steps")).append(" steps, batch ")
                    .append(r.get("batch_size")).append(" × accumulation ").append(r.get("gradient_accumulation_steps"))
                    .append(String.format(Locale.ROOT, ", learning rate %s (warm-up ratio %s, weight decay %s), max length %s, seed %s; final mean loss %s, %s%s. ",
                            plain(r.get("learning_rate")), plain(r.get("warmup_ratio")), plain(r.get("weight_decay")), r.get("max_seq_length"), r.get("seed"),
                            r.get("train_loss") instanceof Number n ? String.format(Locale.ROOT, "%.4f", n.doubleValue()) : "–",
                            duration(((Number) r.get("train_runtime_seconds")).doubleValue()),
                            r.get("resumed_from") == null ? "" : " of training after resuming from " + r.get("resumed_from")))
                    .append("Validation / test texts among its pretraining texts: ");
            List<String> parts = new ArrayList<>();
            for (var d : byModel.get(e.getKey()).entrySet()) parts.add(d.getKey() + " " + d.getValue()[0] + " / " + d.getValue()[1]);
            out.add(l.append(String.join(", ", parts)).append('.').toString());
        }
        return out;
    }

    /** A warning per cell whose validation or test texts were among its base model's pretraining texts. */
    static List<String> leaks(List<CellResult> cells) {
        List<String> out = new ArrayList<>();
        for (CellResult c : cells) {
            Map<String, Object> p = pretraining(c);
            if (p == null) continue;
            long v = ((Number) p.get("validation_texts_pretrained_on")).longValue(), t = ((Number) p.get("test_texts_pretrained_on")).longValue();
            if (v + t == 0) continue;
            String line = String.format(Locale.ROOT, "`%s/%s/%s` (training seed %s): %d validation and %d test texts were among the base model's "
                    + "pretraining texts, so its numbers are not on unseen text.", c.data(), c.model(), c.technique(), trainingSeed(c), v, t);
            if (!out.contains(line)) out.add(line);
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> pretraining(CellResult c) {
        return c.settings() != null && c.settings().get(StudyRunner.BASE_PRETRAINING) instanceof Map<?, ?> m ? (Map<String, Object>) m : null;
    }

    private static Object trainingSeed(CellResult c) {
        return c.settings() != null && c.settings().get("overrides") instanceof Map<?, ?> o && o.get("seed") != null ? o.get("seed") : StudyPresets.SEED;
    }

    /** A number without exponent or trailing zeros (1.0E-4 → 0.0001). */
    private static String plain(Object o) {
        return o instanceof Number n ? java.math.BigDecimal.valueOf(n.doubleValue()).stripTrailingZeros().toPlainString() : String.valueOf(o);
    }

    private static List<String> castList(Object o) {
        return o instanceof List<?> l ? l.stream().map(String::valueOf).toList() : List.of();
    }

    private static void dataSection(Path root, StringBuilder md, String data, List<CellResult> cells,
                                    List<SeedStatistics.Cell> stats) throws IOException {
        CellResult.Sizes sizes = cells.get(0).sizes();
        md.append("## ").append(DATA_TITLES.getOrDefault(data, data)).append("\n\n");
        Object spec = cells.get(0).settings().get("data");
        if (spec != null) md.append("Data: `").append(spec).append("` (read with `DataSources`). ");
        md.append(String.format(Locale.ROOT, "Split: %d train, %d validation, %d test examples.%n%n", sizes.train(), sizes.validation(), sizes.test()));
        Map<String, Double> study = STUDY_FINBERT.getOrDefault(data, Map.of());

        md.append("### Classification (test split, seed ").append(StudyPresets.SEED).append(")\n\n");
        md.append("| model | technique | accuracy | precision | recall | F1 | F1 (macro) | study |\n");
        md.append("|---|---|---:|---:|---:|---:|---:|---:|\n");
        for (CellResult c : cells) {
            CellResult.Metrics m = c.test();
            Double s = c.randomInit() ? null : study.get(c.technique()); // a random model is no attempt at the study's numbers
            md.append(String.format(Locale.ROOT, "| %s | %s | %.4f | %.4f | %.4f | %.4f | %.4f | %s |%n", modelName(c), c.technique(),
                    m.accuracy(), m.precisionWeighted(), m.recallWeighted(), m.f1Weighted(), m.f1Macro(),
                    s == null ? "–" : String.format(Locale.ROOT, "%.4f", s)));
        }
        md.append('\n');
        SeedStatistics.section(md, data, stats);
        md.append("\n### Training resources\n\n");
        md.append("CPU: the process's share of the whole machine (100 % = all ").append(cells.get(0).resources().logicalCores())
                .append(" cores busy), averaged over time, and its maximum over 500 ms samples. ")
                .append("CPU time = average CPU × cores × training time: the work done, which unlike the wall time does not depend on how busy ")
                .append("the machine was. Memory: the process's resident set. GPU memory: n/a on the CPU backend.\n\n");
        md.append("| model | technique | training time | CPU time | steps | epochs | avg CPU | max CPU | avg memory | max memory | GPU memory |\n");
        md.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (CellResult c : cells) {
            CellResult.Resources r = c.resources();
            md.append(String.format(Locale.ROOT, "| %s | %s | %s%s | %s | %d | %.2f | %s | %s | %s | %s | %s |%n", modelName(c),
                    c.technique(), duration(c.trainRuntimeSeconds()), c.resumed() ? " (resumed part)" : "",
                    r.cpuAvgPercent() == null ? "–" : duration(c.trainRuntimeSeconds() * r.cpuAvgPercent() / 100 * r.logicalCores()),
                    c.globalSteps(), c.epochs(), percent(r.cpuAvgPercent()), percent(r.cpuMaxPercent()), bytes(r.rssAvgBytes()), bytes(r.rssMaxBytes()),
                    r.gpuMemoryMaxBytes() == null ? "n/a" : bytes(r.gpuMemoryMaxBytes())));
        }
        md.append("\n### Size and inference speed\n\n");
        md.append("Weights file: the safetensors that `finsent train` saves in each run's directory: PEFT's adapter file with ")
                .append("the classification head for PEFT methods (prefix tuning in PEFT's inference form, without the projection MLP), ")
                .append("the whole model for full fine-tuning. Latency: median over ")
                .append("test sentences predicted one at a time (batch 1); throughput: sentences per second at batch 32 ")
                .append("(`Predictor`, after a warm-up), measured by each run's process when it finished, with its thread count ")
                .append("and whatever else ran on the machine then: where runs shared the machine these columns reflect its load ")
                .append("more than the technique.\n\n");
        md.append("| model | technique | trainable parameters | % of all | weights file | latency (batch 1) | throughput (batch 32) |\n");
        md.append("|---|---|---:|---:|---:|---:|---:|\n");
        for (CellResult c : cells) {
            md.append(String.format(Locale.ROOT, "| %s | %s | %,d | %.2f %% | %s | %.1f ms | %.1f /s |%n", modelName(c), c.technique(),
                    c.trainableParameters(), 100.0 * c.trainableParameters() / c.totalParameters(), bytes(c.weightsFileBytes()),
                    c.latencyMsMedianBatch1(), c.throughputPerSecondBatch32()));
        }
        md.append("\n### Charts\n\n");
        for (Path chart : charts(root, data, cells)) {
            String rel = root.relativize(chart).toString().replace('\\', '/');
            md.append("![").append(chart.getFileName()).append("](").append(rel).append(")\n");
        }
        md.append("\n### Per run\n\n");
        md.append("| model | technique | confusion matrix (test) | loss | learning rate | best validation accuracy (step) | result |\n");
        md.append("|---|---|---|---|---|---|---|\n");
        for (CellResult c : cells) {
            String dir = new CellKey(c.data(), c.model(), c.technique()).dir();
            md.append("| ").append(modelName(c)).append(" | ").append(c.technique()).append(" | ")
                    .append(link(root, dir, StudyRunner.TEST_CONFUSION_PNG)).append(" | ").append(link(root, dir, RunReporter.LOSS_PNG)).append(" | ")
                    .append(link(root, dir, RunReporter.LR_PNG)).append(" | ")
                    .append(c.validationBestAccuracy() == null ? "–" : String.format(Locale.ROOT, "%.4f (%d)", c.validationBestAccuracy(), c.validationBestStep()))
                    .append(" | [cell.json](").append(dir).append('/').append(CellResult.FILE).append(") |\n");
        }
        md.append('\n');
    }

    private static void missingSection(StringBuilder md, List<CellResult> all, List<Map<String, String>> missing) {
        md.append("## Missing and failed cells\n\n");
        if (missing.isEmpty()) {
            md.append("None: every cell of the grid has finished.\n");
            return;
        }
        md.append("| seed | data | model | technique | state |\n|---|---|---|---|---|\n");
        for (Map<String, String> m : missing) {
            md.append("| ").append(m.getOrDefault("seed", Long.toString(StudyPresets.SEED))).append(" | ").append(m.get("data")).append(" | ").append(m.get("model")).append(" | ").append(m.get("technique"))
                    .append(" | ").append(m.get("state").replace("|", "\\|").replace("\n", " ")).append(" |\n");
        }
    }

    /** {@link #missing} for every training seed asked for, with a {@code seed} entry. */
    static List<Map<String, String>> missingAllSeeds(Path root, List<CellResult> studySeedCells) throws IOException {
        List<Map<String, String>> out = new ArrayList<>();
        for (long seed : SeedStatistics.seeds(root)) {
            Path seedRoot = StudyRunner.seedRoot(root, seed);
            List<CellResult> cells = seed == StudyPresets.SEED ? studySeedCells : readCells(seedRoot);
            for (Map<String, String> m : missing(seedRoot, readGrid(seedRoot), cells)) {
                Map<String, String> withSeed = new LinkedHashMap<>();
                withSeed.put("seed", Long.toString(seed));
                withSeed.putAll(m);
                out.add(withSeed);
            }
        }
        return out;
    }

    static List<Map<String, String>> missing(Path root, List<CellResult> all) throws IOException {
        return missing(root, readGrid(root), all);
    }

    /** Grid cells without an {@code ok} result: failed ones with their error, others "not run yet" or "in progress". */
    static List<Map<String, String>> missing(Path root, List<CellKey> grid, List<CellResult> all) throws IOException {
        Map<String, CellResult> byDir = new LinkedHashMap<>();
        for (CellResult c : all) byDir.put(new CellKey(c.data(), c.model(), c.technique()).dir(), c);
        List<Map<String, String>> out = new ArrayList<>();
        for (CellKey k : grid) {
            CellResult c = byDir.get(k.dir());
            if (c != null && c.ok()) continue;
            Path dir = root.resolve(k.dir());
            String state = c != null ? "failed: " + c.error() + progress(dir)
                    : Files.isDirectory(dir) ? "started, not finished" + progress(dir) : "not run yet";
            out.add(ordered("data", k.data(), "model", k.model(), "technique", k.technique(), "state", state));
        }
        return out;
    }

    /** How far an unfinished cell got, from its training log and newest checkpoint ("" when it logged nothing yet). */
    static String progress(Path dir) throws IOException {
        Path log = dir.resolve(org.finsent.train.Trainer.LOG_FILE);
        long step = 0, bestStep = -1;
        double best = Double.NaN;
        if (Files.isRegularFile(log)) {
            for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
                if (line.isBlank()) continue;
                var j = CellResult.JSON.readTree(line);
                step = Math.max(step, j.path("step").asLong());
                if (j.has("eval_accuracy") && !(j.get("eval_accuracy").asDouble() <= best)) {
                    best = j.get("eval_accuracy").asDouble();
                    bestStep = j.path("step").asLong();
                }
            }
        }
        Path checkpoint = org.finsent.train.Checkpoint.latest(dir);
        long total = checkpoint == null ? -1
                : CellResult.JSON.readTree(checkpoint.resolve(org.finsent.train.Checkpoint.STATE).toFile()).path("total_steps").asLong(-1);
        if (Files.isRegularFile(dir.resolve(org.finsent.train.FineTunedModel.INFO_FILE))) {
            return ": trained and saved (" + step + " steps); the latency measurement and cell.json were not written yet — "
                    + "the next run completes them without training";
        }
        if (step == 0 && checkpoint == null) return "";
        StringBuilder b = new StringBuilder(": logged up to step ").append(step);
        if (total > 0) b.append(" of ").append(total);
        if (bestStep >= 0) b.append(String.format(Locale.ROOT, ", best validation accuracy so far %.4f (step %d)", best, bestStep));
        b.append(checkpoint != null ? "; the next run resumes from " + checkpoint.getFileName() : "; no checkpoint yet: the next run restarts it");
        return b.toString();
    }

    // ------------------------------------------------------------------------------------------ charts

    private static List<Path> charts(Path root, String data, List<CellResult> cells) throws IOException {
        List<String> techniques = cells.stream().map(CellResult::technique).distinct().sorted(Comparator.comparing(StudyReport::techniqueOrder)).toList();
        List<String> models = cells.stream().map(StudyReport::modelName).distinct().toList();
        Path dir = root.resolve(CHARTS);
        List<Path> out = new ArrayList<>();
        Map<String, Double> study = STUDY_FINBERT.getOrDefault(data, Map.of());
        double[] studyAcc = techniques.stream().mapToDouble(t -> study.getOrDefault(t, Double.NaN)).toArray();
        var ref = study.isEmpty() ? null : Map.entry("study (FinBERT)", studyAcc);
        out.add(StudyCharts.bars(dir.resolve(data + "_accuracy.png"), "Test accuracy — " + data, "accuracy", techniques,
                series(cells, models, techniques, c -> c.test().accuracy()), ref, "0.000", null, 1.0, false, v -> v));
        out.add(StudyCharts.bars(dir.resolve(data + "_f1.png"), "Test F1 (weighted) — " + data, "F1 (weighted)", techniques,
                series(cells, models, techniques, c -> c.test().f1Weighted()), null, "0.000", null, 1.0, false, v -> v));
        out.add(StudyCharts.bars(dir.resolve(data + "_training_time.png"), "Training time — " + data, "minutes", techniques,
                series(cells, models, techniques, CellResult::trainRuntimeSeconds), null, "0.0", 0.0, null, false, v -> v / 60));
        out.add(StudyCharts.bars(dir.resolve(data + "_memory.png"), "Peak memory (process RSS) — " + data, "MiB", techniques,
                series(cells, models, techniques, c -> c.resources().rssMaxBytes() == null ? Double.NaN : c.resources().rssMaxBytes()),
                null, "0", 0.0, null, false, v -> v / (1 << 20)));
        out.add(StudyCharts.bars(dir.resolve(data + "_trainable_parameters.png"), "Trainable parameters — " + data,
                "parameters (log scale)", techniques, series(cells, models, techniques, c -> (double) c.trainableParameters()), null,
                "0.00E0", null, null, true, v -> v));
        out.add(StudyCharts.bars(dir.resolve(data + "_latency.png"), "Inference latency, batch 1 (median) — " + data, "ms per sentence",
                techniques, series(cells, models, techniques, CellResult::latencyMsMedianBatch1), null, "0.0", 0.0, null, false, v -> v));
        return out;
    }

    private static Map<String, double[]> series(List<CellResult> cells, List<String> models, List<String> techniques,
                                                java.util.function.ToDoubleFunction<CellResult> f) {
        Map<String, double[]> out = new LinkedHashMap<>();
        for (String m : models) {
            double[] v = new double[techniques.size()];
            for (int i = 0; i < v.length; i++) {
                String t = techniques.get(i);
                v[i] = cells.stream().filter(c -> modelName(c).equals(m) && c.technique().equals(t)).mapToDouble(f).findFirst().orElse(Double.NaN);
            }
            out.put(m, v);
        }
        return out;
    }

    static int techniqueOrder(String t) {
        int i = List.of("full", "lora", "adapter", "prefix", "prompt").indexOf(t);
        return i < 0 ? 99 : i;
    }

    // ------------------------------------------------------------------------------------------ helpers

    /** The test confusion matrix of a cell as a PNG in its directory (drawn once). */
    private static void testConfusionMatrix(Path root, CellResult c) {
        Path png = root.resolve(new CellKey(c.data(), c.model(), c.technique()).dir()).resolve(StudyRunner.TEST_CONFUSION_PNG);
        if (Files.isRegularFile(png)) return;
        Plots.confusionMatrix(png, Plots.Style.confusionMatrix(false).withTitle("Test confusion matrix — " + c.data() + " / "
                + modelName(c) + " / " + c.technique()), c.test().confusionMatrix(), c.test().labels().toArray(String[]::new), false);
    }

    private static String modelName(CellResult c) {
        return c.model() + (c.randomInit() ? " (random init)" : "");
    }

    private static String link(Path root, String dir, String file) {
        return Files.isRegularFile(root.resolve(dir).resolve(file)) ? "[" + file + "](" + dir + "/" + file + ")" : "–";
    }

    static String duration(Double seconds) {
        if (seconds == null) return "–";
        long s = Math.round(seconds);
        return s < 60 ? s + " s" : s < 3600 ? String.format(Locale.ROOT, "%d min %02d s", s / 60, s % 60)
                : String.format(Locale.ROOT, "%d h %02d min", s / 3600, (s % 3600) / 60);
    }

    static String percent(Double p) {
        return p == null ? "–" : String.format(Locale.ROOT, "%.0f %%", p);
    }

    static String bytes(Number n) {
        if (n == null) return "–";
        double b = n.doubleValue();
        if (b < 1 << 20) return String.format(Locale.ROOT, "%.1f KiB", b / 1024);
        if (b < 1L << 30) return String.format(Locale.ROOT, "%.1f MiB", b / (1 << 20));
        return String.format(Locale.ROOT, "%.2f GiB", b / (1L << 30));
    }
}
