package org.finsent.train;

import java.nio.file.Path;

/**
 * Callbacks from a {@link Trainer}, so resource monitors, plots or dashboards plug in without the trainer knowing
 * them (Hugging Face's {@code TrainerCallback}, reduced to what is observed). All methods run on the training
 * thread, between optimizer steps; a slow listener slows training. An exception thrown by a listener aborts the
 * run (checkpoints already written stay valid), which is also how tests simulate a crash.
 */
public interface TrainingListener {

    /** Before the first step (after a resume: before the first step of this run). */
    default void onTrainBegin(TrainingArguments args, long totalSteps) {
    }

    /** After every optimizer step (called each step: keep it cheap), for progress displays. */
    default void onOptimizerStep(long step, long totalSteps, double loss) {
    }

    /** During an evaluation, after each batch: {@code done} of {@code total} examples evaluated. */
    default void onEvaluateProgress(long done, long total) {
    }

    /**
     * True when this listener shows progress itself (a progress bar on a terminal): the trainer then writes its
     * per-step and per-batch progress lines to the log at debug level instead of info.
     */
    default boolean showsProgress() {
        return false;
    }

    /** Every {@code loggingSteps} optimizer steps, with the entry just written to {@code training_log.jsonl}. */
    default void onStep(LogEntry entry) {
    }

    /** After each evaluation during or at the end of training. */
    default void onEvaluate(long step, double epoch, EvalResult result) {
    }

    /** After {@code checkpoint-<step>} was written completely. */
    default void onSave(long step, Path checkpoint) {
    }

    /** When training ended normally (not after an exception), with what {@link Trainer#train} returns. */
    default void onEnd(TrainResult result) {
    }
}
