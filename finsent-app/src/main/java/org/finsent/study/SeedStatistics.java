package org.finsent.study;

import org.finsent.app.TestPredictions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * The study's runs over training seeds, cell by cell, and what they support: mean ± sd, bootstrap intervals, the
 * place of the study's FinBERT figure, McNemar's tests between techniques, and the ranking that survives them. Every
 * figure is computed from the runs' files ({@code cell.json}, {@code test_predictions.csv}).
 */
final class SeedStatistics {
    static final double ALPHA = 0.05;
    /** Training seeds with test predictions a cell needs before its interval and tests count as more than provisional. */
    static final int MIN_SEEDS = 3;

    private SeedStatistics() {
    }

    /** One finished run: its seed, result and per-example predictions (null for runs older than that file). */
    record Run(long seed, Path dir, CellResult result, TestPredictions predictions) {
    }

    /** A cell's runs and their statistics. */
    record Cell(String data, String model, String technique, boolean randomInit, List<Run> runs,
                StudyStatistics.MeanSd accuracy, StudyStatistics.MeanSd macroF1,
                StudyStatistics.Interval accuracyCi, StudyStatistics.Interval macroF1Ci, int runsWithPredictions,
                Double study, String versusStudy) {
    }

    /** Pairwise test of two techniques of one model on one data set. */
    record Pair(String data, String model, String a, String b, List<Long> seeds, List<StudyStatistics.McNemar> tests, String verdict) {
        boolean aBetterEverywhere() {
            return betterEverywhere(tests, true);
        }

        boolean bBetterEverywhere() {
            return betterEverywhere(tests, false);
        }
    }

    /** Whether A (or B) is significantly better in every seed's test; false when nothing was tested. */
    private static boolean betterEverywhere(List<StudyStatistics.McNemar> tests, boolean a) {
        return !tests.isEmpty() && tests.stream().allMatch(t -> t.significant(ALPHA) && (a ? t.onlyA() > t.onlyB() : t.onlyB() > t.onlyA()));
    }

    /** Every training seed with runs under the study root: the root's own (the study's seed) and seeds/seed-N. */
    static List<Long> seeds(Path root) throws IOException {
        TreeSet<Long> out = new TreeSet<>();
        out.add(StudyPresets.SEED);
        Path dir = root.resolve(StudyRunner.SEEDS_DIR);
        if (Files.isDirectory(dir)) {
            try (Stream<Path> s = Files.list(dir)) {
                for (Path p : s.toList()) {
                    String n = p.getFileName().toString();
                    if (n.matches("seed-\\d+")) out.add(Long.parseLong(n.substring(5)));
                }
            }
        }
        return List.copyOf(out);
    }

    /** The finished runs of every seed, grouped by cell (data, model, technique) in the grid's order. */
    static List<Cell> cells(Path root) throws IOException {
        Map<String, List<Run>> byKey = new LinkedHashMap<>();
        for (long seed : seeds(root)) {
            Path seedRoot = StudyRunner.seedRoot(root, seed);
            for (CellResult c : StudyReport.readCells(seedRoot)) {
                if (!c.ok()) continue;
                Path dir = seedRoot.resolve(new StudyReport.CellKey(c.data(), c.model(), c.technique()).dir());
                byKey.computeIfAbsent(c.data() + "\u0000" + c.model() + "\u0000" + c.technique(), k -> new ArrayList<>())
                        .add(new Run(seed, dir, c, TestPredictions.read(dir)));
            }
        }
        List<Cell> out = new ArrayList<>();
        for (List<Run> runs : byKey.values()) out.add(cell(runs));
        out.sort(Comparator.comparing((Cell c) -> StudyReport.dataOrder(c.data())).thenComparing(Cell::model)
                .thenComparing(c -> StudyReport.techniqueOrder(c.technique())));
        return out;
    }

