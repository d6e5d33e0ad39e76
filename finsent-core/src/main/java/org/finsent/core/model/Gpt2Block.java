package org.finsent.core.model;

import org.finsent.core.nn.Attention;
import org.finsent.core.nn.Dropout;
import org.finsent.core.nn.Gelu;
import org.finsent.core.nn.InsertionPoints;
import org.finsent.core.nn.LayerNorm;
import org.finsent.core.nn.Linear;
import org.finsent.core.nn.OutputHook;
import org.finsent.core.nn.Parameter;
import org.finsent.core.nn.Projection;
import org.finsent.core.nn.ProjectionSlot;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.rng.Random;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.ArrayList;
import java.util.List;

/**
 * One pre-LN GPT-2 block ({@code h.i}):
 * <pre>
 *   x1 = x  + Drop(c_proj(CausalAttn(split(c_attn(LN1(x))))))     attn.c_attn [C,3C], attn.c_proj [C,C]
 *   y  = x1 + Drop(mlp.c_proj(GELU_tanh(mlp.c_fc(LN2(x1)))))       mlp.c_fc [C,4C], mlp.c_proj [4C,C]
 * </pre>
 * Weights use the Conv1D [in, out] layout of the checkpoints. Shapes: x, x1, y {@code [B·T, C]}. {@link #forward}
 * and {@link #backward} read as these two lines; the routing ({@link LayerContext#readout}: the last block computes
 * only the rows the score head reads; inference without saved intermediates) lives in the helpers below them. An
 * {@link OutputHook} may replace the second line's residual add (Pfeiffer adapters).
 */
public final class Gpt2Block {
    private final LayerNorm ln1, ln2;
    private Projection cAttn, cProj, cFc, mlpProj;
    private final Dropout attnDrop, residDrop1, residDrop2;
    private final Gelu act;
    private final int heads, c;
    private final String prefix;
    private OutputHook outputHook;

    private LayerContext ctx;            // the last forward's
    private Attention.Cache attnCache;
    private INDArray fc;                 // c_fc's output, kept for GELU's backward (training)
    private INDArray fcInput;            // LN2(x1), after an eval forward (whose GELU overwrote c_fc's output)

    Gpt2Block(String p, Gpt2Config cfg, DataType type, Random rng) {
        this.prefix = p;
        c = cfg.nEmbd();
        ln1 = new LayerNorm(p + "ln_1", c, cfg.layerNormEpsilon(), type);
        cAttn = Linear.conv1d(p + "attn.c_attn", c, 3 * c, type);
        cProj = Linear.conv1d(p + "attn.c_proj", c, c, type);
        ln2 = new LayerNorm(p + "ln_2", c, cfg.layerNormEpsilon(), type);
        cFc = Linear.conv1d(p + "mlp.c_fc", c, cfg.nInner(), type);
        mlpProj = Linear.conv1d(p + "mlp.c_proj", cfg.nInner(), c, type);
        attnDrop = new Dropout(cfg.attnPdrop(), rng);
        residDrop1 = new Dropout(cfg.residPdrop(), rng);
        residDrop2 = new Dropout(cfg.residPdrop(), rng);
        act = Gelu.fromConfig(cfg.activationFunction());
        heads = cfg.nHead();
    }

    /** x {@code [B·T, C]}; returns the rows this block outputs (all, or with a readout {@code [B, C]}). */
    INDArray forward(INDArray x, LayerContext ctx) {
        this.ctx = ctx;
        boolean train = ctx.training();
        INDArray x1 = residDrop1.forward(cProj.forward(selfAttention(norm(ln1, x))), train).add(outputRows(x));
        INDArray h2 = norm(ln2, x1);
        INDArray f = residDrop2.forward(mlpProj.forward(gelu(cFc.forward(h2), h2)), train);
        return outputHook != null ? outputHook.forward(f, x1, null) : f.addi(x1);
    }

    /** Backward from {@code dy} (the output rows'); returns dx {@code [B·T, C]}. */
    INDArray backward(INDArray dy) {
        OutputHook.Grads d = outputHook != null ? outputHook.backward(dy) : new OutputHook.Grads(dy, dy.dup());
        INDArray dFc = geluBackward(mlpProj.backward(residDrop2.backward(d.dF())));
        INDArray dx1 = d.dResidual().addi(ln2.backward(cFc.backward(dFc)));
        INDArray dx = inputRows(dx1);                                                 // x's residual branch
        INDArray dqkv = selfAttentionBackward(cProj.backward(residDrop1.backward(dx1)));
        return dx.addi(ln1.backward(cAttn.backward(dqkv)));
    }

    // ---------------------------------------------------------------- routing

    /** The rows this block outputs: all of x, or with a readout only those ({@code [B, C]}). */
    private INDArray outputRows(INDArray x) {
        return ctx.readout() == null ? x : ctx.readout().gather(x);
    }

