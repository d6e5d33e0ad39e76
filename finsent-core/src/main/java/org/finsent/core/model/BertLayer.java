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

import java.util.ArrayList;
import java.util.List;

/**
 * One post-LN BERT encoder layer ({@code encoder.layer.i}):
 * <pre>
 *   a  = LN1(x + Drop(Wo·Attn(Wq·x, Wk·x, Wv·x)))        attention.self.{query,key,value}, attention.output.{dense,LayerNorm}
 *   y  = LN2(a + Drop(W2·GELU(W1·a)))                     intermediate.dense, output.{dense,LayerNorm}
 * </pre>
 * Shapes: x, a, y {@code [B·T, C]} (see {@link #forward} for fewer rows). The projections are {@link Projection}s so PEFT can wrap them.
 */
public final class BertLayer {
    public Projection query, key, value, attnOut, intermediate, output;
    public final LayerNorm attnLn, outLn;
    private final Dropout attnProbsDrop, attnOutDrop, outDrop;
    private final Gelu act;
    private final int heads;
    /** Optional hook applied to the feed-forward output before the residual and LayerNorm (Pfeiffer adapters). */
    public OutputHook outputHook;

    private Attention.Cache attnCache;
    private KeyValuePrefix kvPrefix;
    private RowPacking packing; // null: rows are the padded layout
    private RowPacking readout; // null: every row is output; else the rows (of x's) this layer outputs
    private int index;
    private INDArray inter; // pre-activation W1·a
    private INDArray interInput; // a, after an eval forward (its inter was overwritten by the GELU)
    private final INDArray[] actSaved = new INDArray[1]; // what the activation's backward reuses (Φ(inter) for GELU)
    private int b, t;

    /** A hook on {@code LN2(f + a)}: given f (dense output after dropout), a and the LayerNorm, returns y. */
    public interface OutputHook {
        INDArray forward(INDArray f, INDArray residual, LayerNorm ln);

        /** Returns {dF, dResidual}. */
        INDArray[] backward(INDArray dy);

        List<Parameter> parameters();
    }

    private final String prefix;

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

    /**
     * x: {@code [B·T, C]} rows, or with {@code packing} only the real tokens' rows ({@code [N, C]}): then every
     * token-wise op runs on those alone and only attention sees the padded layout (zero rows at padding).
     * With {@code readout} (one row per example: its first, among x's rows) only those rows are output
     * ({@code [B, C]}): keys and values still come from every row, everything else runs on B rows (queries of
     * length 1) — the last layer under a pooler needs nothing more.
     */
    INDArray forward(INDArray x, int b, int t, INDArray mask, boolean training, KeyValuePrefix prefix, int index,
                     RowPacking packing, RowPacking readout) {
        this.b = b;
        this.t = t;
        this.kvPrefix = prefix;
        this.index = index;
        this.packing = packing;
        this.readout = readout;
        INDArray xq = readout == null ? x : readout.gather(x);               // the rows this layer outputs
        INDArray q = readout == null ? Attention.splitHeads(padded(query.forward(x)), b, t, heads)
                : Attention.splitHeads(query.forward(xq), b, 1, heads);      // [B,H,1,D]
        INDArray k = Attention.splitHeads(padded(key.forward(x)), b, t, heads);
        INDArray v = Attention.splitHeads(padded(value.forward(x)), b, t, heads);
        if (prefix != null) {                                                // prefix tuning: [B,H,P+T,D]
            k = Attention.withPrefix(prefix.key(index), k, heads);
            v = Attention.withPrefix(prefix.value(index), v, heads);
        }
        Attention.Cache[] cache = new Attention.Cache[1];
        INDArray m = readout == null || mask == null ? mask : firstQueryRow(mask);
        INDArray o = Attention.mergeHeads(Attention.forward(q, k, v, m, attnProbsDrop, training, cache));
        INDArray ctx = readout == null ? packed(o) : o;
        attnCache = cache[0];
        // eval: the LayerNorms write no x̂ and the GELU overwrites its input; a backward after it recomputes both
        INDArray h = attnOutDrop.forward(attnOut.forward(ctx), training);
        INDArray a = training ? attnLn.forward(h, xq) : attnLn.forwardInference(h, xq);          // LN(h + x)
        INDArray pre = intermediate.forward(a);
        inter = training ? pre : null;
        interInput = training ? null : a;
        INDArray f = outDrop.forward(output.forward(training ? act.forward(pre, saveForBackward())
                : act.forwardInPlace(pre)), training);
        if (outputHook != null) return outputHook.forward(f, a, outLn);
        return training ? outLn.forward(f, a) : outLn.forwardInference(f, a);
    }

