package org.finsent.study;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The report from fixed, fake cell results: every table row, the study comparison, missing cells, files. */
class StudyReportTest {
    @TempDir
    Path root;

    private static final List<String> LABELS = List.of("negative", "neutral", "positive");

    static CellResult fake(String data, String model, String technique, double acc, double trainSeconds, long trainable) {
        var metrics = new CellResult.Metrics(acc, acc - 0.01, acc, acc - 0.02, acc - 0.05, 0.4, LABELS,
                new long[][]{{50, 5, 5}, {4, 270, 10}, {3, 12, 121}});
        var res = new CellResult.Resources(75.0, 99.0, 1.5 * (1L << 30), 2.0 * (1L << 30), null, 2);
        return new CellResult(CellResult.OK, null, data, model, technique, "bert", false,
                Map.of("overrides", Map.of()), new CellResult.Sizes(3876, 485, 485), metrics, acc + 0.01, 900L, trainSeconds,
                1215L, 5.0, false, res, trainable, 22_713_987L, trainable * 4 + 1024, 12.5, 240.0, "2026-01-01T00:00:00Z");
    }

    @Test
    void reportHasTheStudysTablesAndComparesWithFinBert() throws Exception {
        fake("fpb", "all-MiniLM-L6-v2", "full", 0.8400, 3725, 22_713_987).write(CellResult.cellDir(root, "fpb", "all-MiniLM-L6-v2", "full"));
        fake("fpb", "all-MiniLM-L6-v2", "lora", 0.8000, 1800, 111_747).write(CellResult.cellDir(root, "fpb", "all-MiniLM-L6-v2", "lora"));
        fake("tweets", "all-MiniLM-L6-v2", "lora", 0.8338, 59, 111_747).write(CellResult.cellDir(root, "tweets", "all-MiniLM-L6-v2", "lora"));
        new CellResult(CellResult.FAILED, "java.lang.OutOfMemoryError: Java heap space", "fpb", "bert-base-uncased", "full", null,
                false, null, null, null, null, null, null, null, null, false, null, null, null, null, null, null, "2026-01-01T00:00:00Z")
                .write(CellResult.cellDir(root, "fpb", "bert-base-uncased", "full"));
        // an interrupted cell: two log lines (one evaluation) and a checkpoint
        Path partial = CellResult.cellDir(root, "tweets", "bert-base-uncased", "lora");
        Files.createDirectories(partial.resolve("checkpoint-200"));
        Files.writeString(partial.resolve("checkpoint-200/trainer_state.json"), "{\"global_step\":200,\"total_steps\":5970}");
        Files.writeString(partial.resolve("training_log.jsonl"), "{\"step\":100,\"eval_accuracy\":0.71}\n{\"step\":200,\"eval_accuracy\":0.69}\n"
                + "{\"step\":200,\"train_loss\":0.5}\n");
        StudyReport.recordGrid(root, new StudyRunner.Grid(List.of("all-MiniLM-L6-v2", "bert-base-uncased"), List.of("full", "lora"),
                List.of("fpb", "tweets"), root, StudyPresets.Gpt2LearningRate.TABLE, StudyPresets.Overrides.NONE));

        Path report = StudyReport.write(root);
        String md = Files.readString(report);

        // classification rows: our numbers and the study's FinBERT accuracy; whether we reach it is left to the seeds
        // section, which needs per-example predictions for an interval (these cells have none)
        assertTrue(md.contains("| all-MiniLM-L6-v2 | full | 0.8400 | 0.8300 | 0.8400 | 0.8200 | 0.7900 | 0.8377 |"), md);
        assertTrue(md.contains("| all-MiniLM-L6-v2 | lora | 0.8000 | 0.7900 | 0.8000 | 0.7800 | 0.7500 | 0.8453 |"), md);
        assertTrue(md.contains("| all-MiniLM-L6-v2 | full | 42 | 0.8400 | – | 0.7900 | – | 0.8377 | no interval (no predictions file) |"), md);
        // no cell has three seeds with predictions: the report says which are short, per data set
        assertTrue(md.contains("seeds that have test predictions, the least the intervals and tests below are read from (their verdicts "
                + "are provisional; the runs still to do are in *Missing and failed cells* once `compare --seeds` has asked for them): "
                + "all-MiniLM-L6-v2 full (0), all-MiniLM-L6-v2 lora (0)."), md);
        assertTrue(md.contains("| all-MiniLM-L6-v2 | lora | 0.8338 | 0.8238 | 0.8338 | 0.8138 | 0.7838 | 0.8338 |"), md);
        // resources: 3725 s = 1 h 02 min; CPU time 0.75 x 2 cores x 3725 s = 5587.5 s = 1 h 33 min; CPU %, memory in GiB, GPU n/a
        assertTrue(md.contains("| all-MiniLM-L6-v2 | full | 1 h 02 min | 1 h 33 min | 1215 | 5.00 | 75 % | 99 % | 1.50 GiB | 2.00 GiB | n/a |"), md);
        assertTrue(md.contains("| all-MiniLM-L6-v2 | lora | 30 min 00 s | 45 min 00 s |"), md);
        assertTrue(md.contains("| all-MiniLM-L6-v2 | lora | 59 s | 1 min 29 s |"), md); // 88.5 s rounds half up
        // size and speed: 111,747 of 22,713,987 = 0.49 %; file 448,012 bytes = 437.5 KiB
        assertTrue(md.contains("| all-MiniLM-L6-v2 | lora | 111,747 | 0.49 % | 437.5 KiB | 12.5 ms | 240.0 /s |"), md);
        assertTrue(md.contains("| all-MiniLM-L6-v2 | full | 22,713,987 | 100.00 % | 86.6 MiB |"), md);
        assertTrue(md.contains("Split: 3876 train, 485 validation, 485 test examples."), md);
        // missing cells: the failed one with its error, the never-run ones
        assertTrue(md.contains("| fpb | bert-base-uncased | full | failed: java.lang.OutOfMemoryError: Java heap space |"), md);
        assertTrue(md.contains("| fpb | bert-base-uncased | lora | not run yet |"), md);
        assertTrue(md.contains("| tweets | all-MiniLM-L6-v2 | full | not run yet |"), md);
        assertTrue(md.contains("| tweets | bert-base-uncased | lora | started, not finished: logged up to step 200 of 5970, best "
                + "validation accuracy so far 0.7100 (step 100); the next run resumes from checkpoint-200 |"), md);
        assertFalse(md.contains("| fpb | all-MiniLM-L6-v2 | lora | not run"), "finished cells are not missing");
        assertFalse(md.contains("Overrides in effect"), "no overrides were used");

        // per-run links point at files that exist; the test confusion matrix was drawn from cell.json
        String cm = "fpb/all-MiniLM-L6-v2/lora/" + StudyRunner.TEST_CONFUSION_PNG;
        assertTrue(md.contains("[" + StudyRunner.TEST_CONFUSION_PNG + "](" + cm + ")"), md);
        assertPng(root.resolve(cm), 760, 640);
        for (String chart : List.of("fpb_accuracy", "fpb_f1", "fpb_training_time", "fpb_memory", "fpb_trainable_parameters",
                "fpb_latency", "tweets_accuracy")) {
            assertTrue(md.contains("](charts/" + chart + ".png)"), chart);
            assertPng(root.resolve("charts/" + chart + ".png"), 1000, 560);
        }

        JsonNode results = CellResult.JSON.readTree(root.resolve(StudyReport.RESULTS).toFile());
        assertEquals(4, results.get("cells").size());
        assertEquals(0.8453, results.get("study_finbert_accuracy").get("fpb").get("lora").asDouble());
        assertEquals(5, results.get("missing").size(), "bert-base x {full,lora} x {fpb,tweets} + tweets/MiniLM/full");
        assertEquals(0.84, results.get("cells").get(0).get("test").get("accuracy").asDouble());
        assertEquals(8, CellResult.JSON.readTree(root.resolve(StudyReport.GRID).toFile()).size());
        assertEquals(0, results.get("model_comparisons").size(), "no two models share a seed with predictions");

        // the summary opens the report: per data set and model, what the seeds support, and how much is still to run
        assertTrue(md.indexOf("## Summary") < md.indexOf("## Settings"), md);
        assertTrue(md.contains("- FinancialPhraseBank, all-MiniLM-L6-v2 (seed 42; 0 with test predictions per technique): no ranking "
                + "yet (no two techniques have test predictions from the same seed). Our interval against the study's FinBERT "
                + "accuracy: no interval yet for full, lora.\n"), md);
        assertTrue(md.contains("- Twitter Financial News, all-MiniLM-L6-v2 (seed 42; 0 with test predictions per technique): lora only."), md);
        assertTrue(md.contains("Still to run or failed: 5 cells asked for"), md);
    }