    private static Cell cell(List<Run> runs) {
        CellResult first = runs.get(0).result();
        int k = first.test().labels().size();
        double[] acc = runs.stream().mapToDouble(r -> r.result().test().accuracy()).toArray();
        double[] f1 = runs.stream().mapToDouble(r -> r.result().test().f1Macro()).toArray();
        List<Run> withPredictions = runs.stream().filter(r -> r.predictions() != null).toList();
        StudyStatistics.Interval accCi = null, f1Ci = null;
        if (!withPredictions.isEmpty()) {
            int[] labels = withPredictions.get(0).predictions().labels();
            for (Run r : withPredictions) {
                if (!Arrays.equals(labels, r.predictions().labels())) {
                    throw new IllegalStateException(r.dir() + ": its test labels differ from "
                            + withPredictions.get(0).dir() + "'s: the runs were not tested on the same split");
                }
            }
            List<int[]> preds = withPredictions.stream().map(r -> r.predictions().predicted()).toList();
            accCi = StudyStatistics.bootstrap(labels, preds, StudyStatistics.Metric.ACCURACY, k,
                    StudyStatistics.BOOTSTRAP_REPLICATES, StudyStatistics.BOOTSTRAP_SEED);
            f1Ci = StudyStatistics.bootstrap(labels, preds, StudyStatistics.Metric.MACRO_F1, k,
                    StudyStatistics.BOOTSTRAP_REPLICATES, StudyStatistics.BOOTSTRAP_SEED);
        }
        Double study = first.randomInit() ? null : StudyReport.STUDY_FINBERT.getOrDefault(first.data(), Map.of()).get(first.technique());
        String versus = study == null ? "–" : accCi == null ? "no interval (no predictions file)" : accCi.versus(study);
        return new Cell(first.data(), first.model(), first.technique(), first.randomInit(), runs,
                StudyStatistics.MeanSd.of(acc), StudyStatistics.MeanSd.of(f1), accCi, f1Ci, withPredictions.size(), study, versus);
    }

    /** The runs of two cells with the same seed, both with predictions on the same test examples (paired). */
    private record Paired(long seed, TestPredictions a, TestPredictions b) {
    }

    private static List<Paired> paired(Cell a, Cell b) {
        List<Paired> out = new ArrayList<>();
        for (Run ra : a.runs()) {
            if (ra.predictions() == null) continue;
            for (Run rb : b.runs()) {
                if (rb.seed() != ra.seed() || rb.predictions() == null) continue;
                // another split (e.g. a --sample run in the same directory) is not paired with this one
                if (!Arrays.equals(ra.predictions().labels(), rb.predictions().labels())) continue;
                out.add(new Paired(ra.seed(), ra.predictions(), rb.predictions()));
            }
        }
        return out;
    }

    /** What McNemar's tests of A against B, one per seed, support ({@code nameA}, {@code nameB} name the two). */
    private static String verdict(String nameA, String nameB, List<StudyStatistics.McNemar> tests) {
        long significant = tests.stream().filter(t -> t.significant(ALPHA)).count();
        return tests.isEmpty() ? "not testable (no paired predictions)"
                : betterEverywhere(tests, true) ? nameA + " better in " + everySeed(tests.size())
                : betterEverywhere(tests, false) ? nameB + " better in " + everySeed(tests.size())
                : significant == 0 ? "no significant difference in any seed"
                : "significant in " + significant + " of " + tests.size() + " seeds: not consistent";
    }

    /** "every seed", worded so that one or two tested seeds do not read as many. */
    private static String everySeed(int n) {
        return n == 1 ? "the one seed tested" : n == 2 ? "both seeds tested" : "all " + n + " seeds tested";
    }

    /** McNemar's test between every two techniques of a model on a data set, seed by seed (paired: same test split). */
    static List<Pair> pairs(List<Cell> cells) {
        List<Pair> out = new ArrayList<>();
        for (int i = 0; i < cells.size(); i++) {
            for (int j = i + 1; j < cells.size(); j++) {
                Cell a = cells.get(i), b = cells.get(j);
                if (!a.data().equals(b.data()) || !a.model().equals(b.model())) continue;
                List<Paired> runs = paired(a, b);
                List<StudyStatistics.McNemar> tests = runs.stream()
                        .map(r -> StudyStatistics.mcnemar(r.a().labels(), r.a().predicted(), r.b().predicted())).toList();
                out.add(new Pair(a.data(), a.model(), a.technique(), b.technique(), runs.stream().map(Paired::seed).toList(),
                        tests, verdict(a.technique(), b.technique(), tests)));
            }
        }
        return out;
    }

    /**
     * Two models with the same technique on the same data set (e.g. a task-adapted BERT-Base against BERT-Base, or
     * BERT-Base against MiniLM), over the seeds both have test predictions for: the mean accuracy of each (A the higher),
     * a paired bootstrap interval of {@code A − B}, and McNemar's test per seed.
     */
    record ModelPair(String data, String technique, String a, String b, List<Long> seeds, double meanA, double meanB,
                     StudyStatistics.Interval difference, List<StudyStatistics.McNemar> tests, String verdict) {
    }

