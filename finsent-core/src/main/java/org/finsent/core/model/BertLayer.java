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
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.ArrayList;
import java.util.List;

/**
 * One post-LN BERT encoder layer ({@code encoder.layer.i}):
 * <pre>
 *   a  = LN1(x + Drop(Wo·Attn(Wq·x, Wk·x, Wv·x)))        attention.self.{query,key,value}, attention.output.{dense,LayerNorm}
 *   y  = LN2(a + Drop(W2·GELU(W1·a)))                     intermediate.dense, output.{dense,LayerNorm}
 * </pre>
 * Shapes: x, a, y {@code [B·T, C]}. {@link #forward} and {@link #backward} read as these two lines; how rows are
 * routed ({@link LayerContext}: only the real tokens' rows, only the rows the head reads, inference without saved
 * intermediates) lives in the helpers below them. The projections are {@link Projection}s so PEFT can wrap them, and
 * an {@link OutputHook} may replace the second line's residual + LN2 (Pfeiffer adapters).
 */
public final class BertLayer {
    private Projection query, key, value, attnOut, intermediate, output;
    private final LayerNorm attnLn, outLn;
    private final Dropout attnProbsDrop, attnOutDrop, outDrop;
    private final Gelu act;
    private final int heads;
    private final String prefix;
    private OutputHook outputHook;

    private LayerContext ctx;            // the last forward's
    private Attention.Cache attnCache;
    private INDArray inter;              // W1·a, kept for GELU's backward (training)
    private INDArray interInput;         // a, after an eval forward (whose GELU overwrote W1·a)
    private INDArray geluSaved;          // what GELU's backward reuses (Φ(W1·a))

    BertLayer(String p, BertConfig c, DataType type, Random rng) {
        this.prefix = p;
        int h = c.hiddenSize();
        query = Linear.linear(p + "attention.self.query", h, h, true, type);
        key = Linear.linear(p + "attention.self.key", h, h, true, type);
        value = Linear.linear(p + "attention.self.value", h, h, true, type);
        attnOut = Linear.linear(p + "attention.output.dense", h, h, true, type);
        attnLn = new LayerNorm(p + "attention.output.LayerNorm", h, c.layerNormEps(), type);
        intermediate = Linear.linear(p + "intermediate.dense", h, c.intermediateSize(), true, type);
        output = Linear.linear(p + "output.dense", c.intermediateSize(), h, true, type);
        outLn = new LayerNorm(p + "output.LayerNorm", h, c.layerNormEps(), type);
        attnProbsDrop = new Dropout(c.attentionProbsDropoutProb(), rng);
        attnOutDrop = new Dropout(c.hiddenDropoutProb(), rng);
        outDrop = new Dropout(c.hiddenDropoutProb(), rng);
        act = Gelu.fromConfig(c.hiddenAct());
        heads = c.numAttentionHeads();
    }

    /** x {@code [N, C]}: the layer's rows ({@link LayerContext#packing}); returns the rows it outputs. */
    INDArray forward(INDArray x, LayerContext ctx) {
        this.ctx = ctx;
        boolean train = ctx.training();
        INDArray xo = outputRows(x);                                                  // x (or the rows read after)
        INDArray a = addNorm(attnLn, attnOutDrop.forward(attnOut.forward(selfAttention(x, xo)), train), xo);
        INDArray f = outDrop.forward(output.forward(gelu(intermediate.forward(a), a)), train);
        return outputHook != null ? outputHook.forward(f, a, outLn) : addNorm(outLn, f, a);
    }

    /** Backward from {@code dy}; returns dx, or null without {@code inputGradient} (parameter gradients only). */
    INDArray backward(INDArray dy, boolean inputGradient) {
        OutputHook.Grads d = outputHook != null ? outputHook.backward(dy) : new OutputHook.Grads(outLn.backward(dy), null);
        INDArray dInter = geluBackward(output.backward(outDrop.backward(d.dF())));
        // residual branches are summed in place: nothing reads dF or ds after the products above, and a projection
        // adds its input gradient into the sum inside its GEMM
        INDArray da = intermediate.backwardAdd(dInter, d.dResidual() != null ? d.dResidual() : d.dF());
        INDArray ds = attnLn.backward(da);                                            // d(x + Drop(Wo·attn))
        INDArray dAttn = attnOut.backward(attnOutDrop.backward(ds));
        return selfAttentionBackward(dAttn, ds, inputGradient);                       // ds: x's residual branch
    }

    // ---------------------------------------------------------------- routing

    /** The rows this layer outputs: all of x, or with a readout only those ({@code [B, C]}). */
    private INDArray outputRows(INDArray x) {
        return ctx.readout() == null ? x : ctx.readout().gather(x);
    }

    /**
     * {@code Attn(Wq·x, Wk·x, Wv·x)} in the layout of the output rows {@code xo}. Attention needs the padded layout
     * {@code [B, H, T, D]}: packed rows are scattered into it (zero at padding, masked) and the result gathered back.
     * With a readout the queries are the B output rows (length 1), the keys and values every row.
     */
    private INDArray selfAttention(INDArray x, INDArray xo) {
        int b = ctx.batch(), t = ctx.length();
        boolean everyRow = ctx.readout() == null;
        INDArray q = everyRow ? Attention.splitHeads(padded(query.forward(x)), b, t, heads)
                : Attention.splitHeads(query.forward(xo), b, 1, heads);
        INDArray k = Attention.splitHeads(padded(key.forward(x)), b, t, heads);
        INDArray v = Attention.splitHeads(padded(value.forward(x)), b, t, heads);
        if (ctx.prefix() != null) {                                                   // prefix tuning: [B,H,P+T,D]
            k = Attention.withPrefix(ctx.prefix().key(ctx.layer()), k, heads);
            v = Attention.withPrefix(ctx.prefix().value(ctx.layer()), v, heads);
        }
        Attention.Output o = Attention.forward(q, k, v, queryMask(), attnProbsDrop, ctx.training());
        attnCache = o.cache();
        INDArray rows = Attention.mergeHeads(o.out());
        return everyRow ? packed(rows) : rows;
    }

