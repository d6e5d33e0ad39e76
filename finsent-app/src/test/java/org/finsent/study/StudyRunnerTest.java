package org.finsent.study;

import org.finsent.core.model.BertConfig;
import org.finsent.core.model.BertForSequenceClassification;
import org.finsent.core.model.Pretrained;
import org.finsent.report.RunReporter;
import org.finsent.train.Checkpoint;
import org.finsent.train.FineTunedModel;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The grid runner on a tiny BERT (a local Hugging Face directory: 2 layers, 16 wide, the MiniLM vocabulary) and a
 * FinancialPhraseBank-format file of learnable sentences: cells, skipping, resuming, failures.
 */
class StudyRunnerTest {
    @TempDir
    Path tmp;
    Path root, model, data;

    @BeforeEach
    void fixtures() throws Exception {
        root = tmp.resolve("study");
        model = tmp.resolve("tiny-bert");
        var cfg = new BertConfig(30522, 16, 2, 2, 32, 64, 2, 1e-12, "gelu", 0, 0, 3);
        Pretrained.save(new BertForSequenceClassification(cfg, DataType.FLOAT, 3), model);
        try (InputStream in = getClass().getClassLoader().getResourceAsStream("all-minilm-l6-v2-tokenizer.json")) {
            Files.copy(in, model.resolve("tokenizer.json"));
        }
        data = tmp.resolve("Sentences_50Agree.txt");
        List<String> lines = new ArrayList<>();
        Random r = new Random(7);
        String[] co = {"Nokia", "Kone", "Elisa", "Fiskars"}, verbs = {"fell", "was reported", "rose"}, labels = {"negative", "neutral", "positive"};
        for (int i = 0; i < 120; i++) {
            lines.add(co[r.nextInt(co.length)] + " net sales " + verbs[i % 3] + " in quarter " + (i + 1) + " .@" + labels[i % 3]);
        }
        Files.write(data, lines, StandardCharsets.ISO_8859_1);
    }

    private StudyRunner.Grid grid(List<String> models, List<String> techniques, StudyPresets.Overrides o) {
        return new StudyRunner.Grid(models, techniques, List.of("fpb:" + data), root, StudyPresets.Gpt2LearningRate.TABLE, o);
    }

    private static final StudyPresets.Overrides QUICK = new StudyPresets.Overrides(null, 6L, null, 32, 3L);

    @Test
    void secondRunSkipsFinishedCellsAndFailuresDoNotStopTheGrid() throws Exception {
        String missing = tmp.resolve("no-such-model").toString();
        var g = grid(List.of(model.toString(), missing), List.of("lora", "adapter"), QUICK);
        List<StudyRunner.Outcome> first = new StudyRunner().run(g);
        assertEquals(List.of(StudyRunner.Action.TRAINED, StudyRunner.Action.TRAINED, StudyRunner.Action.FAILED, StudyRunner.Action.FAILED),
                first.stream().map(StudyRunner.Outcome::action).toList());
        Path cell = CellResult.cellDir(root, "fpb", model.toString(), "lora");
        CellResult lora = CellResult.read(cell);
        assertTrue(lora.ok());
        assertEquals(6, lora.globalSteps());
        assertEquals(new CellResult.Sizes(96, 12, 12), lora.sizes(), "stratified 80/10/10 of 120");
        assertEquals(12, java.util.Arrays.stream(lora.test().confusionMatrix()).flatMapToLong(java.util.Arrays::stream).sum());
        assertTrue(lora.trainableParameters() < lora.totalParameters());
        assertEquals(Files.size(cell.resolve("adapter_model.safetensors")), lora.weightsFileBytes(), "PEFT's adapter file");
        assertTrue(lora.latencyMsMedianBatch1() > 0 && lora.throughputPerSecondBatch32() > 0);
        assertNotNull(lora.resources());
        assertNull(lora.resources().gpuMemoryMaxBytes(), "CPU backend: no GPU memory");
        assertNull(Checkpoint.latest(cell), "checkpoints are removed once a cell is done");
        for (String f : List.of(FineTunedModel.INFO_FILE, RunReporter.RESOURCES_FILE, RunReporter.LOSS_PNG, RunReporter.LR_PNG,
                StudyRunner.TEST_CONFUSION_PNG)) {
            assertTrue(Files.isRegularFile(cell.resolve(f)), f);
        }
        CellResult failed = CellResult.read(CellResult.cellDir(root, "fpb", missing, "lora"));
        assertEquals(CellResult.FAILED, failed.status());
        assertTrue(failed.error().contains("no-such-model"), failed.error());

        String finishedAt = lora.finishedAt();
        List<StudyRunner.Outcome> second = new StudyRunner().run(g);
        assertEquals(List.of(StudyRunner.Action.SKIPPED, StudyRunner.Action.SKIPPED, StudyRunner.Action.FAILED, StudyRunner.Action.FAILED),
                second.stream().map(StudyRunner.Outcome::action).toList(), "finished cells skipped, failed ones retried");
        assertEquals(finishedAt, CellResult.read(cell).finishedAt(), "left untouched");
    }

