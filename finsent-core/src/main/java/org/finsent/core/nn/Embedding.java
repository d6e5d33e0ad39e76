package org.finsent.core.nn;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;

/** Row lookup: ids {@code [N]} -> {@code [N, dim]}; backward scatter-adds into the rows used. */
public final class Embedding {
    public final Parameter weight; // [num, dim]
    private INDArray ids;

    public Embedding(String name, int num, int dim, DataType type) {
        weight = new Parameter(name + ".weight", Nd4j.zeros(type, num, dim));
    }

    /** @param ids {@code [N]} INT32 or INT64 row indices */
    public INDArray forward(INDArray ids) {
        this.ids = ids;
        long rows = weight.value().rows();
        long min = ids.minNumber().longValue(), max = ids.maxNumber().longValue();
        if (min < 0 || max >= rows) {
            throw new IllegalArgumentException(weight.name() + ": index out of range [0, " + rows + "): " + (min < 0 ? min : max));
        }
        return Nd4j.pullRows(weight.value(), 1, ids.toIntVector());
    }

    /**
     * Accumulates {@code dy [N, dim]} into the looked-up rows (repeated ids add up). No input gradient.
     * scatter_add runs with {@code lock=true}: unlocked, its threads race on repeated ids (position ids repeat in
     * every row of a batch) and lose updates.
     */
    public void backward(INDArray dy) {
        if (weight.grad() == null) return;
        Nd4j.exec(DynamicCustomOp.builder("scatter_add")
                .addInputs(weight.grad(), ids.castTo(DataType.INT64), dy).addOutputs(weight.grad())
                .addBooleanArguments(true, false).build());
    }
}
