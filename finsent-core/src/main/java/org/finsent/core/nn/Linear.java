package org.finsent.core.nn;

import org.bytedeco.javacpp.FloatPointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code y = x·Wᵀ + b}. The weight keeps Hugging Face's storage layout so checkpoints load as they are:
 * {@code [out, in]} for {@code nn.Linear} (BERT), {@code [in, out]} for GPT-2's {@code Conv1D}
 * ({@link #conv1d}); the GEMM transpose flag absorbs the difference (no transposed copies).
 * Shapes: x {@code [N, in]}, y {@code [N, out]}.
 */
public final class Linear implements Projection {
    public final Parameter weight;
    public final Parameter bias; // may be null
    private final boolean conv1d;
    private final int in, out;
    private INDArray x; // cached input

    private Linear(String name, int in, int out, boolean bias, boolean conv1d, DataType type) {
        this.in = in;
        this.out = out;
        this.conv1d = conv1d;
        this.weight = new Parameter(name + ".weight", conv1d ? Nd4j.zeros(type, in, out) : Nd4j.zeros(type, out, in));
        this.bias = bias ? new Parameter(name + ".bias", Nd4j.zeros(type, out)) : null;
    }

    /** A Hugging Face {@code nn.Linear}: weight {@code [out, in]}. */
    public static Linear linear(String name, int in, int out, boolean bias, DataType type) {
        return new Linear(name, in, out, bias, false, type);
    }

    /** A Hugging Face GPT-2 {@code Conv1D}: weight {@code [in, out]}. */
    public static Linear conv1d(String name, int in, int out, DataType type) {
        return new Linear(name, in, out, true, true, type);
    }

    public boolean isConv1d() {
        return conv1d;
    }

    @Override
    public INDArray forward(INDArray x) {
        this.x = x;
        // uninitialised: a GEMM with beta = 0 never reads its output (BLAS and cuBLAS), so zero-filling it was a wasted pass
        INDArray y = Nd4j.createUninitialized(x.dataType(), x.rows(), out);
        if (bias == null) return Gemm.gemm(x, weight.value(), y, false, !conv1d, 1.0, 0.0);
        return Gemm.gemmAddRow(x, weight.value(), bias.value(), y, false, !conv1d);   // y = x·Wᵀ + b
    }

    /** FP32 weights the fast paths may read in place. */
    @Override
    public boolean forwardsRows() {
        return HostKernels.usable(weight.value()) && (bias == null || HostKernels.usable(bias.value()));
    }

    @Override
    public void forwardRows(FloatPointer x, int rows, FloatPointer y) {
        float[] b = bias == null ? null : HostKernels.vector(bias.value());
        Gemm.productRows(x, in, rows, weight.value(), !conv1d, 1.0, b == null ? 0.0 : 1.0, b, y, out);
    }

    @Override
    public INDArray backward(INDArray dy) {
        return backward(dy, Nd4j.createUninitialized(dy.dataType(), dy.rows(), in), 0.0);
    }

    @Override
    public INDArray backwardAdd(INDArray dy, INDArray dxSum) {
        return backward(dy, dxSum, 1.0);
    }

    @Override
    public void backwardParameters(INDArray dy) {
        // dW += dyᵀ·x  ([out,in]),  or xᵀ·dy for the Conv1D layout ([in,out]); skipped when frozen
        if (weight.grad() != null) {
            if (conv1d) Gemm.gemm(x, dy, weight.grad(), true, false, 1.0, 1.0);
            else Gemm.gemm(dy, x, weight.grad(), true, false, 1.0, 1.0);
        }
        if (bias != null && bias.grad() != null) addColumnSums(dy, bias.grad());
    }

    /**
     * {@code db += Σ_n dy[n, ·]} as the product {@code 1ᵀ·dy} accumulated into db: one read of dy in the threaded
     * GEMM path; ND4J's column reduction {@code dy.sum(0)} ran many times longer (on [1024, 3072] longer than the
     * layer's weight-gradient GEMM). A few rows (a classifier head's batch) keep the reduction, and its summation
     * order; so does every path off {@link FastPaths} (the CUDA backend, the reference path).
     */
    static void addColumnSums(INDArray dy, INDArray db) {
        boolean product = FastPaths.enabled() && dy.rank() == 2 && dy.size(0) >= Gemm.MIN_ROWS_PER_THREAD;
        INDArray row = product ? db.reshape(1, db.length()) : null;
        if (row == null || !sameMemory(row, db)) {
            db.addi(dy.sum(0));                                      // few rows, or not a view of db
            return;
        }
        Gemm.gemm(Nd4j.ones(dy.dataType(), 1, dy.size(0)), dy, row, false, false, 1.0, 1.0);
    }

    /** Whether {@code view} starts where {@code a} does (a reshape that is a view, not a copy). */
    private static boolean sameMemory(INDArray view, INDArray a) {
        return view.data().addressPointer().address() + view.offset() * view.data().getElementSize()
                == a.data().addressPointer().address() + a.offset() * a.data().getElementSize();
    }

    /** Parameter gradients, then {@code dx = dy·W + beta·dx}. */
    private INDArray backward(INDArray dy, INDArray dx, double beta) {
        backwardParameters(dy);
        // dx = dy·W  (W is [out,in]; Conv1D's [in,out] is used transposed)
        return Gemm.gemm(dy, weight.value(), dx, false, conv1d, 1.0, beta);
    }

    @Override
    public int inFeatures() {
        return in;
    }

    @Override
    public int outFeatures() {
        return out;
    }

    @Override
    public List<Parameter> parameters() {
        List<Parameter> p = new ArrayList<>(2);
        p.add(weight);
        if (bias != null) p.add(bias);
        return p;
    }
}
