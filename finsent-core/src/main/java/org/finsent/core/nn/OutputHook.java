package org.finsent.core.nn;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.List;

/**
 * A module inserted at a block's output (Pfeiffer bottleneck adapters): it replaces the block's last residual
 * connection. Without a hook a block ends in {@code y = LN(f + x)} (post-LN, BERT) or {@code y = f + x} (pre-LN,
 * GPT-2); with one, {@code y = hook(f, x, LN)}.
 */
public interface OutputHook {
    /**
     * @param f        the sub-layer's output (feed-forward output after dropout) {@code [N, C]}
     * @param residual the residual input {@code x} {@code [N, C]}
     * @param ln       the block's own LayerNorm at this point (post-LN), or null where there is none (pre-LN)
     * @return the block's output {@code [N, C]}
     */
    INDArray forward(INDArray f, INDArray residual, LayerNorm ln);

    /** The gradients of the last forward's {@code f} and {@code residual}, given {@code dy}. */
    Grads backward(INDArray dy);

    List<Parameter> parameters();

    /** {@link #backward}'s result. */
    record Grads(INDArray dF, INDArray dResidual) {
    }
}
