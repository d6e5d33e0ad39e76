package org.finsent.study;

import org.finsent.core.data.Example;
import org.finsent.core.model.BertConfig;
import org.finsent.core.model.BertForSequenceClassification;
import org.finsent.tokenizers.Tokenizer;
import org.finsent.tokenizers.TokenizerLoader;
import org.finsent.train.Checkpoint;
import org.finsent.train.ModelSources;
import org.finsent.train.TrainingListener;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The grid runner on a tiny BERT and synthetic sentences: cells, skipping, resuming, failures. */
class StudyRunnerTest {
    @TempDir
    Path root;

    private static Tokenizer tokenizer;

    static synchronized Tokenizer tokenizer() throws IOException {
        if (tokenizer == null) {
            try (InputStream in = StudyRunnerTest.class.getClassLoader().getResourceAsStream("all-minilm-l6-v2-tokenizer.json")) {
                tokenizer = TokenizerLoader.fromTokenizerJson(in, Path.of("all-minilm-l6-v2-tokenizer.json"));
            }
        }
        return tokenizer;
    }

    /** "tiny": a 2-layer, 16-wide BERT over the MiniLM vocabulary (dropout 0); anything else fails to load. */
    static final StudyModels TINY = (spec, numLabels, seed) -> {
        if (!spec.equals("tiny")) throw new java.nio.file.NoSuchFileException(spec, null, "no such model");
        var cfg = new BertConfig(30522, 16, 2, 2, 32, 64, 2, 1e-12, "gelu", 0, 0, numLabels);
        return new ModelSources.Source(spec, "bert", new BertForSequenceClassification(cfg, DataType.FLOAT, seed), tokenizer(),
                Map.of("tokenizer.json", () -> StudyRunnerTest.class.getClassLoader().getResourceAsStream("all-minilm-l6-v2-tokenizer.json")));
    };

    /** Learnable sentences: "rose" positive, "fell" negative, neither neutral. */
    static List<Example> synthetic(int n) {
        Random r = new Random(7);
        List<Example> out = new ArrayList<>();
        String[] co = {"Nokia", "Kone", "Elisa", "Fiskars"};
        for (int i = 0; i < n; i++) {
            int label = i % 3;
            String verb = label == 2 ? "rose" : label == 0 ? "fell" : "was reported";
            out.add(new Example(co[r.nextInt(co.length)] + " net sales " + verb + " in quarter " + (i + 1) + " .", label, "syn:" + i));
        }
        return out;
    }

    private StudyRunner.Grid grid(List<String> models, List<String> techniques) {
        return new StudyRunner.Grid(models, techniques, List.of("fpb"), root, StudyPresets.Gpt2LearningRate.TABLE,
                new StudyPresets.Overrides(null, 6L, null, 32, 3L));
    }