    /** The additive mask's row for query position 0: {@code [B,1,T,Tk]} → {@code [B,1,1,Tk]}. */
    private static INDArray firstQueryRow(INDArray mask) {
        var all = org.nd4j.linalg.indexing.NDArrayIndex.all();
        return mask.get(all, all, org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 1), all).dup('c');
    }

    /** Token rows → the padded layout attention needs (identity without packing). */
    private INDArray padded(INDArray rows) {
        return packing == null ? rows : packing.scatter(rows);
    }

    /** The padded layout → token rows (identity without packing). */
    private INDArray packed(INDArray rows) {
        return packing == null ? rows : packing.gather(rows);
    }

    /** Where the activation leaves Φ(x) for backward (training only: eval overwrites x and keeps nothing). */
    private INDArray[] saveForBackward() {
        actSaved[0] = null;
        return actSaved;
    }

    /** Backward from {@code dy}; returns dx, or null without {@code inputGradient} (parameter gradients only). */
    INDArray backward(INDArray dy, boolean inputGradient) {
        INDArray df, da;
        if (outputHook != null) {
            INDArray[] d = outputHook.backward(dy);
            df = d[0];
            da = d[1];
        } else {
            df = outLn.backward(dy);
            da = null;                                                       // residual branch: df itself, below
        }
        if (inter == null) {   // after an eval forward, whose GELU overwrote it (eval: no dropout, the same product)
            inter = intermediate.forward(interInput);
            actSaved[0] = null;
        }
        INDArray dInter = act.backward(output.backward(outDrop.backward(df)), inter, actSaved[0]);
        // the residual branches reuse df and ds in place (nothing reads them after the products above); the
        // projections add their input gradient into them inside their GEMM
        da = intermediate.backwardAdd(dInter, da != null ? da : df);
        INDArray ds = attnLn.backward(da);                                   // d(attn_out + x)
        INDArray dctx = attnOut.backward(attnOutDrop.backward(ds));
        // with readout the queries (and ds) are the B output rows, the keys and values every row
        Attention.Grads g = Attention.backward(readout == null ? Attention.splitHeads(padded(dctx), b, t, heads)
                : Attention.splitHeads(dctx, b, 1, heads), attnCache, attnProbsDrop).routePrefix(kvPrefix, index);
        INDArray dq = Attention.mergeHeads(g.dq()), dk = packed(Attention.mergeHeads(g.dk())), dv = packed(Attention.mergeHeads(g.dv()));
        if (readout == null) dq = packed(dq);
        if (!inputGradient) {                                                // parameter gradients only
            query.backwardParameters(dq);
            key.backwardParameters(dk);
            value.backwardParameters(dv);
            return null;
        }
        query.backwardAdd(dq, ds);                                           // ds: the residual branch
        if (readout == null) {
            key.backwardAdd(dk, ds);
            value.backwardAdd(dv, ds);
            return ds;
        }
        INDArray dx = key.backward(dk);                                      // every row
        value.backwardAdd(dv, dx);
        return dx.addi(readout.scatter(ds));                                 // + the B output rows' residual branch
    }

    /** The six projections of this layer, by Hugging Face module name. */
    public List<org.finsent.core.nn.ProjectionSlot> projectionSlots() {
        String p = prefix;
        return List.of(
                new org.finsent.core.nn.ProjectionSlot(p + "attention.self.query", () -> query, v -> query = v),
                new org.finsent.core.nn.ProjectionSlot(p + "attention.self.key", () -> key, v -> key = v),
                new org.finsent.core.nn.ProjectionSlot(p + "attention.self.value", () -> value, v -> value = v),
                new org.finsent.core.nn.ProjectionSlot(p + "attention.output.dense", () -> attnOut, v -> attnOut = v),
                new org.finsent.core.nn.ProjectionSlot(p + "intermediate.dense", () -> intermediate, v -> intermediate = v),
                new org.finsent.core.nn.ProjectionSlot(p + "output.dense", () -> output, v -> output = v));
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