    @Test
    void overridesAndRandomInitModelsAreLabelled() throws Exception {
        CellResult c = fake("fpb", "random-gpt2", "lora", 0.6, 10, 1000);
        c = new CellResult(c.status(), c.error(), c.data(), c.model(), c.technique(), "gpt2", true,
                Map.of("overrides", Map.of("max_steps", 4)), c.sizes(), c.test(), c.validationBestAccuracy(), c.validationBestStep(),
                c.trainRuntimeSeconds(), c.globalSteps(), c.epochs(), true, c.resources(), c.trainableParameters(),
                c.totalParameters(), c.weightsFileBytes(), c.latencyMsMedianBatch1(), c.throughputPerSecondBatch32(), c.finishedAt());
        c.write(CellResult.cellDir(root, "fpb", "random-gpt2", "lora"));
        String md = Files.readString(StudyReport.write(root));
        assertTrue(md.contains("| random-gpt2 (random init) | lora | 0.6000 | 0.5900 | 0.6000 | 0.5800 | 0.5500 | – |"), md);
        assertTrue(md.contains("not the study's"), md);
        assertTrue(md.contains("**Overrides in effect**"), md);
        assertTrue(md.contains("`fpb/random-gpt2/lora` {max_steps=4}"), md);
        assertTrue(md.contains("10 s (resumed part)"), md);
    }

    @Test
    void cellResultRoundTripsThroughJson() throws Exception {
        CellResult c = fake("fpb", "m", "lora", 0.8, 1, 2);
        Path dir = root.resolve("x");
        c.write(dir);
        CellResult back = CellResult.read(dir);
        assertNotNull(back);
        assertEquals(c.test().accuracy(), back.test().accuracy());
        assertEquals(c.test().confusionMatrix()[1][1], back.test().confusionMatrix()[1][1]);
        assertEquals(c.resources(), back.resources());
        assertEquals(null, CellResult.read(root.resolve("nothing")));
        assertEquals("hf-ProsusAI-finbert", CellResult.slug("hf:ProsusAI/finbert"));
    }

    private static void assertPng(Path p, int w, int h) throws Exception {
        BufferedImage img = ImageIO.read(p.toFile());
        assertNotNull(img, p + " is not an image");
        assertEquals(w, img.getWidth(), p.toString());
        assertEquals(h, img.getHeight(), p.toString());
    }
}
