package org.finsent.cli;

import org.finsent.app.TestPredictions;
import org.finsent.study.CellResult;
import org.finsent.study.StudyReport;
import org.finsent.train.ModelSources;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code finsent compare} end to end: the random tiny GPT-2 (GPT-2's real tokenizer from {@code shared/models/gpt2})
 * with all four of the study's techniques on a small FinancialPhraseBank-format file, a few steps each; then a second
 * invocation that skips every finished cell.
 */
class CompareCommandTest {
    @TempDir
    Path tmp;

    @Test
    void tinyGridRunsEndToEndAndASecondRunSkipsIt() throws Exception {
        Path gpt2 = ModelSources.sharedDir().resolve("models/gpt2");
        assumeTrue(Files.isRegularFile(gpt2.resolve("vocab.json")), () -> "GPT-2 tokenizer files not found in " + gpt2
                + " (set FINSENT_SHARED or put shared/ beside the repository)");
        Path data = tinyFpb();
        Path out = tmp.resolve("study");
        String[] args = {"compare", "-m", ModelSources.RANDOM_GPT2, "-t", "full,lora,adapter,prefix", "-d", "fpb:" + data,
                "--max-steps", "3", "--eval-steps", "2", "--max-length", "24", "-o", out.toString()};

        long t0 = System.nanoTime();
        String first = FinSentCliTest.capture(() -> assertEquals(0, FinSentCli.run(args)));
        double seconds = (System.nanoTime() - t0) / 1e9;
        for (String t : List.of("full", "lora", "adapter", "prefix")) {
            assertTrue(first.contains("TRAINED  " + out.resolve("fpb/random-gpt2-tiny/" + t)), first);
            Path cell = out.resolve("fpb/random-gpt2-tiny/" + t);
            CellResult r = CellResult.read(cell);
            assertTrue(r.ok(), t + ": " + r.error());
            assertEquals(3, r.globalSteps());
            assertEquals("gpt2", r.architecture());
            assertTrue(r.randomInit());
            for (String f : List.of("loss.png", "learning_rate.png", "resources.json", "finsent.json", "config.json", "test_confusion_matrix.png")) {
                assertTrue(Files.isRegularFile(cell.resolve(f)), t + ": " + f);
            }
        }
        String report = Files.readString(out.resolve(StudyReport.REPORT));
        assertTrue(report.contains("| random:gpt2-tiny (random init) | prefix |"), report);
        assertTrue(report.contains("None: every cell of the grid has finished."), report);
        assertTrue(report.contains("{max_steps=3, max_length=24, eval_steps=2}"), report);
        assertTrue(first.contains("report: " + out.resolve(StudyReport.REPORT)), first);

        String second = FinSentCliTest.capture(() -> assertEquals(0, FinSentCli.run(args)));
        assertEquals(4, second.lines().filter(l -> l.startsWith("SKIPPED")).count(), second);
        System.out.printf("compare: 4-cell tiny GPT-2 grid in %.1f s; second run skipped all%n", seconds);
    }

    @Test
    void aSeedListTrainsEverySeedOnTheStudysSplitAndTheReportComparesThem() throws Exception {
        Path gpt2 = ModelSources.sharedDir().resolve("models/gpt2");
        assumeTrue(Files.isRegularFile(gpt2.resolve("vocab.json")), () -> "GPT-2 tokenizer files not found in " + gpt2);
        Path data = tinyFpb();
        Path out = tmp.resolve("study");
        String[] args = {"compare", "-m", ModelSources.RANDOM_GPT2, "-t", "lora,adapter", "-d", "fpb:" + data,
                "--max-steps", "2", "--eval-steps", "2", "--max-length", "24", "--seeds", "42,7", "-o", out.toString()};
        String printed = FinSentCliTest.capture(() -> assertEquals(0, FinSentCli.run(args)));
        Path cell42 = out.resolve("fpb/random-gpt2-tiny/lora"), cell7 = out.resolve("seeds/seed-7/fpb/random-gpt2-tiny/lora");
        for (Path c : List.of(cell42, cell7, out.resolve("fpb/random-gpt2-tiny/adapter"), out.resolve("seeds/seed-7/fpb/random-gpt2-tiny/adapter"))) {
            assertTrue(CellResult.read(c).ok(), c.toString());
            assertTrue(Files.isRegularFile(c.resolve(TestPredictions.FILE)), c + ": per-example test predictions");
        }
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        var spec42 = json.readTree(cell42.resolve("run_spec.json").toFile());
        var spec7 = json.readTree(cell7.resolve("run_spec.json").toFile());
        assertTrue(!spec42.has("split_seed"), "the study's seed writes the spec earlier versions wrote: " + spec42);
        assertEquals(42, spec7.path("split_seed").asLong(), spec7.toString());
        assertEquals(7, spec7.path("training_arguments").path("seed").asLong());
        assertEquals(7, spec7.path("techniques").path("technique_seed").asLong());
        // another seed initialises another LoRA: the trained adapters differ; both are tested on the same examples
        assertTrue(Files.mismatch(cell42.resolve("adapter_model.safetensors"), cell7.resolve("adapter_model.safetensors")) >= 0);
        var p42 = TestPredictions.read(cell42);
        var p7 = TestPredictions.read(cell7);
        assertArrayEquals(p42.labels(), p7.labels());
        // the predictions file agrees with the run's own test metrics
        long right = 0;
        for (int i = 0; i < p42.labels().length; i++) if (p42.labels()[i] == p42.predicted()[i]) right++;
        assertEquals(CellResult.read(cell42).test().accuracy(), (double) right / p42.labels().length, 1e-12);

        String report = Files.readString(out.resolve(StudyReport.REPORT));
        assertTrue(report.contains("### Seeds, intervals and significance"), report);
        double a42 = CellResult.read(cell42).test().accuracy(), a7 = CellResult.read(cell7).test().accuracy();
        double mean = (a42 + a7) / 2, sd = Math.abs(a42 - a7) / Math.sqrt(2);
        assertTrue(report.contains(String.format(java.util.Locale.ROOT, "| random:gpt2-tiny (random init) | lora | 7, 42 | %.4f ± %.4f | [",
                mean, sd)), report);
        assertTrue(report.contains("| random:gpt2-tiny | lora | adapter | 7: "), report);
        assertTrue(report.contains("- random:gpt2-tiny: "), report);
        assertTrue(printed.contains("seeds/seed-7"), printed);
    }

    /** 90 FinancialPhraseBank-format sentences, 30 per class. */
    private Path tinyFpb() throws Exception {
        Path data = tmp.resolve("Sentences_50Agree.txt");
        List<String> lines = new ArrayList<>();
        String[] verbs = {"fell", "was unchanged", "rose"}, labels = {"negative", "neutral", "positive"};
        for (int i = 0; i < 90; i++) lines.add("Net sales " + verbs[i % 3] + " in quarter " + (i + 1) + " .@" + labels[i % 3]);
        Files.write(data, lines, StandardCharsets.ISO_8859_1);
        return data;
    }

    @Test
    void badOptionsGiveAMessage() {
        assertEquals(1, FinSentCli.run("compare", "-t", "ia3", "-o", tmp.toString()));
        assertEquals(1, FinSentCli.run("compare", "--gpt2-lr", "fast", "-o", tmp.toString()));
    }
}