    /**
     * A cell interrupted after its checkpoint at step 6 (here: saving the model fails, because a directory stands where
     * the adapter file goes) resumes from that checkpoint on the next run and finishes the planned 9 steps.
     */
    @Test
    void anInterruptedCellResumesFromItsCheckpoint() throws Exception {
        var g = grid(List.of(model.toString()), List.of("lora"), new StudyPresets.Overrides(null, 9L, null, 32, 3L)); // saves every 6
        Path cell = CellResult.cellDir(root, "fpb", model.toString(), "lora");
        Files.createDirectories(cell.resolve("adapter_model.safetensors").resolve("blocker"));
        List<StudyRunner.Outcome> first = new StudyRunner().run(g);
        assertEquals(StudyRunner.Action.FAILED, first.get(0).action(), first.get(0).result().error());
        assertEquals(cell.resolve("checkpoint-6"), Checkpoint.latest(cell));

        Files.delete(cell.resolve("adapter_model.safetensors/blocker"));
        Files.delete(cell.resolve("adapter_model.safetensors"));
        List<StudyRunner.Outcome> second = new StudyRunner().run(g);
        assertEquals(StudyRunner.Action.RESUMED, second.get(0).action());
        CellResult r = CellResult.read(cell);
        assertTrue(r.ok() && r.resumed());
        assertEquals(9, r.globalSteps(), "continued to the planned total");

        // other settings in a directory holding an unfinished run: refused (recorded), never overwritten
        Files.delete(cell.resolve(CellResult.FILE));
        Files.delete(cell.resolve(FineTunedModel.INFO_FILE));
        var other = grid(List.of(model.toString()), List.of("lora"), new StudyPresets.Overrides(null, 9L, null, 24, 3L));
        StudyRunner.Outcome refused = new StudyRunner().run(other).get(0);
        assertEquals(StudyRunner.Action.FAILED, refused.action());
        assertTrue(refused.result().error().contains("other settings"), refused.result().error());
    }

    @Test
    void sampleOverrideTrainsOnAStratifiedSampleFile() throws Exception {
        var g = grid(List.of(model.toString()), List.of("lora"), new StudyPresets.Overrides(null, 2L, 60, 32, 2L));
        CellResult r = new StudyRunner().run(g).get(0).result();
        assertTrue(r.ok(), r.error());
        assertEquals(new CellResult.Sizes(48, 6, 6), r.sizes());
        Path sample = root.resolve(StudyRunner.SAMPLES_DIR).resolve("fpb-60.jsonl");
        assertEquals(60, Files.readAllLines(sample).size());
        assertEquals("jsonl:" + sample.toAbsolutePath(), r.settings().get("sample"));
    }
}