    /** {@link ModelPair} for every two models (random-init ones left out) sharing a data set and technique. */
    static List<ModelPair> modelPairs(List<Cell> cells) {
        List<ModelPair> out = new ArrayList<>();
        List<Cell> real = cells.stream().filter(c -> !c.randomInit()).toList();
        for (int i = 0; i < real.size(); i++) {
            for (int j = i + 1; j < real.size(); j++) {
                Cell a = real.get(i), b = real.get(j);
                if (!a.data().equals(b.data()) || !a.technique().equals(b.technique()) || a.model().equals(b.model())) continue;
                List<Paired> runs = paired(a, b);
                if (runs.isEmpty()) continue;
                List<Long> seeds = runs.stream().map(Paired::seed).toList();
                int[] labels = runs.get(0).a().labels();
                List<int[]> predsA = runs.stream().map(r -> r.a().predicted()).toList();
                List<int[]> predsB = runs.stream().map(r -> r.b().predicted()).toList();
                int k = Arrays.stream(labels).max().orElse(0) + 1; // the class count; accuracy does not use it
                double meanA = StudyStatistics.meanOverRuns(labels, predsA, StudyStatistics.Metric.ACCURACY, k);
                double meanB = StudyStatistics.meanOverRuns(labels, predsB, StudyStatistics.Metric.ACCURACY, k);
                if (meanB > meanA) { // A is the better model on these seeds, so that A − B reads as a gain
                    Cell c = a; a = b; b = c;
                    List<int[]> p = predsA; predsA = predsB; predsB = p;
                    double m = meanA; meanA = meanB; meanB = m;
                }
                List<StudyStatistics.McNemar> tests = new ArrayList<>();
                for (int s = 0; s < seeds.size(); s++) tests.add(StudyStatistics.mcnemar(labels, predsA.get(s), predsB.get(s)));
                StudyStatistics.Interval diff = StudyStatistics.bootstrapDifference(labels, predsA, predsB,
                        StudyStatistics.Metric.ACCURACY, k, StudyStatistics.BOOTSTRAP_REPLICATES, StudyStatistics.BOOTSTRAP_SEED);
                String verdict = verdict(a.model(), b.model(), tests);
                if (seeds.size() < MIN_SEEDS) verdict += " (provisional: " + seeds.size() + " of the " + MIN_SEEDS + " seeds it needs)";
                out.add(new ModelPair(a.data(), a.technique(), a.model(), b.model(), seeds, meanA, meanB, diff, tests, verdict));
            }
        }
        return out;
    }

    /**
     * The ranking of one model's techniques that the tests support: by mean accuracy, with "&gt;" only where McNemar's
     * test separates the two neighbours in every seed with predictions, "≈" where it was tested and does not, and "?"
     * where no paired predictions exist to test.
     */
    static String ranking(List<Cell> cells, List<Pair> pairs) {
        List<Cell> sorted = cells.stream().sorted(Comparator.comparingDouble((Cell c) -> -c.accuracy().mean())).toList();
        StringBuilder b = new StringBuilder(sorted.get(0).technique());
        for (int i = 1; i < sorted.size(); i++) {
            String hi = sorted.get(i - 1).technique(), lo = sorted.get(i).technique();
            Pair pair = pairs.stream().filter(p -> p.a().equals(hi) && p.b().equals(lo) || p.a().equals(lo) && p.b().equals(hi))
                    .findFirst().orElse(null);
            boolean separated = pair != null && (pair.a().equals(hi) ? pair.aBetterEverywhere() : pair.bBetterEverywhere());
            b.append(pair == null || pair.tests().isEmpty() ? " ? " : separated ? " > " : " ≈ ").append(lo);
        }
        return b.toString();
    }

    /**
     * {@link #ranking}, marked provisional when a test separated or joined two techniques while some cell of the
     * model has fewer than {@link #MIN_SEEDS} seeds with test predictions.
     */
    static String rankingLine(List<Cell> cells, List<Pair> pairs) {
        String r = ranking(cells, pairs);
        int fewest = cells.stream().filter(c -> !c.randomInit()).mapToInt(Cell::runsWithPredictions).min().orElse(MIN_SEEDS);
        boolean tested = pairs.stream().anyMatch(p -> !p.tests().isEmpty());
        return tested && fewest < MIN_SEEDS
                ? r + " (provisional: " + fewest + " of the " + MIN_SEEDS + " seeds with test predictions it needs)" : r;
    }

