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

    /** Parameters by Hugging Face name, in {@link #parameters()} order. */
    default Map<String, Parameter> namedParameters() {
        Map<String, Parameter> m = new java.util.LinkedHashMap<>();
        for (Parameter p : parameters()) m.put(p.name(), p);
        return m;
    }

    /**
     * Where parameter-efficient fine-tuning attaches (projections, block outputs, key/value prefix, virtual tokens),
     * with the Hugging Face names PEFT's files use: PEFT reaches the model through this alone.
     */
    org.finsent.core.nn.InsertionPoints insertionPoints();

    /** Every projection of the encoder/decoder (not the head), by Hugging Face module name. */
    default List<org.finsent.core.nn.ProjectionSlot> projectionSlots() {
        return insertionPoints().projections();
    }

    /** The classification head's parameters ({@code classifier.*} / {@code score.*}): PEFT's modules_to_save. */
    List<Parameter> headParameters();

    /** Hidden size, number of layers, heads (for PEFT modules that size themselves from the model). */
    int hiddenSize();

    int numLayers();

    int numHeads();

    default void zeroGrad() {
        for (Parameter p : parameters()) p.zeroGrad();
    }
}
