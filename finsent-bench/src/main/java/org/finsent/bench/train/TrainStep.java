package org.finsent.bench.train;

import org.finsent.core.model.Batch;

/** One implementation's training step (forward + backward + AdamW) on a fixed batch. */
public interface TrainStep extends AutoCloseable {
    void setBatch(Batch batch, int[] labels);

    void step();

    /** The loss of the last step (read after timing, to check that both implementations train). */
    double lastLoss();

    /** Bytes of optimizer state (AdamW's two moments) after at least one step. */
    long optimizerStateBytes();

    @Override
    void close();
}
