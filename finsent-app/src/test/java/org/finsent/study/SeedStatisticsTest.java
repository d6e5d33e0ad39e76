package org.finsent.study;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The ranking line the report's summary of a data set gives, and when it says it is provisional. */
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
}
