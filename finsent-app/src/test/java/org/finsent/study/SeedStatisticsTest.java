package org.finsent.study;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The ranking line the report gives per model, when it says it is provisional, and the report's summary lines. */
class SeedStatisticsTest {
    static SeedStatistics.Cell cell(String technique, double mean, int withPredictions) {
        var acc = new StudyStatistics.MeanSd(mean, 0.01, Math.max(1, withPredictions));
        return new SeedStatistics.Cell("tweets", "m", technique, false, List.of(), acc, acc, null, null, withPredictions, null, "");
    }

    static SeedStatistics.Pair pair(String a, String b, StudyStatistics.McNemar... tests) {
        return new SeedStatistics.Pair("tweets", "m", a, b, List.of(43L, 44L, 45L).subList(0, tests.length), List.of(tests), "");
    }

    @Test
    void rankingSeparatesOnlyWhereEverySeedDoesAndSaysWhenTooFewSeedsHavePredictions() {
        var sig = new StudyStatistics.McNemar(60, 20, 1e-5);       // A better, significant
        var none = new StudyStatistics.McNemar(20, 25, 0.55);      // no difference
        List<SeedStatistics.Pair> pairs = List.of(pair("full", "lora", sig, sig, sig), pair("lora", "prefix", sig, none, sig),
                pair("full", "prefix", sig, sig, sig));
        List<SeedStatistics.Cell> three = List.of(cell("lora", 0.78, 3), cell("full", 0.87, 3), cell("prefix", 0.70, 3));
        assertEquals("full > lora ≈ prefix", SeedStatistics.rankingLine(three, pairs), "three seeds each: no caveat");

        List<SeedStatistics.Cell> one = List.of(cell("lora", 0.78, 1), cell("full", 0.87, 3), cell("prefix", 0.70, 3));
        assertEquals("full > lora ≈ prefix (provisional: 1 of the 3 seeds with test predictions it needs)",
                SeedStatistics.rankingLine(one, pairs));

        List<SeedStatistics.Cell> none0 = List.of(cell("lora", 0.78, 0), cell("full", 0.87, 0));
        assertEquals("full ? lora", SeedStatistics.rankingLine(none0, List.of(pair("full", "lora"))), "nothing tested: nothing to qualify");
    }
    /** A model's cell on "tweets" whose runs (one per seed) get the first {@code correct} of 100 examples right. */
    static SeedStatistics.Cell cell(String model, String technique, int correct, List<Long> seeds, Double study, String versus,
                                    boolean randomInit) {
        return cell(model, technique, correct, seeds, true, study, versus, randomInit);
    }

    static SeedStatistics.Cell cell(String model, String technique, int correct, List<Long> seeds, boolean withPredictions,
                                    Double study, String versus, boolean randomInit) {
        int[] labels = new int[100];
        int[] predicted = new int[100];
        for (int i = correct; i < 100; i++) predicted[i] = 1;
        List<SeedStatistics.Run> runs = seeds.stream()
                .map(seed -> new SeedStatistics.Run(seed, null, null,
                        withPredictions ? new org.finsent.app.TestPredictions(labels, predicted) : null)).toList();
        var acc = new StudyStatistics.MeanSd(correct / 100.0, 0.01, Math.max(1, seeds.size()));
        var ci = withPredictions ? new StudyStatistics.Interval(correct / 100.0 - 0.05, correct / 100.0 + 0.05) : null;
        return new SeedStatistics.Cell("tweets", model, technique, randomInit, runs, acc, acc, ci, ci,
                withPredictions ? seeds.size() : 0, study, versus);
    }

