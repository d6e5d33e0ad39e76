package org.finsent.train;

import java.nio.file.Path;

/**
 * The loss or the gradient norm became NaN or infinite. Training stops before the optimizer step that would have
 * written non-finite values into the weights, so the model and every checkpoint on disk still hold finite values;
 * {@link #lastCheckpoint()} is the one to resume from (with a lower learning rate, say).
 */
public final class TrainingDivergedException extends IllegalStateException {
    private final long step;
    private final transient Path lastCheckpoint;

    public TrainingDivergedException(long step, String what, Path lastCheckpoint) {
        super("training diverged at global step " + step + ": " + what + "; the optimizer step was not taken. "
                + (lastCheckpoint == null ? "No checkpoint was written yet." : "Last good checkpoint: " + lastCheckpoint));
        this.step = step;
        this.lastCheckpoint = lastCheckpoint;
    }

    /** The global step (1-based) whose update was refused. */
    public long step() {
        return step;
    }

    /** The newest checkpoint written before the divergence, or null. */
    public Path lastCheckpoint() {
        return lastCheckpoint;
    }
}
