package org.finsent.core.nn;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.List;

/**
 * LayerNorm over the last dimension of {@code x [N, C]}: {@code y = (x - mean)·rstd·γ + β}, with the biased
 * variance (÷C) computed in two passes and {@code rstd = 1/sqrt(var + eps)} (eps 1e-12 for BERT, 1e-5 for GPT-2).
 */
public final class LayerNorm {
    public final Parameter weight, bias; // γ, β [C]
    private final double eps;

    /** What backward needs from one forward. */
    public record Cache(INDArray xhat, INDArray rstd) {
    }

    /** A forward's output and its cache, for a caller that keeps the cache itself. */
    public record Output(INDArray y, Cache cache) {
    }

    private Cache last;
    private INDArray pendingX, pendingResidual;   // forwardInference's inputs, for a backward after it

    public LayerNorm(String name, int dim, double eps, DataType type) {
        this.weight = new Parameter(name + ".weight", Nd4j.ones(type, dim));
        this.bias = new Parameter(name + ".bias", Nd4j.zeros(type, dim));
        this.eps = eps;
    }

    public double eps() {
        return eps;
    }

    public INDArray forward(INDArray x) {
        return forward(x, (INDArray) null);
    }

    /**
     * LayerNorm of {@code x + residual} ({@code residual} may be null): BERT's post-LN residual connection. On the
     * fused path the sum is formed inside the normalisation's pass instead of as a separate array; {@code x} and
     * {@code residual} are unchanged.
     */
    public INDArray forward(INDArray x, INDArray residual) {
        Output o = fusable(x, residual) ? fused(x, residual, true)
                : forwardCached(residual == null ? x : x.add(residual));
        last = o.cache();
        pendingX = pendingResidual = null;
        return o.y();
    }

    /**
     * Inference: {@link #forward(INDArray, INDArray)} writing no x̂ and no rstd on the fused path (one write pass
     * instead of two). It keeps references to its inputs instead, so that a {@link #backward(INDArray)} after it
     * (gradients in eval mode, e.g. for attributions) recomputes them first; x and residual must then be unchanged.
     */
    public INDArray forwardInference(INDArray x, INDArray residual) {
        if (!fusable(x, residual)) return forward(x, residual);
        last = null;
        pendingX = x;
        pendingResidual = residual;
        return fused(x, residual, false).y();
    }

    /**
     * Forward that returns its cache instead of keeping it (for a LayerNorm applied twice, as Pfeiffer adapters do);
     * {@link #backward(INDArray, Cache)} takes it back.
     */
    public Output forwardCached(INDArray x) {
        if (fusable(x, null)) return fused(x, null, true);
        Cache c = normalize(x);
        return new Output(c.xhat.mulRowVector(weight.value()).addiRowVector(bias.value()), c);
    }

    /** FP32 rows where {@link HostKernels} may run (and a residual of the same shape): one fused pass. */
    private boolean fusable(INDArray x, INDArray residual) {
        return x.rank() == 2 && HostKernels.usable(x, weight.value(), bias.value())
                && (residual == null || HostKernels.usable(residual) && x.equalShapes(residual));
    }

    /** The fused pass; without {@code cache} (inference) it writes y only (the output's cache is then null). */
    private Output fused(INDArray x, INDArray residual, boolean cache) {
        INDArray y = x.ulike();
        if (!cache) {
            HostKernels.layerNorm(x, residual, weight.value(), bias.value(), eps, y, null, null);
            return new Output(y, null);
        }
        INDArray xhat = x.ulike(), rstd = Nd4j.createUninitialized(x.dataType(), x.size(0), 1);
        HostKernels.layerNorm(x, residual, weight.value(), bias.value(), eps, y, xhat, rstd);
        return new Output(y, new Cache(xhat, rstd));
    }

    private Cache normalize(INDArray x) {
        INDArray mean = x.mean(true, 1);                     // [N,1]
        INDArray xc = x.subColumnVector(mean);               // x - mean
        INDArray var = xc.mul(xc).mean(true, 1);             // biased variance
        INDArray rstd = Transforms.pow(var.addi(eps), -0.5, false);
        return new Cache(xc.muliColumnVector(rstd), rstd);
    }

    public INDArray backward(INDArray dy) {
        if (last == null && pendingX != null) forward(pendingX, pendingResidual);   // after forwardInference
        return backward(dy, last);
    }

    /**
     * term 1: dγ += Σ_n dy·x̂, dβ += Σ_n dy; term 2: dx̂ = dy·γ;
     * term 3: dx = rstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)).
     */
    public INDArray backward(INDArray dy, Cache c) {
        if (dy.rank() == 2 && HostKernels.usable(dy, c.xhat, c.rstd, weight.value())) {
            INDArray dx = dy.ulike();
            float[][] sums = HostKernels.layerNormBackward(dy, c.xhat, c.rstd, weight.value(), dx);
            if (weight.grad() != null) weight.grad().addi(Nd4j.createFromArray(sums[0]).castTo(weight.grad().dataType()));
            if (bias.grad() != null) bias.grad().addi(Nd4j.createFromArray(sums[1]).castTo(bias.grad().dataType()));
            return dx;
        }
        if (weight.grad() != null) weight.grad().addi(dy.mul(c.xhat).sum(0));
        if (bias.grad() != null) bias.grad().addi(dy.sum(0));
        INDArray dxhat = dy.mulRowVector(weight.value());
        INDArray m1 = dxhat.mean(true, 1);
        INDArray m2 = dxhat.mul(c.xhat).mean(true, 1);
        return dxhat.subiColumnVector(m1).subi(c.xhat.mulColumnVector(m2)).muliColumnVector(c.rstd);
    }

    public List<Parameter> parameters() {
        return List.of(weight, bias);
    }
}