    /** The output rows' gradient in the layout of every row (a copy: the caller adds into it). */
    private INDArray inputRows(INDArray dOut) {
        return ctx.readout() == null ? dOut.dup() : ctx.readout().scatter(dOut);
    }

    /**
     * {@code CausalAttn(split(c_attn(h)))} for the output rows. c_attn runs on every row (keys and values need
     * them; its fused weight computes the queries alongside); with a readout only the B output rows' queries
     * attend, one per example, under {@link LayerContext#readoutMask}.
     */
    private INDArray selfAttention(INDArray h) {
        int b = ctx.batch(), t = ctx.length();
        boolean everyRow = ctx.readout() == null;
        INDArray qkv = cAttn.forward(h);                                              // [N, 3C]
        INDArray q = Attention.splitHeads(outputRows(qkv).get(NDArrayIndex.all(), NDArrayIndex.interval(0, c)), b,
                everyRow ? t : 1, heads);
        INDArray k = Attention.splitHeads(qkv.get(NDArrayIndex.all(), NDArrayIndex.interval(c, 2 * c)), b, t, heads);
        INDArray v = Attention.splitHeads(qkv.get(NDArrayIndex.all(), NDArrayIndex.interval(2 * c, 3 * c)), b, t, heads);
        if (ctx.prefix() != null) {                                                   // prefix tuning: [B,H,P+T,D]
            k = Attention.withPrefix(ctx.prefix().key(ctx.layer()), k, heads);
            v = Attention.withPrefix(ctx.prefix().value(ctx.layer()), v, heads);
        }
        Attention.Output o = Attention.forward(q, k, v, everyRow ? ctx.mask() : ctx.readoutMask(), attnDrop, ctx.training());
        attnCache = o.cache();
        return Attention.mergeHeads(o.out());
    }

    /** Backward of {@link #selfAttention}: {@code d(qkv) [B·T, 3C]} given the attention output's gradient. */
    private INDArray selfAttentionBackward(INDArray dAttn) {
        boolean everyRow = ctx.readout() == null;
        Attention.Grads g = Attention.backward(Attention.splitHeads(dAttn, ctx.batch(), everyRow ? ctx.length() : 1, heads),
                attnCache, attnDrop).routePrefix(ctx.prefix(), ctx.layer());
        INDArray dq = Attention.mergeHeads(g.dq());
        if (!everyRow) dq = ctx.readout().scatter(dq);                                // queries of B rows only
        return Nd4j.hstack(dq, Attention.mergeHeads(g.dk()), Attention.mergeHeads(g.dv()));
    }

    /** {@code LN(x)}; in eval without writing x̂ (a backward after it recomputes it). */
    private INDArray norm(LayerNorm ln, INDArray x) {
        return ctx.training() ? ln.forward(x) : ln.forwardInference(x, null);
    }

    /**
     * {@code GELU(pre)}, {@code pre = c_fc(h2)}. Training keeps pre for the backward; eval writes the activation
     * over pre and keeps h2, from which a backward after it recomputes pre (no dropout in eval: the same product).
     */
    private INDArray gelu(INDArray pre, INDArray h2) {
        fc = ctx.training() ? pre : null;
        fcInput = ctx.training() ? null : h2;
        return ctx.training() ? act.forward(pre) : act.forwardInPlace(pre);
    }

    private INDArray geluBackward(INDArray dy) {
        if (fc == null) fc = cFc.forward(fcInput);
        return act.backward(dy, fc);
    }

    // ---------------------------------------------------------------- insertion points

    /** The four projections of this block, by Hugging Face module name. */
    List<ProjectionSlot> projectionSlots() {
        String p = prefix;
        return List.of(
                new ProjectionSlot(p + "attn.c_attn", () -> cAttn, v -> cAttn = v),
                new ProjectionSlot(p + "attn.c_proj", () -> cProj, v -> cProj = v),
                new ProjectionSlot(p + "mlp.c_fc", () -> cFc, v -> cFc = v),
                new ProjectionSlot(p + "mlp.c_proj", () -> mlpProj, v -> mlpProj = v));
    }

    /** This block as an insertion point: the adapters library names its output adapters {@code <block>.output_adapters.adapters.<name>}. */
    InsertionPoints.Block block() {
        return new InsertionPoints.Block(prefix, prefix + "output_adapters.adapters.", () -> outputHook, h -> outputHook = h);
    }

    /** Hugging Face module name of this block, e.g. {@code transformer.h.3.}. */
    public String prefix() {
        return prefix;
    }

    List<Parameter> parameters() {
        List<Parameter> p = new ArrayList<>(ln1.parameters());
        p.addAll(cAttn.parameters());
        p.addAll(cProj.parameters());
        p.addAll(ln2.parameters());
        p.addAll(cFc.parameters());
        p.addAll(mlpProj.parameters());
        if (outputHook != null) p.addAll(outputHook.parameters());
        return p;
    }
}
