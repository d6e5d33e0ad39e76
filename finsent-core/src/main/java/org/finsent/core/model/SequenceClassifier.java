package org.finsent.core.model;

import org.finsent.core.nn.Parameter;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.List;
import java.util.Map;

/** A model that maps a {@link Batch} to class logits {@code [B, numLabels]} and back-propagates their gradient. */
public interface SequenceClassifier {
    INDArray forward(Batch batch);

    /** Accumulates the gradients of every trainable parameter from {@code dLogits [B, numLabels]}. */
    void backward(INDArray dLogits);

    /** Dropout on (training) or off (evaluation). */
    void train(boolean on);

    List<Parameter> parameters();

    Map<String, Parameter> namedParameters();

    default void zeroGrad() {
        for (Parameter p : parameters()) p.zeroGrad();
    }
}
