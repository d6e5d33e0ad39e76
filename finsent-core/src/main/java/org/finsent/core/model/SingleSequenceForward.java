package org.finsent.core.model;

import org.bytedeco.javacpp.FloatPointer;
import org.finsent.core.nn.Attention;
import org.finsent.core.nn.Gelu;
import org.finsent.core.nn.HostKernels;
import org.finsent.core.nn.LayerNorm;
import org.finsent.core.nn.Projection;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.FloatBuffer;
import java.util.List;

/**
 * BERT's eval forward for one sequence without padding (a batch of one text: what {@code finsent serve} and
 * {@code predict} answer most of the time), on host memory: the embeddings, then per layer
 * <pre>
 *   q, k, v = x·Wqᵀ + bq, x·Wkᵀ + bk, x·Wvᵀ + bv       three direct BLAS products
 *   a = LN1(x + Wo·Attn(q, k, v) + bo)                  attention per head (Attention.forwardRows), one product, one kernel
 *   y = LN2(a + W2·GELU(W1·a + b1) + b2)                two products, GELU in place, one kernel
 * </pre>
 * on per-thread buffers allocated once, with no ND4J array or op between the token ids and the last hidden state.
 *
 * <p>Why: for a few rows the products are a small part of {@link BertLayer#forward}'s time; ND4J's per-op dispatch,
 * array allocation and view bookkeeping (tens of calls per layer) cost more. The arithmetic here is BertLayer's in eval,
 * call for call — the same BLAS blocks ({@link Projection#forwardRows}), kernels ({@link HostKernels}) and order of sums —
 * so every hidden state is bit-identical to it ({@code SingleSequenceForwardTest}). It runs only where that holds
 * ({@link #applies}): FP32 on the fast paths, eval, one example with every token real, no prefix or prompt, no
 * adapter on a layer's output, and projections with a host-rows forward (plain linear layers and LoRA).
 */
final class SingleSequenceForward {
    private SingleSequenceForward() {
    }

    /** One layer's parts, when they are plain (see {@link BertLayer#plainParts}). */
    record Layer(Projection query, Projection key, Projection value, Projection attnOut, LayerNorm attnLn,
                 Projection intermediate, Projection output, LayerNorm outLn, Gelu act, int heads) {
    }

    /**
     * The forward's outputs: the last hidden state {@code [T, C]} (with {@code readout}, row 0 only, the rest zero, as
     * {@link BertModel#poolerRowsOnly} gives) and every hidden state as rows (embeddings, then each layer's).
     */
    record Result(INDArray last, float[][] states) {
    }

    /** Whether this path computes {@code model.forward(batch)} (see the class comment); {@code layers} from it. */
    static boolean applies(BertModel model, Batch batch, List<Layer> layers) {
        if (model.training() || model.type != DataType.FLOAT || layers == null || !HostKernels.usable(model.word.weight.value())) {
            return false;
        }
        if (batch.batchSize() != 1 || batch.seqLen() < 1) return false;
        for (int m : batch.attentionMask()[0]) if (m == 0) return false;
        return true;
    }

    /** The forward of the one sequence of {@code batch}; {@code readout}: the last layer computes row 0 only. */
    static Result run(BertModel model, Batch batch, List<Layer> layers, boolean readout) {
        BertConfig c = model.config;
        int t = batch.seqLen(), cols = c.hiddenSize();
        if (t > c.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("sequence length " + t + " exceeds max_position_embeddings " + c.maxPositionEmbeddings());
        }
        Buffers w = Buffers.get(t, cols, c.intermediateSize(), c.numAttentionHeads());
        float[][] states = new float[layers.size() + 1][];
        try {
            embed(model, batch, w);
            states[0] = w.copy(w.xb, t * cols);
            for (int i = 0; i < layers.size(); i++) {
                boolean last = i == layers.size() - 1;
                layer(layers.get(i), w, t, cols, c.intermediateSize(), last && readout);
                states[i + 1] = w.copy(w.xb, (last && readout ? 1 : t) * cols);
            }
        } finally {
            if (!w.cached) w.free();
        }
        INDArray out = last(states[layers.size()], t, cols);
        if (readout) states[layers.size()] = out.data().asFloat();   // the padded layout, as hiddenStates() gives
        return new Result(out, states);
    }

    /** {@code x = LN(word[ids] + position[0..T) + tokenType[types])}: BertModel's sums, in its order. */
    private static void embed(BertModel m, Batch batch, Buffers w) {
        int t = batch.seqLen(), cols = m.config.hiddenSize();
        int[] ids = batch.inputIds()[0], types = batch.tokenTypeIds()[0];
        check(m.word.weight.value(), ids, m.word.weight.name());
        check(m.tokenType.weight.value(), types, m.tokenType.weight.name());
        FloatBuffer word = HostKernels.floats(m.word.weight.value()), pos = HostKernels.floats(m.position.weight.value());
        FloatBuffer type = HostKernels.floats(m.tokenType.weight.value());
        float[] row = w.row, p = w.row2, ty = w.row3;
        for (int i = 0; i < t; i++) {
            word.get(ids[i] * cols, row, 0, cols);
            pos.get(i * cols, p, 0, cols);
            type.get(types[i] * cols, ty, 0, cols);
            for (int j = 0; j < cols; j++) row[j] = (row[j] + p[j]) + ty[j];
            w.hb.put(i * cols, row, 0, cols);
        }
        layerNorm(m.embLn, w.hb, null, w.xb, t, cols);
    }

