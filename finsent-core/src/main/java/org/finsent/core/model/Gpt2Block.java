package org.finsent.core.model;

import org.finsent.core.nn.Attention;
import org.finsent.core.nn.Dropout;
import org.finsent.core.nn.Gelu;
import org.finsent.core.nn.KeyValuePrefix;
import org.finsent.core.nn.LayerNorm;
import org.finsent.core.nn.Linear;
import org.finsent.core.nn.Parameter;
import org.finsent.core.nn.Projection;
import org.finsent.core.nn.RowPacking;
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
 * Weights use the Conv1D [in, out] layout of the checkpoints. Shapes: x, x1, y {@code [B·T, C]}.
 */
public final class Gpt2Block {
    public final LayerNorm ln1, ln2;
    public Projection cAttn, cProj, cFc, mlpProj;
    private final Dropout attnDrop, residDrop1, residDrop2;
    private final Gelu act;
    private final int heads, c;
    /** Optional hook on the MLP output before the residual add (Pfeiffer adapters): y = hook(f, x1). */
    public OutputHook outputHook;

    private Attention.Cache attnCache;
    private KeyValuePrefix kvPrefix;
    private int index;
    private INDArray fc; // pre-activation
    private INDArray fcInput; // ln_2's output, after an eval forward (its fc was overwritten by the GELU)
    private int b, t;
    private RowPacking readout; // null: every row is output; else the rows this block outputs

    /** Hook for the feed-forward output; GPT-2 is pre-LN, so there is no LayerNorm at this point. */
    public interface OutputHook {
        INDArray forward(INDArray f, INDArray residual);

        /** Returns {dF, dResidual}. */
        INDArray[] backward(INDArray dy);

        List<Parameter> parameters();
    }

    private final String prefix;

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

    /**
     * x: {@code [B·T, C]}. With {@code readout} (one row per example among x's {@code [B·T]} rows: its last real token) only those rows are
     * output ({@code [B, C]}): c_attn still runs on every row (keys and values need them; its fused weight computes
     * queries alongside), everything after it on B rows, with one query per example under {@code readoutMask}
     * ({@code [B,1,1,Tk]}, {@link Attention#keyMask}) — the last block under the classifier's score head needs no more.
     */
    INDArray forward(INDArray x, int b, int t, INDArray mask, boolean training, KeyValuePrefix prefix, int index,
                     RowPacking readout, INDArray readoutMask) {
        this.b = b;
        this.t = t;
        this.kvPrefix = prefix;
        this.index = index;
        this.readout = readout;
        // eval: the LayerNorms write no x̂ and the GELU overwrites its input; a backward recomputes both (BertLayer too)
        INDArray qkv = cAttn.forward(training ? ln1.forward(x) : ln1.forwardInference(x, null));   // [N, 3C]
        INDArray q = readout == null ? Attention.splitHeads(qkv.get(NDArrayIndex.all(), NDArrayIndex.interval(0, c)), b, t, heads)
                : Attention.splitHeads(readout.gather(qkv).get(NDArrayIndex.all(), NDArrayIndex.interval(0, c)), b, 1, heads);
        INDArray k = Attention.splitHeads(qkv.get(NDArrayIndex.all(), NDArrayIndex.interval(c, 2 * c)), b, t, heads);
        INDArray v = Attention.splitHeads(qkv.get(NDArrayIndex.all(), NDArrayIndex.interval(2 * c, 3 * c)), b, t, heads);
        if (prefix != null) {                                                // prefix tuning: [B,H,P+T,D]
            k = Attention.withPrefix(prefix.key(index), k, heads);
            v = Attention.withPrefix(prefix.value(index), v, heads);
        }
        Attention.Cache[] cache = new Attention.Cache[1];
        INDArray ctx = Attention.mergeHeads(Attention.forward(q, k, v, readout == null ? mask : readoutMask, attnDrop,
                training, cache));
        attnCache = cache[0];
        INDArray x1 = residDrop1.forward(cProj.forward(ctx), training).add(readout == null ? x : readout.gather(x));
        INDArray h2 = training ? ln2.forward(x1) : ln2.forwardInference(x1, null);
        INDArray pre = cFc.forward(h2);
        fc = training ? pre : null;
        fcInput = training ? null : h2;
        INDArray f = residDrop2.forward(mlpProj.forward(training ? act.forward(pre) : act.forwardInPlace(pre)), training);
        return outputHook != null ? outputHook.forward(f, x1) : f.addi(x1);
    }

    INDArray backward(INDArray dy) {
        INDArray df, dx1;
        if (outputHook != null) {
            INDArray[] d = outputHook.backward(dy);
            df = d[0];
            dx1 = d[1];
        } else {
            df = dy;
            dx1 = dy.dup();                                                            // residual branch
        }
        if (fc == null) fc = cFc.forward(fcInput);   // after an eval forward, whose GELU overwrote it (no dropout: the same product)
        INDArray dFc = act.backward(mlpProj.backward(residDrop2.backward(df)), fc);
        dx1.addi(ln2.backward(cFc.backward(dFc)));
        // residual branch (with readout: the B output rows' gradient placed among every row, zero elsewhere)
        INDArray dx = readout == null ? dx1.dup() : readout.scatter(dx1);
        INDArray dctx = cProj.backward(residDrop1.backward(dx1));
        Attention.Grads g = Attention.backward(Attention.splitHeads(dctx, b, readout == null ? t : 1, heads), attnCache,
                attnDrop).routePrefix(kvPrefix, index);
        INDArray dq = Attention.mergeHeads(g.dq());
        if (readout != null) dq = readout.scatter(dq);                                // queries computed for B rows only
        INDArray dqkv = Nd4j.hstack(dq, Attention.mergeHeads(g.dk()), Attention.mergeHeads(g.dv()));
        dx.addi(ln1.backward(cAttn.backward(dqkv)));
        return dx;
    }

    /** The four projections of this block, by Hugging Face module name. */
    public List<org.finsent.core.nn.ProjectionSlot> projectionSlots() {
        String p = prefix;
        return List.of(
                new org.finsent.core.nn.ProjectionSlot(p + "attn.c_attn", () -> cAttn, v -> cAttn = v),
                new org.finsent.core.nn.ProjectionSlot(p + "attn.c_proj", () -> cProj, v -> cProj = v),
                new org.finsent.core.nn.ProjectionSlot(p + "mlp.c_fc", () -> cFc, v -> cFc = v),
                new org.finsent.core.nn.ProjectionSlot(p + "mlp.c_proj", () -> mlpProj, v -> mlpProj = v));
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
