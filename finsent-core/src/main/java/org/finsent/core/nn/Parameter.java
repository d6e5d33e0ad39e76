package org.finsent.core.nn;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;

/**
 * A named weight tensor with its gradient. The name is the Hugging Face {@code state_dict} key
 * ({@code bert.encoder.layer.0.attention.self.query.weight}), so loaders and savers are name tables.
 *
 * <p>A frozen parameter ({@link #setTrainable(boolean) setTrainable(false)}) has no gradient buffer, and layers
 * skip the matrix products that would only feed it: PEFT training pays neither the memory nor the FLOPs.
 * Gradients accumulate ({@code +=}) until {@link #zeroGrad()}.
 */
public final class Parameter {
    private final String name;
    private INDArray value;
    private INDArray grad;

    public Parameter(String name, INDArray value) {
        this.name = name;
        this.value = value;
        this.grad = Nd4j.zeros(value.dataType(), value.shape()); // zeroed: backward accumulates into it
    }

    public String name() {
        return name;
    }

    public INDArray value() {
        return value;
    }

    /** The gradient buffer, or null when frozen. */
    public INDArray grad() {
        return grad;
    }

    public boolean trainable() {
        return grad != null;
    }

    /** Freezing drops the gradient buffer; unfreezing allocates a zeroed one. */
    public void setTrainable(boolean trainable) {
        if (trainable && grad == null) grad = Nd4j.zeros(value.dataType(), value.shape());
        if (!trainable) grad = null;
    }

    public void zeroGrad() {
        if (grad != null) grad.assign(0);
    }

    /** Copies {@code v} (same shape, any float type) into the value. */
    public void assign(INDArray v) {
        if (!Arrays.equals(v.shape(), value.shape())) {
            throw new IllegalArgumentException(name + ": shape " + Arrays.toString(v.shape()) + " does not match "
                    + Arrays.toString(value.shape()));
        }
        value.assign(v);
    }

    public long numel() {
        return value.length();
    }

    @Override
    public String toString() {
        return name + Arrays.toString(value.shape()) + (trainable() ? "" : " (frozen)");
    }
}
