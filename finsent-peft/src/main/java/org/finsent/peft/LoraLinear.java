package org.finsent.peft;

import org.bytedeco.javacpp.FloatPointer;
import org.finsent.core.nn.Dropout;
import org.finsent.core.nn.Gemm;
import org.finsent.core.nn.Linear;
import org.finsent.core.nn.Parameter;
import org.finsent.core.nn.Projection;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.random.impl.UniformDistribution;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.List;

/**
 * LoRA around a frozen {@link Linear} (PEFT's {@code lora.Linear}):
 * <pre>
 *   y  = base(x) + s·(Drop(x)·Aᵀ)·Bᵀ          A [r, in], B [out, r], s = alpha/r (alpha/√r with rsLoRA)
 *   dB += s·dyᵀ·h,  h = Drop(x)·Aᵀ             dA += (s·dy·B)ᵀ·Drop(x)
 *   dx = base'(dy) + Drop'((s·dy·B)·A)
 * </pre>
 * A is Kaiming-uniform ({@code a=√5}: U(−1/√in, 1/√in)), B is zero, so the model is unchanged at init.
 * GPT-2's Conv1D ({@code c_attn}, stored [in, out]) gets the same A/B layout; only the merged delta is transposed
 * (PEFT's {@code fan_in_fan_out}). {@link #merge()} adds {@code s·B·A} into the base weight for zero-overhead
 * inference; {@link #unmerge()} subtracts it again.
 */
public final class LoraLinear implements Projection {
    public final Linear base;
    public final Parameter loraA, loraB;
    private final double scaling;
    private final Dropout dropout;
    private final String module;
    private boolean merged;
    private INDArray xd, h; // cached Drop(x) and Drop(x)·Aᵀ
    private boolean training;

    public LoraLinear(String module, Linear base, LoraConfig cfg) {
        this.module = module;
        this.base = base;
        int in = base.inFeatures(), out = base.outFeatures();
        var type = base.weight.value().dataType();
        loraA = new Parameter(module + ".lora_A.weight", Nd4j.zeros(type, cfg.r(), in));
        loraB = new Parameter(module + ".lora_B.weight", Nd4j.zeros(type, out, cfg.r()));
        double bound = 1 / Math.sqrt(in);
        var rng = Nd4j.getRandomFactory().getNewRandomInstance(cfg.seed() ^ module.hashCode());
        Nd4j.getExecutioner().exec(new UniformDistribution(loraA.value(), -bound, bound), rng);
        scaling = cfg.scaling();
        dropout = new Dropout(cfg.loraDropout(), Nd4j.getRandomFactory().getNewRandomInstance(cfg.seed() * 31 + module.hashCode()));
    }

    public String module() {
        return module;
    }

    public double scaling() {
        return scaling;
    }

    /** Dropout on (training) or off. */
    public void train(boolean on) {
        training = on;
    }

    @Override
    public INDArray forward(INDArray x) {
        INDArray y = base.forward(x);
        if (merged) return y;
        xd = dropout.forward(x, training);
        h = Gemm.gemm(xd, loraA.value(), false, true);                 // [N, r]
        Gemm.gemm(h, loraB.value(), y, false, true, scaling, 1.0);     // y += s·h·Bᵀ
        return y;
    }

    /** In eval (or without dropout), over a base that has a host-rows forward. */
    @Override
    public boolean forwardsRows() {
        return base.forwardsRows() && (merged || (!training || dropout.p() == 0)
                && org.finsent.core.nn.HostKernels.usable(loraA.value(), loraB.value()));
    }

    /** {@link #forward}'s products on host memory, in its order: {@code y = base(x)}, {@code y += s·(x·Aᵀ)·Bᵀ}. */
    @Override
    public void forwardRows(FloatPointer x, int rows, FloatPointer y) {
        base.forwardRows(x, rows, y);
        if (merged) return;
        int r = (int) loraA.value().size(0);
        try (FloatPointer h = new FloatPointer((long) rows * r)) {
            Gemm.productRows(x, base.inFeatures(), rows, loraA.value(), true, 1.0, 0.0, null, h, r);
            Gemm.productRows(h, r, rows, loraB.value(), true, scaling, 1.0, null, y, base.outFeatures());
        }
    }

    @Override
    public INDArray backward(INDArray dy) {
        checkUnmerged();
        return loraBackward(dy, base.backward(dy));
    }

    @Override
    public INDArray backwardAdd(INDArray dy, INDArray dxSum) {
        checkUnmerged();
        return loraBackward(dy, base.backwardAdd(dy, dxSum));
    }

    @Override
    public void backwardParameters(INDArray dy) {
        checkUnmerged();
        base.backwardParameters(dy);
        loraBackward(dy, null);
    }

    private void checkUnmerged() {
        if (merged) throw new IllegalStateException(module + ": LoRA is merged; unmerge() before training");
    }

    /** The low-rank branch's gradients; its share of dx added into {@code dx}, which it returns (null: none wanted). */
    private INDArray loraBackward(INDArray dy, INDArray dx) {
        if (loraB.grad() != null) Gemm.gemm(dy, h, loraB.grad(), true, false, scaling, 1.0);
        if (loraA.grad() == null && dx == null) return null;
        INDArray dh = Gemm.gemm(dy, loraB.value(), Nd4j.createUninitialized(dy.dataType(), dy.size(0), loraB.value().size(1)),
                false, false, scaling, 0.0);                                      // s·dy·B [N, r]
        if (loraA.grad() != null) Gemm.gemm(dh, xd, loraA.grad(), true, false, 1.0, 1.0);
        if (dx == null) return null;
        if (dropout.identity()) return Gemm.gemm(dh, loraA.value(), dx, false, false, 1.0, 1.0);   // dx += dh·A
        return dx.addi(dropout.backward(Gemm.gemm(dh, loraA.value(), false, false)));
    }

    /** The weight update {@code s·B·A} in the base weight's layout ([out,in], or [in,out] for Conv1D). */
    public INDArray deltaWeight() {
        return base.isConv1d()
                ? Gemm.gemm(loraA.value(), loraB.value(), true, true).muli(scaling)
                : Gemm.gemm(loraB.value(), loraA.value(), false, false).muli(scaling);
    }

    /** Folds the update into the base weight (refuses non-finite results, as PEFT's safe_merge). */
    public void merge() {
        if (merged) return;
        INDArray d = deltaWeight();
        INDArray w = base.weight.value().add(d);
        if (w.isNaN().any() || w.isInfinite().any()) throw new IllegalStateException(module + ": merge produced non-finite weights");
        base.weight.value().assign(w);
        merged = true;
    }

    public void unmerge() {
        if (!merged) return;
        base.weight.value().subi(deltaWeight());
        merged = false;
    }

    public boolean merged() {
        return merged;
    }

    @Override
    public int inFeatures() {
        return base.inFeatures();
    }

    @Override
    public int outFeatures() {
        return base.outFeatures();
    }

    @Override
    public List<Parameter> parameters() {
        List<Parameter> p = new ArrayList<>(base.parameters());
        p.add(loraA);
        p.add(loraB);
        return p;
    }
}