    /** Embedding's own range check, with its message. */
    private static void check(INDArray table, int[] ids, String name) {
        long rows = table.rows();
        for (int id : ids) {
            if (id < 0 || id >= rows) throw new IllegalArgumentException(name + ": index out of range [0, " + rows + "): " + id);
        }
    }

    /** One BertLayer in eval: x (t rows) → x (t rows, or row 0 only with {@code readout}). */
    private static void layer(Layer l, Buffers w, int t, int cols, int inter, boolean readout) {
        int rows = readout ? 1 : t;                     // the rows this layer outputs (queries)
        l.query().forwardRows(w.x, rows, w.q);
        l.key().forwardRows(w.x, t, w.k);
        l.value().forwardRows(w.x, t, w.v);
        Attention.forwardRows(w.q, w.k, w.v, w.ctx, cols, l.heads(), rows, t, w.s);
        l.attnOut().forwardRows(w.ctx, rows, w.h);
        layerNorm(l.attnLn(), w.hb, w.xb, w.ab, rows, cols);                 // a = LN1(h + x)
        l.intermediate().forwardRows(w.a, rows, w.inter);
        if (l.act() == Gelu.ERF) HostKernels.geluErf(w.interb, w.interb, null, rows * inter);
        else HostKernels.geluTanh(w.interb, w.interb, rows * inter);
        l.output().forwardRows(w.inter, rows, w.h);
        layerNorm(l.outLn(), w.hb, w.ab, w.xb, rows, cols);                  // y = LN2(f + a), over x
    }

    /** {@code y = LN(x + residual)} on rows, as {@link LayerNorm#forwardInference}. */
    private static void layerNorm(LayerNorm ln, FloatBuffer x, FloatBuffer residual, FloatBuffer y, int rows, int cols) {
        HostKernels.layerNorm(x, residual, HostKernels.vector(ln.weight.value()), HostKernels.vector(ln.bias.value()),
                ln.eps(), y, null, null, rows, cols);
    }

    /** The last hidden state as BertModel returns it: {@code [T, C]}, zero below row 0 when only it was computed. */
    private static INDArray last(float[] rows, int t, int cols) {
        INDArray out = rows.length == t * cols ? Nd4j.createUninitialized(DataType.FLOAT, t, cols) : Nd4j.zeros(DataType.FLOAT, t, cols);
        HostKernels.floats(out).put(0, rows, 0, rows.length);
        return out;
    }

    /**
     * Per-thread buffers for one sequence (native memory), kept for the thread's life up to {@value #KEPT_ROWS} rows
     * (under 3 MB for MiniLM, 6 MB for BERT-Base); a longer sequence gets buffers freed after its forward.
     */
    private static final class Buffers {
        static final int KEPT_ROWS = 128;
        private static final ThreadLocal<Buffers> LOCAL = new ThreadLocal<>();
        final int t, cols, interSize, heads;
        boolean cached;
        final FloatPointer x, q, k, v, ctx, h, a, inter, s;
        final FloatBuffer xb, hb, ab, interb;
        final float[] row, row2, row3;

        private Buffers(int t, int cols, int interSize, int heads) {
            this.t = t;
            this.cols = cols;
            this.interSize = interSize;
            this.heads = heads;
            long n = (long) t * cols;
            x = new FloatPointer(n);
            q = new FloatPointer(n);
            k = new FloatPointer(n);
            v = new FloatPointer(n);
            ctx = new FloatPointer(n);
            h = new FloatPointer(n);
            a = new FloatPointer(n);
            inter = new FloatPointer((long) t * interSize);
            s = new FloatPointer((long) heads * t * t);
            xb = x.asBuffer();
            hb = h.asBuffer();
            ab = a.asBuffer();
            interb = inter.asBuffer();
            row = new float[cols];
            row2 = new float[cols];
            row3 = new float[cols];
        }

        static Buffers get(int t, int cols, int interSize, int heads) {
            Buffers w = LOCAL.get();
            if (w != null && w.t >= t && w.cols == cols && w.interSize == interSize && w.heads == heads) return w;
            int rows = (t + 31) / 32 * 32;   // steps of 32, so that a server's texts settle on a few sizes
            Buffers fresh = new Buffers(rows, cols, interSize, heads);
            if (rows <= KEPT_ROWS) {
                if (w != null) w.free();
                fresh.cached = true;
                LOCAL.set(fresh);
            }
            return fresh;
        }

        void free() {
            for (FloatPointer p : new FloatPointer[]{x, q, k, v, ctx, h, a, inter, s}) p.deallocate();
        }

        float[] copy(FloatBuffer from, int n) {
            float[] out = new float[n];
            from.get(0, out, 0, n);
            return out;
        }
    }
}
