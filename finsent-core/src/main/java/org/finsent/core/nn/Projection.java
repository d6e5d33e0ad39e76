package org.finsent.core.nn;

import org.bytedeco.javacpp.FloatPointer;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.List;

/**
 * An affine map on rows, {@code [N, in] -> [N, out]}. Models hold their projections through this interface so a
 * PEFT method can wrap one (LoRA keeps the frozen base and adds its low-rank branch) without the model knowing.
 */
public interface Projection {
    /** {@code x [N, in] -> y [N, out]}; caches what {@link #backward} needs. */
    INDArray forward(INDArray x);

    /** Given {@code dy [N, out]}, accumulates parameter gradients and returns {@code dx [N, in]}. */
    INDArray backward(INDArray dy);

    /**
     * {@link #backward} with {@code dx} added into {@code dxSum [N, in]} (a residual branch's gradient) instead of
     * returned; returns {@code dxSum}. {@link Linear} folds the sum into its product (GEMM with beta = 1), which
     * saves the result's allocation, BLAS's zeroing of it and the separate add.
     */
    default INDArray backwardAdd(INDArray dy, INDArray dxSum) {
        return dxSum.addi(backward(dy));
    }

    /**
     * {@link #backward}'s parameter gradients without {@code dx}: for the first layer when nothing below it trains
     * (LoRA, adapters, prefix tuning leave the embeddings frozen), which saves the input-gradient product.
     */
    default void backwardParameters(INDArray dy) {
        backward(dy);
    }

    /**
     * Whether {@link #forwardRows} computes this projection's eval forward on host memory (a model's single-sequence
     * path); false keeps the model on its layers' path. Default: no.
     */
    default boolean forwardsRows() {
        return false;
    }

    /**
     * The eval forward on host memory, where {@link #forwardsRows}: {@code x [rows, in]} → {@code y [rows, out]},
     * both row-major and dense at the pointers' positions; the same bits as {@link #forward} on arrays of that layout.
     * Keeps nothing for a backward.
     */
    default void forwardRows(FloatPointer x, int rows, FloatPointer y) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " has no host-rows forward");
    }

    int inFeatures();

    int outFeatures();

    List<Parameter> parameters();
}
