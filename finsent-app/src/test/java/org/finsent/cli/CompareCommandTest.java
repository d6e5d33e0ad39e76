package org.finsent.cli;

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
    void aSeedOverrideTrainsWithThatSeedOnTheStudysSplit() throws Exception {
        Path gpt2 = ModelSources.sharedDir().resolve("models/gpt2");
        assumeTrue(Files.isRegularFile(gpt2.resolve("vocab.json")), () -> "GPT-2 tokenizer files not found in " + gpt2);
        Path data = tinyFpb();
        Path[] cells = new Path[2];
        long[] seeds = {42, 7};
        for (int k = 0; k < 2; k++) {
            Path out = tmp.resolve("study-" + seeds[k]);
            List<String> args = new ArrayList<>(List.of("compare", "-m", ModelSources.RANDOM_GPT2, "-t", "lora", "-d", "fpb:" + data,
                    "--max-steps", "2", "--eval-steps", "2", "--max-length", "24", "-o", out.toString()));
            if (k == 1) args.addAll(List.of("--seed", "7"));
            FinSentCliTest.capture(() -> assertEquals(0, FinSentCli.run(args.toArray(String[]::new))));
            cells[k] = out.resolve("fpb/random-gpt2-tiny/lora");
            assertTrue(CellResult.read(cells[k]).ok());
        }
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        var spec42 = json.readTree(cells[0].resolve("run_spec.json").toFile());
        var spec7 = json.readTree(cells[1].resolve("run_spec.json").toFile());
        assertTrue(!spec42.has("split_seed"), "without --seed the spec is what earlier versions wrote: " + spec42);
        assertEquals(42, spec7.path("split_seed").asLong(), spec7.toString());
        assertEquals(7, spec7.path("training_arguments").path("seed").asLong());
        assertEquals(7, spec7.path("techniques").path("technique_seed").asLong());
        // another seed initialises another LoRA: the trained adapters differ
        assertTrue(Files.mismatch(cells[0].resolve("adapter_model.safetensors"), cells[1].resolve("adapter_model.safetensors")) >= 0);
        String report = Files.readString(tmp.resolve("study-7").resolve(StudyReport.REPORT));
        assertTrue(report.contains("**Overrides in effect**") && report.contains("seed=7"), report);
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