    /**
     * One line of the report's summary per data set and model (random-init models, which make no attempt at the
     * study's numbers, are left out): the ranking the tests support, and where the study's FinBERT figure lies
     * against each technique's interval.
     */
    static List<String> summary(List<Cell> all, Map<String, String> dataTitles) {
        return summary(all, dataTitles, Map.of());
    }

    /**
     * As {@link #summary(List, Map)}; {@code pretrainedFrom} maps a further-pretrained model to the model it was
     * pretrained from, so that a comparison of the two is named as the effect of that pretraining.
     */
    static List<String> summary(List<Cell> all, Map<String, String> dataTitles, Map<String, String> pretrainedFrom) {
        List<String> out = new ArrayList<>();
        for (String data : all.stream().map(Cell::data).distinct().toList()) {
            List<Cell> cells = all.stream().filter(c -> c.data().equals(data) && !c.randomInit()).toList();
            for (String model : cells.stream().map(Cell::model).distinct().toList()) {
                List<Cell> mc = cells.stream().filter(c -> c.model().equals(model)).toList();
                List<Pair> pairs = pairs(mc);
                int fewest = mc.stream().mapToInt(Cell::runsWithPredictions).min().orElse(0);
                int most = mc.stream().mapToInt(Cell::runsWithPredictions).max().orElse(0);
                List<Long> seeds = mc.stream().flatMap(c -> c.runs().stream()).map(Run::seed).distinct().sorted().toList();
                StringBuilder b = new StringBuilder(dataTitles.getOrDefault(data, data)).append(", ").append(model)
                        .append(seeds.size() == 1 ? " (seed " : " (seeds ").append(seedList(seeds)).append("; ")
                        .append(fewest == most ? Integer.toString(most) : fewest + "–" + most)
                        .append(" with test predictions per technique): ");
                if (mc.size() < 2) {
                    b.append(mc.get(0).technique()).append(" only");
                } else if (pairs.stream().allMatch(p -> p.tests().isEmpty())) {
                    b.append("no ranking yet (no two techniques have test predictions from the same seed)");
                } else {
                    b.append(rankingLine(mc, pairs));
                }
                b.append(". Our interval against the study's FinBERT accuracy: ");
                Map<String, List<String>> byVerdict = new LinkedHashMap<>();
                for (String v : List.of("above", "within", "below")) byVerdict.put(v, new ArrayList<>());
                List<String> noInterval = new ArrayList<>();
                for (Cell c : mc) {
                    if (c.study() == null) continue;
                    List<String> to = byVerdict.get(c.versusStudy());
                    (to == null ? noInterval : to).add(c.technique());
                }
                List<String> parts = new ArrayList<>();
                if (!byVerdict.get("above").isEmpty()) parts.add("above it with " + String.join(", ", byVerdict.get("above")));
                if (!byVerdict.get("within").isEmpty()) parts.add("within noise with " + String.join(", ", byVerdict.get("within")));
                if (!byVerdict.get("below").isEmpty()) parts.add("below it with " + String.join(", ", byVerdict.get("below")));
                if (!noInterval.isEmpty()) parts.add("no interval yet for " + String.join(", ", noInterval));
                b.append(parts.isEmpty() ? "no figure to compare" : String.join("; ", parts)).append('.');
                if (fewest < MIN_SEEDS && mc.stream().anyMatch(c -> c.accuracyCi() != null)) {
                    b.append(" Intervals from fewer than ").append(MIN_SEEDS).append(" seeds are provisional.");
                }
                out.add(b.toString());
            }
            for (ModelPair p : modelPairs(cells)) {
                String line = String.format(Locale.ROOT, "%s, %s: %s − %s = %+.4f accuracy, 95 %% CI [%+.4f, %+.4f] (seed%s %s): %s.",
                        dataTitles.getOrDefault(data, data), p.technique(), p.a(), p.b(), p.meanA() - p.meanB(),
                        p.difference().low(), p.difference().high(), p.seeds().size() == 1 ? "" : "s", seedList(p.seeds()),
                        p.verdict());
                String pretrained = p.b().equals(pretrainedFrom.get(p.a())) ? p.a() : p.a().equals(pretrainedFrom.get(p.b())) ? p.b() : null;
                if (pretrained != null) {
                    line += " " + pretrained + " is " + pretrainedFrom.get(pretrained) + " further pretrained (`finsent pretrain`), "
                            + "so this is the effect of that pretraining.";
                }
                out.add(line);
            }
        }
        return out;
    }