    /** Backward of {@link #selfAttention} and of the projections; {@code ds} is x's residual branch (summed into). */
    private INDArray selfAttentionBackward(INDArray dAttn, INDArray ds, boolean inputGradient) {
        int b = ctx.batch(), t = ctx.length();
        boolean everyRow = ctx.readout() == null;
        INDArray dHeads = everyRow ? Attention.splitHeads(padded(dAttn), b, t, heads) : Attention.splitHeads(dAttn, b, 1, heads);
        Attention.Grads g = Attention.backward(dHeads, attnCache, attnProbsDrop).routePrefix(ctx.prefix(), ctx.layer());
        INDArray dq = Attention.mergeHeads(g.dq()), dk = packed(Attention.mergeHeads(g.dk())), dv = packed(Attention.mergeHeads(g.dv()));
        if (everyRow) dq = packed(dq);
        if (!inputGradient) {
            query.backwardParameters(dq);
            key.backwardParameters(dk);
            value.backwardParameters(dv);
            return null;
        }
        query.backwardAdd(dq, ds);
        if (everyRow) {
            key.backwardAdd(dk, ds);
            value.backwardAdd(dv, ds);
            return ds;
        }
        INDArray dx = key.backward(dk);                                               // every row
        value.backwardAdd(dv, dx);
        return dx.addi(ctx.readout().scatter(ds));                                    // + the output rows' residual
    }

    /** The attention mask of the queries: every row's, or with a readout query position 0's ({@code [B,1,1,Tk]}). */
    private INDArray queryMask() {
        INDArray mask = ctx.mask();
        if (ctx.readout() == null || mask == null) return mask;
        var all = NDArrayIndex.all();
        return mask.get(all, all, NDArrayIndex.interval(0, 1), all).dup('c');
    }

    /** Token rows → the padded layout attention needs (identity without packing). */
    private INDArray padded(INDArray rows) {
        return ctx.packing() == null ? rows : ctx.packing().scatter(rows);
    }

    /** The padded layout → token rows (identity without packing). */
    private INDArray packed(INDArray rows) {
        return ctx.packing() == null ? rows : ctx.packing().gather(rows);
    }

    /** {@code LN(h + residual)}; in eval without writing x̂ (a backward after it recomputes it). */
    private INDArray addNorm(LayerNorm ln, INDArray h, INDArray residual) {
        return ctx.training() ? ln.forward(h, residual) : ln.forwardInference(h, residual);
    }

    /**
     * {@code GELU(pre)}, {@code pre = W1·a}. Training keeps pre and Φ(pre) for the backward; eval writes the
     * activation over pre and keeps a instead, from which a backward after it recomputes pre (eval has no dropout,
     * so the product is the same).
     */
    private INDArray gelu(INDArray pre, INDArray a) {
        if (ctx.training()) {
            Gelu.Output o = act.forwardSaving(pre);
            inter = pre;
            interInput = null;
            geluSaved = o.saved();
            return o.y();
        }
        inter = null;
        interInput = a;
        geluSaved = null;
        return act.forwardInPlace(pre);
    }

    private INDArray geluBackward(INDArray dy) {
        if (inter == null) inter = intermediate.forward(interInput);
        return act.backward(dy, inter, geluSaved);
    }

    /**
     * This layer's parts for {@link SingleSequenceForward}, or null when an adapter replaces its output or one of its
     * projections has no host-rows forward ({@link Projection#forwardsRows}).
     */
    SingleSequenceForward.Layer plainParts() {
        if (outputHook != null) return null;
        for (Projection p : List.of(query, key, value, attnOut, intermediate, output)) if (!p.forwardsRows()) return null;
        return new SingleSequenceForward.Layer(query, key, value, attnOut, attnLn, intermediate, output, outLn, act, heads);
    }

    // ---------------------------------------------------------------- insertion points

    /** The six projections of this layer, by Hugging Face module name. */
    List<ProjectionSlot> projectionSlots() {
        String p = prefix;
        return List.of(
                new ProjectionSlot(p + "attention.self.query", () -> query, v -> query = v),
                new ProjectionSlot(p + "attention.self.key", () -> key, v -> key = v),
                new ProjectionSlot(p + "attention.self.value", () -> value, v -> value = v),
                new ProjectionSlot(p + "attention.output.dense", () -> attnOut, v -> attnOut = v),
                new ProjectionSlot(p + "intermediate.dense", () -> intermediate, v -> intermediate = v),
                new ProjectionSlot(p + "output.dense", () -> output, v -> output = v));
    }

    /** This layer as an insertion point: the adapters library names its output adapters {@code <layer>.output.adapters.<name>}. */
    InsertionPoints.Block block() {
        return new InsertionPoints.Block(prefix, prefix + "output.adapters.", () -> outputHook, h -> outputHook = h);
    }

    /** Hugging Face module name of this layer, e.g. {@code bert.encoder.layer.3.}. */
    public String prefix() {
        return prefix;
    }

    List<Parameter> parameters() {
        List<Parameter> p = new ArrayList<>();
        for (Projection pr : List.of(query, key, value, attnOut)) p.addAll(pr.parameters());
        p.addAll(attnLn.parameters());
        p.addAll(intermediate.parameters());
        p.addAll(output.parameters());
        p.addAll(outLn.parameters());
        if (outputHook != null) p.addAll(outputHook.parameters());
        return p;
    }
}
