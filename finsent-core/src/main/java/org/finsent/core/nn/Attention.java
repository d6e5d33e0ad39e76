package org.finsent.core.nn;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.global.openblas_nolapack;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Scaled dot-product attention over all heads and examples at once (batched GEMMs, {@link BatchedMatmul}):
 * <pre>
 *   S = Q·Kᵀ/√D + M        Q [B,H,T,D], K,V [B,H,Tk,D], M [B,1,T,Tk] additive mask (0 or the dtype's min)
 *   P = softmax(S)          over the keys (last dim); P' = Dropout(P)
 *   O = P'·V                [B,H,T,D]
 * </pre>
 * Backward: dV = P'ᵀ·dO; dP = Dropout'(dO·Vᵀ); dS = P ∘ (dP − rowsum(dP ∘ P)); dQ = dS·K/√D; dK = dSᵀ·Q/√D.
 * Tk may exceed T (prefix-tuning rows are prepended to K and V).
 */
public final class Attention {
    private Attention() {
    }

    /** What backward needs. */
    public record Cache(INDArray q, INDArray k, INDArray v, INDArray probs, INDArray dropped, double scale) {
    }

    /** The forward's output {@code O [B,H,T,D]} and what its backward needs. */
    public record Output(INDArray out, Cache cache) {
    }

    /** The gradients of Q, K, V. */
    public record Grads(INDArray dq, INDArray dk, INDArray dv) {
        /**
         * Hands the prefix rows' share of dK and dV to {@code prefix} (layer {@code layer}) and returns the tokens'
         * part; the identity when there is no prefix.
         */
        public Grads routePrefix(KeyValuePrefix prefix, int layer) {
            if (prefix == null) return this;
            INDArray[] sk = splitPrefix(dk, prefix.length()), sv = splitPrefix(dv, prefix.length());
            prefix.backward(layer, sk[0], sv[0]);
            return new Grads(dq, sk[1], sv[1]);
        }
    }

    /**
     * {@code O = Dropout(softmax(Q·Kᵀ/√D + M))·V}. FP32 on the CPU backend with {@link FastPaths} on, the scores,
     * softmax and (without dropout) output run fused per group of heads; anywhere else as ND4J ops.
     *
     * @param mask    additive mask {@code [B,1,T,Tk]} or null
     * @param dropout attention-probability dropout (null: none)
     */
    public static Output forward(INDArray q, INDArray k, INDArray v, INDArray mask, Dropout dropout, boolean training) {
        long b = q.size(0), h = q.size(1), t = q.size(2), tk = k.size(2);
        double scale = 1 / Math.sqrt(q.size(3));
        boolean maskFits = mask == null || HostKernels.usable(mask) && mask.rank() == 4
                && mask.size(0) == b && mask.size(1) == 1 && mask.size(2) == t && mask.size(3) == tk;
        // the fused path: FP32 on the CPU, Q, K and V laid out so that BLAS reads them in place
        if (maskFits && q.dataType() == DataType.FLOAT && v.dataType() == DataType.FLOAT && HostKernels.active()
                && BatchedMatmul.Direct.usable(q, k, null) && BatchedMatmul.Direct.layout(v) != null) {
            INDArray s = Nd4j.createUninitialized(q.dataType(), new long[]{b, h, t, tk}, 'c');   // [B,H,T,Tk]
            INDArray o = headsOut(q, t);
            boolean drops = dropout != null && training && dropout.p() > 0;
            fusedForward(q, k, v, mask, scale, s, drops ? null : o);
            INDArray dropped = dropout == null ? s : dropout.forward(s, training);       // identity unless drops
            if (drops) BatchedMatmul.matmul(dropped, v, false, false, 1.0, o);
            return new Output(o, new Cache(q, k, v, s, dropped, scale));
        }
        INDArray s = BatchedMatmul.matmul(q, k, false, true, scale);            // [B,H,T,Tk]
        if (HostKernels.usable(s) && maskFits) {
            HostKernels.softmaxRows(s, mask);                                      // one fused pass per row
        } else {
            if (mask != null) s.addi(mask);
            INDArray s2 = s.reshape(b * h * t, tk);
            s2.subiColumnVector(s2.max(true, 1));
            Transforms.exp(s2, false);
            s2.diviColumnVector(s2.sum(true, 1));
        }
        INDArray probs = s;                                                        // softmax, in place
        INDArray dropped = dropout == null ? probs : dropout.forward(probs, training);
        INDArray o = BatchedMatmul.matmul(dropped, v, false, false, 1.0, headsOut(q, t)); // [B,H,T,D]
        return new Output(o, new Cache(q, k, v, probs, dropped, scale));
    }

    /**
     * The FP32 CPU forward: {@code S = scale·Q·Kᵀ}, {@code P = softmax(S + M)} in place and, when {@code o} is given
     * (no attention dropout), {@code O = P·V} — each group of (example, head) matrices on one thread from start to
     * end, while its scores are still in that core's cache, in one hand-off to the threads instead of three. Each
     * product and row runs the same BLAS calls and kernel arithmetic as the separate passes: the results are
     * bit-identical to them.
     */
    private static void fusedForward(INDArray q, INDArray k, INDArray v, INDArray mask, double scale, INDArray s,
                                     INDArray o) {
        long h = q.size(1), batch = q.size(0) * h;
        int t = (int) q.size(2), tk = (int) k.size(2), d = (int) q.size(3);
        java.nio.FloatBuffer bs = HostKernels.floats(s), bm = mask == null ? null : HostKernels.floats(mask);
        int threads = HostThreads.threads();
        // a few groups per thread: balance at little hand-off cost (as BatchedMatmul shares out products)
        int groups = (int) (threads <= 1 || batch < 2L * threads ? 1 : Math.min(batch, 4L * threads));
        Gemm.singleThreadedBlas(() -> HostThreads.parallelFor(groups, g -> {
            long from = batch * g / groups, to = batch * (g + 1) / groups;
            BatchedMatmul.Direct.gemms(q, k, s, false, true, scale, t, tk, d, from, to);
            HostKernels.softmaxRowRange(bs, bm, h, t, tk, (int) (from * t), (int) (to * t));
            if (o != null) BatchedMatmul.Direct.gemms(s, v, o, false, false, 1.0, t, d, tk, from, to);
        }));
    }

    /**
     * The eval forward of one sequence on host memory ({@code SingleSequenceForward}): Q rows {@code [t, H·D]}, K and
     * V rows {@code [tk, H·D]}, all with leading dimension {@code ld = H·D}; every key is real (no mask) and there
     * is no dropout. Writes O rows {@code [t, H·D]} (leading dimension ld) and uses {@code s} ({@code H·t·tk} floats)
     * for the scores. Per head it makes the BLAS calls and runs the softmax {@link #fusedForward} runs on the same
     * rows, so the output is bit-identical to {@link #forward}'s (an all-zero mask adds +0 to each score, which
     * changes no result of the softmax).
     */
    public static void forwardRows(FloatPointer q, FloatPointer k, FloatPointer v, FloatPointer o, int ld, int heads,
                                   int t, int tk, FloatPointer s) {
        int d = ld / heads;
        float scale = (float) (1 / Math.sqrt(d));
        java.nio.FloatBuffer bs = new FloatPointer(s).limit(s.position() + (long) heads * t * tk).asBuffer();
        int threads = HostThreads.threads();
        int groups = threads <= 1 || heads < 2 * threads ? 1 : Math.min(heads, 4 * threads);   // as fusedForward
        int order = openblas_nolapack.CblasRowMajor, no = openblas_nolapack.CblasNoTrans, tr = openblas_nolapack.CblasTrans;
        Gemm.singleThreadedBlas(() -> HostThreads.parallelFor(groups, g -> {
            int from = heads * g / groups, to = heads * (g + 1) / groups;
            FloatPointer pq = new FloatPointer(q), pk = new FloatPointer(k), pv = new FloatPointer(v);
            FloatPointer po = new FloatPointer(o), ps = new FloatPointer(s);
            long oq = pq.position(), ok = pk.position(), ov = pv.position(), oo = po.position(), os = ps.position();
            for (int h = from; h < to; h++) {
                openblas_nolapack.cblas_sgemm(order, no, tr, t, tk, d, scale, pq.position(oq + (long) h * d), ld,
                        pk.position(ok + (long) h * d), ld, 0f, ps.position(os + (long) h * t * tk), tk);
            }
            HostKernels.softmaxRowRange(bs, null, heads, t, tk, from * t, to * t);
            for (int h = from; h < to; h++) {
                openblas_nolapack.cblas_sgemm(order, no, no, t, d, tk, 1f, ps.position(os + (long) h * t * tk), tk,
                        pv.position(ov + (long) h * d), ld, 0f, po.position(oo + (long) h * d), ld);
            }
        }));
    }

    public static Grads backward(INDArray dOut, Cache c, Dropout dropout) {
        long b = c.q.size(0), h = c.q.size(1), t = c.q.size(2), tk = c.k.size(2);
        INDArray dv = BatchedMatmul.matmul(c.dropped, dOut, true, false, 1.0, headsOut(c.q, tk)); // [B,H,Tk,D]
        INDArray dp = BatchedMatmul.matmul(dOut, c.v, false, true);              // [B,H,T,Tk]
        boolean dropped = dropout != null && c.dropped != c.probs;
        INDArray dropMask = dropped ? dropout.mask() : null;
        if (HostKernels.usable(dp, c.probs) && (!dropped || HostKernels.usable(dropMask))) {
            HostKernels.softmaxRowsBackward(dp, c.probs, dropMask, c.scale);       // dropout' and softmax' fused
            INDArray dq = BatchedMatmul.matmul(dp, c.k, false, false, 1.0, headsOut(c.q, t));
            INDArray dk = BatchedMatmul.matmul(dp, c.q, true, false, 1.0, headsOut(c.q, tk));
            return new Grads(dq, dk, dv);
        }
        if (dropped) dp = dropout.backward(dp);
        INDArray p2 = c.probs.reshape(b * h * t, tk), dp2 = dp.reshape(b * h * t, tk);
        INDArray rowDot = dp2.mul(p2).sum(true, 1);
        INDArray ds = dp2.subiColumnVector(rowDot).muli(p2).muli(c.scale).reshape(b, h, t, tk);
        INDArray dq = BatchedMatmul.matmul(ds, c.k, false, false, 1.0, headsOut(c.q, t)); // [B,H,T,D]
        INDArray dk = BatchedMatmul.matmul(ds, c.q, true, false, 1.0, headsOut(c.q, tk)); // [B,H,Tk,D]
        return new Grads(dq, dk, dv);
    }

    /**
     * {@code [B·T, H·D]} rows seen as {@code [B, H, T, D]}: a permuted view, no copy ({@link BatchedMatmul} reads
     * each head's {@code [T, D]} matrix in place with leading dimension H·D).
     */
    public static INDArray splitHeads(INDArray x, long b, long t, long heads) {
        long d = x.size(1) / heads;
        return x.reshape('c', b, t, heads, d).permute(0, 2, 1, 3);
    }

    /**
     * {@code [B, H, T, D]} back to rows {@code [B·T, H·D]}: free when x is the permuted view of a contiguous
     * {@code [B, T, H, D]} buffer (what {@link #forward} and {@link #backward} return), a copy otherwise.
     */
    public static INDArray mergeHeads(INDArray x) {
        long b = x.size(0), h = x.size(1), t = x.size(2), d = x.size(3);
        INDArray rows = x.permute(0, 2, 1, 3);
        if (!(rows.ordering() == 'c' && org.nd4j.linalg.api.shape.Shape.hasDefaultStridesForShape(rows))) {
            rows = rows.dup('c');
        }
        return rows.reshape('c', b * t, h * d);
    }

    /** A {@code [B, H, tk, D]} output (shaped after {@code like}) laid out as {@code [B, tk, H, D]}, so that
     *  {@link #mergeHeads} is a reshape. */
    private static INDArray headsOut(INDArray like, long tk) {
        long b = like.size(0), h = like.size(1), d = like.size(3);
        return Nd4j.createUninitialized(like.dataType(), new long[]{b, tk, h, d}, 'c').permute(0, 2, 1, 3);
    }

    /**
     * The additive mask {@code [B,1,T,T]}: 0 where query i may attend key j, the dtype's lowest finite value
     * elsewhere (as Hugging Face), from a {@code [B,T]} 0/1 padding mask and, for GPT-2, causality ({@code j ≤ i}).
     * One value per position (never a sum of two minima, which would overflow to -inf).
     */
    public static INDArray mask(int[][] attentionMask, boolean causal, DataType type) {
        return mask(attentionMask, causal, 0, type);
    }

    /**
     * As {@link #mask(int[][], boolean, DataType)} with {@code prefix} key columns in front ({@code [B,1,T,P+T]}):
     * every query sees every prefix row (prefix tuning extends the attention mask with ones, and GPT-2's causal
     * mask never hides the past).
     */
    public static INDArray mask(int[][] attentionMask, boolean causal, int prefix, DataType type) {
        int b = attentionMask.length, t = attentionMask[0].length, tk = prefix + t;
        double neg = type == DataType.DOUBLE ? -Double.MAX_VALUE : -Float.MAX_VALUE;
        double[] m = new double[b * t * tk];
        for (int n = 0; n < b; n++) {
            for (int i = 0; i < t; i++) {
                for (int j = 0; j < t; j++) {
                    boolean ok = attentionMask[n][j] != 0 && (!causal || j <= i);
                    m[(n * t + i) * tk + prefix + j] = ok ? 0 : neg;
                }
            }
        }
        return Nd4j.create(m, new long[]{b, 1, t, tk}, type);
    }

    /**
     * The additive mask of one query per example that may see every real key and every prefix row: {@code [B,1,1,P+T]}.
     * It is GPT-2's causal mask at each example's last real token (the positions after it are all padding).
     */
    public static INDArray keyMask(int[][] attentionMask, int prefix, DataType type) {
        int b = attentionMask.length, t = attentionMask[0].length, tk = prefix + t;
        double neg = type == DataType.DOUBLE ? -Double.MAX_VALUE : -Float.MAX_VALUE;
        double[] m = new double[b * tk];
        for (int n = 0; n < b; n++) {
            for (int j = 0; j < t; j++) m[n * tk + prefix + j] = attentionMask[n][j] != 0 ? 0 : neg;
        }
        return Nd4j.create(m, new long[]{b, 1, 1, tk}, type);
    }

    /** K or V {@code [B,H,T,D]} with prefix rows {@code [P, H·D]} in front: {@code [B,H,P+T,D]}. */
    public static INDArray withPrefix(INDArray rows, INDArray x, long heads) {
        var all = org.nd4j.linalg.indexing.NDArrayIndex.all();
        long b = x.size(0), t = x.size(2), d = x.size(3), p = rows.size(0), hd = heads * d;
        // written as rows [B, P+T, H·D] and returned as their [B, H, P+T, D] view (the layout splitHeads gives and
        // BatchedMatmul reads in place): one copy of the tokens and B of the prefix rows, instead of concatenating
        // permuted views (ND4J's generic strided concat is slow on them)
        INDArray buf = Nd4j.createUninitialized(x.dataType(), new long[]{b, p + t, hd}, 'c');
        buf.get(all, org.nd4j.linalg.indexing.NDArrayIndex.interval(p, p + t), all)
                .assign(x.permute(0, 2, 1, 3).reshape('c', b, t, hd));
        for (long i = 0; i < b; i++) {
            buf.get(org.nd4j.linalg.indexing.NDArrayIndex.point(i), org.nd4j.linalg.indexing.NDArrayIndex.interval(0, p), all)
                    .assign(rows.reshape('c', p, hd));
        }
        return buf.reshape('c', b, p + t, heads, d).permute(0, 2, 1, 3);
    }

    /** Gradient of {@link #withPrefix}: {prefix rows' gradient {@code [P, H·D]} (summed over B), the rest {@code [B,H,T,D]}}. */
    public static INDArray[] splitPrefix(INDArray grad, int p) {
        var all = org.nd4j.linalg.indexing.NDArrayIndex.all();
        long tk = grad.size(2);
        return new INDArray[]{prefixRows(grad.get(all, all, org.nd4j.linalg.indexing.NDArrayIndex.interval(0, p), all)),
                grad.get(all, all, org.nd4j.linalg.indexing.NDArrayIndex.interval(p, tk), all)};
    }

    /** Gradient of the prefix rows {@link #withPrefix} repeats per example: {@code [B, H, P, D]} summed over the batch, back to rows {@code [P, H·D]}. */
    public static INDArray prefixRows(INDArray grad) {
        long h = grad.size(1), p = grad.size(2), d = grad.size(3);
        return grad.sum(0).permute(1, 0, 2).dup('c').reshape(p, h * d);
    }
}