    /** The report's "Seeds, intervals and significance" section of one data set. */
    static void section(StringBuilder md, String data, List<Cell> all) {
        List<Cell> cells = all.stream().filter(c -> c.data().equals(data)).toList();
        if (cells.isEmpty()) return;
        md.append("### Seeds, intervals and significance\n\n");
        md.append("Mean ± sample standard deviation over the training seeds found (all tested on the same split). ")
                .append("95 % CI: percentile bootstrap of the mean over seeds, ").append(StudyStatistics.BOOTSTRAP_REPLICATES)
                .append(" resamples of the test examples, from the runs' `").append(TestPredictions.FILE).append("` ")
                .append("(runs from before that file existed have no interval). *vs study*: our accuracy interval against the study's ")
                .append("FinBERT figure — *above* or *below* when the whole interval is, *within* when the figure lies inside it ")
                .append("(a difference within noise).\n\n");
        md.append("| model | technique | seeds | accuracy | 95 % CI | F1 (macro) | 95 % CI | study | vs study |\n");
        md.append("|---|---|---|---:|---:|---:|---:|---:|---|\n");
        for (Cell c : cells) {
            md.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |%n", modelName(c), c.technique(),
                    seedList(c.runs().stream().map(Run::seed).toList()),
                    meanSd(c.accuracy()), interval(c.accuracyCi(), c.runsWithPredictions(), c.runs().size()),
                    meanSd(c.macroF1()), interval(c.macroF1Ci(), c.runsWithPredictions(), c.runs().size()),
                    c.study() == null ? "–" : String.format(Locale.ROOT, "%.4f", c.study()), c.versusStudy()));
        }
        List<String> short_ = cells.stream().filter(c -> !c.randomInit() && c.runsWithPredictions() < MIN_SEEDS)
                .map(c -> c.model() + " " + c.technique() + " (" + c.runsWithPredictions() + ")").toList();
        if (!short_.isEmpty()) {
            md.append("\nCells with fewer than ").append(MIN_SEEDS).append(" seeds that have test predictions, the least the intervals ")
                    .append("and tests below are read from (their verdicts are provisional; the runs still to do are in *Missing and ")
                    .append("failed cells* once `compare --seeds` has asked for them): ").append(String.join(", ", short_)).append(".\n");
        }
        List<Pair> pairs = pairs(cells);
        if (!pairs.isEmpty()) {
            md.append("\nMcNemar's exact test between techniques, per seed (*A+ / B+*: test examples only A / only B got right; ")
                    .append("p two-sided; no correction for the number of pairs, so read single p-values near ")
                    .append(ALPHA).append(" with care).\n\n");
            md.append("| model | A | B | per seed: A+ / B+ (p) | verdict at α = ").append(ALPHA).append(" |\n|---|---|---|---|---|\n");
            for (Pair p : pairs) {
                String per = perSeed(p.seeds(), p.tests());
                md.append("| ").append(p.model()).append(" | ").append(p.a()).append(" | ").append(p.b()).append(" | ")
                        .append(per.isEmpty() ? "–" : per).append(" | ").append(p.verdict()).append(" |\n");
            }
        }
        md.append("\nRanking the tests support (by mean accuracy; \">\" where McNemar's test separates neighbours in every seed, ")
                .append("\"≈\" where it does not, \"?\" where no paired predictions exist yet):\n\n");
        for (String model : cells.stream().map(Cell::model).distinct().toList()) {
            List<Cell> mc = cells.stream().filter(c -> c.model().equals(model)).toList();
            md.append("- ").append(model).append(": ").append(rankingLine(mc, pairs(mc))).append('\n');
        }
        md.append('\n');
        List<ModelPair> models = modelPairs(cells);
        if (!models.isEmpty()) {
            md.append("Between models, technique by technique, over the seeds both have test predictions for (mean accuracy, ")
                    .append("A the higher; *A − B* with a paired 95 % bootstrap interval: one resample of the test examples for ")
                    .append("both; McNemar's test per seed):\n\n");
            md.append("| technique | A | B | seeds | accuracy A | accuracy B | A − B | 95 % CI | per seed: A+ / B+ (p) | verdict at α = ")
                    .append(ALPHA)
                    .append(" |\n|---|---|---|---|---:|---:|---:|---:|---|---|\n");
            for (ModelPair p : models) {
                md.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %.4f | %.4f | %+.4f | [%+.4f, %+.4f] | %s | %s |%n",
                        p.technique(), p.a(), p.b(), seedList(p.seeds()), p.meanA(), p.meanB(), p.meanA() - p.meanB(),
                        p.difference().low(), p.difference().high(), perSeed(p.seeds(), p.tests()), p.verdict()));
            }
            md.append('\n');
        }
    }

    private static String seedList(List<Long> seeds) {
        return String.join(", ", seeds.stream().map(String::valueOf).toList());
    }

    /** "43: 61 / 19 (2.73e-06); 44: …": each seed's McNemar counts and p-value. */
    private static String perSeed(List<Long> seeds, List<StudyStatistics.McNemar> tests) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < tests.size(); i++) {
            var t = tests.get(i);
            out.add(String.format(Locale.ROOT, "%d: %d / %d (%.3g)", seeds.get(i), t.onlyA(), t.onlyB(), t.p()));
        }
        return String.join("; ", out);
    }

    private static String modelName(Cell c) {
        return c.randomInit() ? c.model() + " (random init)" : c.model();
    }

    private static String meanSd(StudyStatistics.MeanSd m) {
        return Double.isNaN(m.sd()) ? String.format(Locale.ROOT, "%.4f", m.mean())
                : String.format(Locale.ROOT, "%.4f ± %.4f", m.mean(), m.sd());
    }

    private static String interval(StudyStatistics.Interval ci, int with, int all) {
        if (ci == null) return "–";
        String s = String.format(Locale.ROOT, "[%.4f, %.4f]", ci.low(), ci.high());
        return with < all ? s + " (" + with + " of " + all + " seeds)" : s;
    }

    /** For results.json: {@link #modelPairs}. */
    static List<Map<String, Object>> modelPairsToJson(List<ModelPair> pairs) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (ModelPair p : pairs) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("data", p.data());
            m.put("technique", p.technique());
            m.put("a", p.a());
            m.put("b", p.b());
            m.put("seeds", p.seeds());
            m.put("accuracy_a", p.meanA());
            m.put("accuracy_b", p.meanB());
            m.put("difference_ci95", List.of(p.difference().low(), p.difference().high()));
            List<Map<String, Object>> tests = new ArrayList<>();
            for (int i = 0; i < p.tests().size(); i++) {
                Map<String, Object> t = new LinkedHashMap<>(); // Map.of would order the keys differently in each JVM
                t.put("seed", p.seeds().get(i));
                t.put("only_a", p.tests().get(i).onlyA());
                t.put("only_b", p.tests().get(i).onlyB());
                t.put("p", p.tests().get(i).p());
                tests.add(t);
            }
            m.put("mcnemar", tests);
            m.put("verdict", p.verdict());
            out.add(m);
        }
        return out;
    }

    /** For results.json. */
    static List<Map<String, Object>> toJson(List<Cell> cells) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Cell c : cells) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("data", c.data());
            m.put("model", c.model());
            m.put("technique", c.technique());
            m.put("seeds", c.runs().stream().map(Run::seed).toList());
            m.put("accuracy_mean", c.accuracy().mean());
            m.put("accuracy_sd", Double.isNaN(c.accuracy().sd()) ? null : c.accuracy().sd());
            m.put("accuracy_ci95", c.accuracyCi() == null ? null : List.of(c.accuracyCi().low(), c.accuracyCi().high()));
            m.put("f1_macro_mean", c.macroF1().mean());
            m.put("f1_macro_sd", Double.isNaN(c.macroF1().sd()) ? null : c.macroF1().sd());
            m.put("f1_macro_ci95", c.macroF1Ci() == null ? null : List.of(c.macroF1Ci().low(), c.macroF1Ci().high()));
            m.put("runs_with_predictions", c.runsWithPredictions());
            m.put("study_finbert_accuracy", c.study());
            m.put("study_versus_interval", c.versusStudy());
            out.add(m);
        }
        return out;
    }
}