    @Test
    void summaryGivesEachModelsRankingAndWhereFinBertsFigureLies() {
        List<Long> three = List.of(43L, 44L, 45L), two = List.of(43L, 44L);
        String none = "no interval (no predictions file)";
        List<SeedStatistics.Cell> cells = List.of(
                cell("bert", "full", 88, List.of(42L), false, 0.8526, none, false),
                cell("bert", "lora", 84, List.of(42L), false, 0.8338, none, false),
                cell("mini", "full", 90, three, 0.8526, "above", false),
                cell("mini", "lora", 60, three, 0.6338, "within", false),   // full: 30 more right in every seed
                cell("mini", "adapter", 58, two, 0.8555, "below", false),  // lora: 2 more right, p = 0.5
                cell("random", "full", 59, three, null, "–", true));
        List<String> lines = SeedStatistics.summary(cells, Map.of("tweets", "Twitter Financial News"));
        assertEquals(List.of(
                "Twitter Financial News, bert (seed 42; 0 with test predictions per technique): no ranking yet (no two "
                        + "techniques have test predictions from the same seed). Our interval against the study's FinBERT "
                        + "accuracy: no interval yet for full, lora.",
                "Twitter Financial News, mini (seeds 43, 44, 45; 2–3 with test predictions per technique): full > lora ≈ adapter "
                        + "(provisional: 2 of the 3 seeds with test predictions it needs). Our interval against the study's FinBERT "
                        + "accuracy: above it with full; within noise with lora; below it with adapter. "
                        + "Intervals from fewer than 3 seeds are provisional."), lines, "random-init models are left out");
    }
    @Test
    void modelsAreComparedTechniqueByTechniqueOverTheSeedsBothHave() {
        List<Long> three = List.of(43L, 44L, 45L);
        List<SeedStatistics.Cell> cells = List.of(
                cell("bert", "lora", 90, three, 0.8338, "above", false),
                cell("bert", "full", 70, List.of(43L), 0.8526, "within", false),
                cell("tapt", "lora", 91, List.of(42L, 43L, 44L, 45L), 0.8338, "above", false),   // seed 42: no partner
                cell("tapt", "full", 70, List.of(43L), 0.8526, "within", false),
                cell("mini", "lora", 60, List.of(), false, 0.8338, "no interval (no predictions file)", false),
                cell("random", "lora", 59, three, null, "–", true));
        List<SeedStatistics.ModelPair> pairs = SeedStatistics.modelPairs(cells);
        assertEquals(2, pairs.size(), "mini has no predictions and random-init models are left out: " + pairs);

        SeedStatistics.ModelPair lora = pairs.get(0);
        assertEquals(List.of("lora", "tapt", "bert"), List.of(lora.technique(), lora.a(), lora.b()), "A is the better model");
        assertEquals(three, lora.seeds());
        assertEquals(0.91, lora.meanA(), 1e-15);
        assertEquals(0.90, lora.meanB(), 1e-15);
        // tapt gets one more example right in every seed: McNemar 1 / 0, p = 1
        assertEquals(List.of(1, 0, 1.0), List.of(lora.tests().get(0).onlyA(), lora.tests().get(0).onlyB(), lora.tests().get(0).p()));
        assertEquals("no significant difference in any seed", lora.verdict());
        assertTrue(lora.difference().low() >= 0.0 && lora.difference().low() <= 0.01 && 0.01 <= lora.difference().high(),
                lora.difference().toString());

        SeedStatistics.ModelPair full = pairs.get(1);
        assertEquals(List.of(43L), full.seeds());
        assertEquals("no significant difference in any seed (provisional: 1 of the 3 seeds it needs)", full.verdict());
        assertEquals(new StudyStatistics.Interval(0.0, 0.0), full.difference(), "identical predictions");

        // a model further pretrained from the other: the comparison is named as that pretraining's effect, others are not
        List<String> named = SeedStatistics.summary(cells, Map.of(), Map.of("tapt", "bert"));
        String loraLine = named.stream().filter(l -> l.startsWith("tweets, lora: tapt − bert = +0.0100 accuracy")).findFirst().orElseThrow();
        assertTrue(loraLine.endsWith(": no significant difference in any seed. tapt is bert further pretrained (`finsent pretrain`), "
                + "so this is the effect of that pretraining."), loraLine);
        assertTrue(SeedStatistics.summary(cells, Map.of()).stream().noneMatch(l -> l.contains("further pretrained")));
        assertTrue(SeedStatistics.summary(cells, Map.of(), Map.of("tapt", "mini")).stream().noneMatch(l -> l.contains("further pretrained")));

        List<SeedStatistics.Cell> apart = List.of(cell("mini", "lora", 60, three, 0.8338, "below", false),
                cell("bert", "lora", 90, three, 0.8338, "above", false));
        SeedStatistics.ModelPair p = SeedStatistics.modelPairs(apart).get(0);
        assertEquals("bert better in all 3 seeds tested", p.verdict());
        assertTrue(p.difference().low() > 0.15 && p.difference().high() < 0.45 && p.difference().low() < 0.30
                && 0.30 < p.difference().high(), p.difference().toString());
        assertEquals(String.format(java.util.Locale.ROOT,
                        "Twitter Financial News, lora: bert − mini = +0.3000 accuracy, 95 %% CI [%+.4f, %+.4f] (seeds 43, 44, 45): "
                                + "bert better in all 3 seeds tested.", p.difference().low(), p.difference().high()),
                SeedStatistics.summary(apart, Map.of("tweets", "Twitter Financial News")).get(2));
        assertEquals(List.of(30, 0), List.of(p.tests().get(0).onlyA(), p.tests().get(0).onlyB()), "counts follow the better model");

        // one or two seeds are not worded as "every seed"
        SeedStatistics.ModelPair one = SeedStatistics.modelPairs(List.of(cell("mini", "lora", 60, List.of(43L), 0.8338, "below", false),
                cell("bert", "lora", 90, List.of(43L), 0.8338, "above", false))).get(0);
        assertEquals("bert better in the one seed tested (provisional: 1 of the 3 seeds it needs)", one.verdict());
        SeedStatistics.ModelPair two = SeedStatistics.modelPairs(List.of(cell("mini", "lora", 90, List.of(43L, 44L), 0.8338, "above", false),
                cell("bert", "lora", 60, List.of(43L, 44L), 0.8338, "below", false))).get(0);
        assertEquals("mini better in both seeds tested (provisional: 2 of the 3 seeds it needs)", two.verdict());
    }
}
