package org.finsent.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.finsent.core.io.SafeTensors;
import org.finsent.core.io.StateDict;
import org.finsent.core.io.TensorData;
import org.finsent.peft.LoraConfig;
import org.finsent.peft.Peft;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A checkpoint whose state disagrees with itself or with the run is refused with a {@link CheckpointException}
 * whose message names the file, before anything is restored: each case edits one thing in a copy of a real
 * checkpoint (LoRA on a tiny BERT, 96 examples, batch 8: 12 steps per epoch, checkpoint-5 at epoch 0, batch 5).
 */
class CheckpointValidationTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<org.finsent.core.data.Example> TRAIN = Fixtures.synthetic(96, 11);

    @TempDir
    static Path tmp;
    static Path original;

    private static TrainingArguments.Builder args(Path out) {
        return TrainingArguments.builder(out).perDeviceTrainBatchSize(8).maxSeqLength(32).loggingSteps(1).maxSteps(8)
                .saveSteps(5).evalStrategy(TrainingArguments.EvalStrategy.NO).loadBestModelAtEnd(false);
    }

    private static Trainer trainer(TrainingArguments a) {
        return new Trainer(Peft.apply(Fixtures.tinyBert(DataType.FLOAT, 5), LoraConfig.bert(4, 8)), Fixtures.tokenizer(), a, Fixtures.LABELS);
    }

    @BeforeAll
    static void oneRealCheckpoint() throws Exception {
        Path run = tmp.resolve("run");
        trainer(args(run).build()).train(TRAIN, null);
        original = run.resolve("checkpoint-5");
        assertTrue(Files.isRegularFile(original.resolve(Checkpoint.STATE)));
    }

    /** A copy of the checkpoint with its trainer_state.json edited. */
    private static Path edited(String name, Consumer<ObjectNode> edit) throws IOException {
        Path dir = tmp.resolve(name).resolve("checkpoint-5");
        Files.createDirectories(dir);
        try (Stream<Path> s = Files.list(original)) {
            for (Path f : s.toList()) Files.copy(f, dir.resolve(f.getFileName()));
        }
        ObjectNode j = (ObjectNode) JSON.readTree(dir.resolve(Checkpoint.STATE).toFile());
        edit.accept(j);
        JSON.writeValue(dir.resolve(Checkpoint.STATE).toFile(), j);
        return dir;
    }

    /** Resumes from {@code dir} and expects a refusal naming {@code file} and saying {@code what}. */
    private static void refused(Path dir, String file, String what, TrainingArguments.Builder a) {
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> trainer(a.outputDir(dir.getParent()).resumeFromCheckpoint(dir).build()).train(TRAIN, null));
        assertTrue(e.getMessage().startsWith(dir.resolve(file).toString() + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(what), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        assertFalse(Files.exists(dir.getParent().resolve(Trainer.METRICS_FILE)), "nothing ran: " + e.getMessage());
    }

    @Test
    void aStepBeyondTheRunOrThePositionIsRefused() throws Exception {
        refused(edited("step-100000", j -> j.put("global_step", 100000)), Checkpoint.STATE, "global_step 100000 is beyond total_steps 8", args(null));
        refused(edited("step-and-total", j -> {
            j.put("global_step", 100000);
            j.put("total_steps", 100000);
            ((ObjectNode) j.get("scheduler")).put("step", 100000);
        }), Checkpoint.STATE, "global_step 100000 does not match the position in the data: epoch 0, batch 5 is step 5", args(null));
        refused(edited("batch-index", j -> ((ObjectNode) j.get("rng")).put("batch_index", 7)), Checkpoint.STATE,
                "global_step 5 does not match the position in the data: epoch 0, batch 7 is step 7", args(null));
        refused(edited("batch-past-epoch", j -> ((ObjectNode) j.get("rng")).put("batch_index", 12)), Checkpoint.STATE,
                "rng.batch_index 12 is not the start of an optimizer step in an epoch of 12 batches", args(null));
        refused(edited("scheduler", j -> ((ObjectNode) j.get("scheduler")).put("step", 4)), Checkpoint.STATE,
                "scheduler.step 4 differs from global_step 5", args(null));
        refused(edited("best", j -> j.put("best_step", 3)), Checkpoint.STATE, "best_step 3 and best_metric null disagree", args(null));
        refused(edited("negative", j -> j.put("evals_without_improvement", -1)), Checkpoint.STATE, "'evals_without_improvement' is -1", args(null));
        refused(edited("missing", j -> j.remove("train_size")), Checkpoint.STATE, "'train_size' must be an integer (missing)", args(null));
        refused(edited("text", j -> j.put("global_step", "5")), Checkpoint.STATE, "'global_step' must be an integer, not \"5\"", args(null));
    }

    @Test
    void aCheckpointOfAnotherRunIsRefused() throws Exception {
        Path same = edited("other-run", j -> { });
        refused(same, Checkpoint.STATE, "written with batch size 8 x accumulation 1, this run has 4 x 1", args(null).perDeviceTrainBatchSize(4));
        // fewer steps than the checkpoint has done
        refused(same, Checkpoint.STATE, "global_step 5 is beyond this run's 3 steps", args(null).maxSteps(3));
        IOException e = assertThrows(IOException.class, () -> new Trainer(Peft.apply(Fixtures.tinyBert(DataType.FLOAT, 5),
                LoraConfig.bert(2, 8)), Fixtures.tokenizer(), args(same.getParent()).resumeFromCheckpoint(same).build(), Fixtures.LABELS)
                .train(TRAIN, null));
        assertTrue(e.getMessage().startsWith(same.resolve(Checkpoint.OPTIMIZER) + ": ") || e.getMessage().startsWith(same.resolve(Checkpoint.WEIGHTS) + ": "),
                "LoRA rank 2 against a rank-4 checkpoint names the weight file: " + e.getMessage());
        CheckpointException data = assertThrows(CheckpointException.class, () -> trainer(args(same.getParent()).resumeFromCheckpoint(same).build())
                .train(TRAIN.subList(0, 80), null));
        assertTrue(data.getMessage().contains("written for 96 training examples, this run has 80"), data.getMessage());
    }

    @Test
    void garbledOrInconsistentFilesAreRefusedNamingTheFile() throws Exception {
        Path garbled = edited("garbled", j -> { });
        Files.writeString(garbled.resolve(Checkpoint.STATE), "{\"global_step\": 5,\n \"rng\": {");
        refused(garbled, Checkpoint.STATE, "malformed JSON", args(null));

        Path shapes = edited("opt-shape", j -> { });
        StateDict opt = SafeTensors.read(shapes.resolve(Checkpoint.OPTIMIZER));
        TensorData m = opt.require("classifier.weight.exp_avg");
        opt.put(TensorData.of("classifier.weight.exp_avg", new float[(int) (m.shape()[0] * (m.shape()[1] + 1))], m.shape()[0], m.shape()[1] + 1));
        SafeTensors.write(shapes.resolve(Checkpoint.OPTIMIZER), opt);
        refused(shapes, Checkpoint.OPTIMIZER, "classifier.weight: exp_avg", args(null));

        Path names = edited("opt-names", j -> { });
        StateDict o2 = SafeTensors.read(names.resolve(Checkpoint.OPTIMIZER));
        o2.put(TensorData.of("not.a.parameter.exp_avg", new float[]{0}, 1));
        o2.remove("classifier.bias.exp_avg_sq");
        SafeTensors.write(names.resolve(Checkpoint.OPTIMIZER), o2);
        refused(names, Checkpoint.OPTIMIZER, "no AdamW state (exp_avg, exp_avg_sq, step) for the trainable parameter classifier.bias", args(null));

        Path listed = edited("listed", j -> ((com.fasterxml.jackson.databind.node.ArrayNode) j.get("trainable_parameters")).add("extra.weight"));
        refused(listed, Checkpoint.WEIGHTS, "(e.g. extra.weight is missing)", args(null));

        Path truncated = edited("truncated-weights", j -> { });
        byte[] w = Files.readAllBytes(truncated.resolve(Checkpoint.WEIGHTS));
        Files.write(truncated.resolve(Checkpoint.WEIGHTS), java.util.Arrays.copyOf(w, w.length / 2));
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.load(truncated));
        assertTrue(e.getMessage().startsWith(truncated.resolve(Checkpoint.WEIGHTS).toString()), e.getMessage());
    }
}
