package org.finsent.core.nn;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Extra key/value rows prepended inside every attention layer (prefix tuning). Rows are shared by all examples
 * of a batch; columns are head-major ({@code h·headDim + d}), like the projections' outputs.
 */
public interface KeyValuePrefix {
    /** Number of prefix rows P. */
    int length();

    /** Layer {@code layer}'s prefix keys {@code [P, C]}. */
    INDArray key(int layer);

    /** Layer {@code layer}'s prefix values {@code [P, C]}. */
    INDArray value(int layer);

    /** Receives the gradients of layer {@code layer}'s prefix keys and values, summed over the batch ({@code [P, C]}). */
    void backward(int layer, INDArray dKey, INDArray dValue);
}