    @Test
    void secondRunSkipsFinishedCellsAndFailuresDoNotStopTheGrid() throws Exception {
        AtomicInteger reads = new AtomicInteger();
        StudyData.Reader reader = spec -> {
            reads.incrementAndGet();
            return synthetic(120);
        };
        var g = grid(List.of("tiny", "missing-model"), List.of("lora", "adapter"));
        List<StudyRunner.Outcome> first = new StudyRunner(TINY, reader).run(g);
        assertEquals(List.of(StudyRunner.Action.TRAINED, StudyRunner.Action.TRAINED, StudyRunner.Action.FAILED, StudyRunner.Action.FAILED),
                first.stream().map(StudyRunner.Outcome::action).toList());
        assertEquals(1, reads.get(), "a data set is read once per run");
        CellResult lora = CellResult.read(CellResult.cellDir(root, "fpb", "tiny", "lora"));
        assertTrue(lora.ok());
        assertEquals(6, lora.globalSteps());
        assertEquals(new CellResult.Sizes(96, 12, 12), lora.sizes(), "stratified 80/10/10 of 120");
        assertEquals(12, java.util.Arrays.stream(lora.test().confusionMatrix()).flatMapToLong(java.util.Arrays::stream).sum());
        assertTrue(lora.trainableParameters() < lora.totalParameters());
        Path model = CellResult.cellDir(root, "fpb", "tiny", "lora").resolve(StudyRunner.MODEL_DIR);
        assertEquals(Files.size(model.resolve("adapter_model.safetensors")), lora.weightsFileBytes(), "PEFT's adapter file");
        assertTrue(Files.isRegularFile(model.resolve(org.finsent.train.FineTunedModel.INFO_FILE)));
        for (String f : List.of(org.finsent.report.RunReporter.RESOURCES_FILE, org.finsent.report.RunReporter.LOSS_PNG,
                org.finsent.report.RunReporter.LR_PNG, org.finsent.report.RunReporter.CONFUSION_PNG)) {
            assertTrue(Files.isRegularFile(CellResult.cellDir(root, "fpb", "tiny", "lora").resolve(f)), f);
        }
        assertTrue(lora.latencyMsMedianBatch1() > 0 && lora.throughputPerSecondBatch32() > 0);
        assertNotNull(lora.resources());
        assertNull(lora.resources().gpuMemoryMaxBytes(), "CPU backend: no GPU memory");
        assertNull(Checkpoint.latest(CellResult.cellDir(root, "fpb", "tiny", "lora")), "checkpoints are removed once a cell is done");
        CellResult failed = CellResult.read(CellResult.cellDir(root, "fpb", "missing-model", "lora"));
        assertEquals(CellResult.FAILED, failed.status());
        assertTrue(failed.error().contains("missing-model"), failed.error());

        String finishedAt = lora.finishedAt();
        List<StudyRunner.Outcome> second = new StudyRunner(TINY, reader).run(g);
        assertEquals(List.of(StudyRunner.Action.SKIPPED, StudyRunner.Action.SKIPPED, StudyRunner.Action.FAILED, StudyRunner.Action.FAILED),
                second.stream().map(StudyRunner.Outcome::action).toList(), "finished cells skipped, failed ones retried");
        assertEquals(finishedAt, CellResult.read(CellResult.cellDir(root, "fpb", "tiny", "lora")).finishedAt(), "left untouched");
        assertEquals(2, reads.get(), "retrying the failed cells needed the data again");
    }

    @Test
    void anInterruptedCellResumesFromItsCheckpoint() throws Exception {
        var g = grid(List.of("tiny"), List.of("lora"));
        // eval/log every 3 steps, so a checkpoint every 6; a listener throwing at the step-9 log leaves checkpoint-6
        g = new StudyRunner.Grid(g.models(), g.techniques(), g.data(), root, g.gpt2Lr(), new StudyPresets.Overrides(null, 9L, null, 32, 3L));
        TrainingListener crash = new TrainingListener() {
            @Override
            public void onStep(org.finsent.train.LogEntry e) {
                if (e.step() >= 7) throw new IllegalStateException("simulated crash at step " + e.step());
            }
        };
        Path dir = CellResult.cellDir(root, "fpb", "tiny", "lora");
        List<StudyRunner.Outcome> first = new StudyRunner(TINY, s -> synthetic(120), crash).run(g);
        assertEquals(StudyRunner.Action.FAILED, first.get(0).action());
        assertTrue(first.get(0).result().error().contains("simulated crash"));
        assertEquals(dir.resolve("checkpoint-6"), Checkpoint.latest(dir));

        List<StudyRunner.Outcome> second = new StudyRunner(TINY, s -> synthetic(120)).run(g);
        assertEquals(StudyRunner.Action.RESUMED, second.get(0).action());
        CellResult r = CellResult.read(dir);
        assertTrue(r.ok() && r.resumed());
        assertEquals(9, r.globalSteps(), "continued to the planned total");

        // a checkpoint written under other settings is not resumed: the cell restarts
        Files.delete(dir.resolve(CellResult.FILE));
        var other = new StudyRunner.Grid(g.models(), g.techniques(), g.data(), root, g.gpt2Lr(), new StudyPresets.Overrides(null, 9L, null, 24, 3L));
        new StudyRunner(TINY, s -> synthetic(120), crash).run(other);
        assertEquals(dir.resolve("checkpoint-6"), Checkpoint.latest(dir));
        assertEquals(StudyRunner.Action.TRAINED, new StudyRunner(TINY, s -> synthetic(120)).run(g).get(0).action(),
                "max length 24's checkpoint is not resumed under max length 32");
    }
}
