package org.finsent.bench.train;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;
import ai.djl.training.GradientCollector;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import org.finsent.core.model.Batch;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The PyTorch peer: the same classifier (Hugging Face's BERT / GPT-2 modules, op for op) built from DJL NDArray ops
 * on libtorch with autograd, and DJL's AdamW (libtorch's fused Adam update). Not DJL's {@code BertBlock}, which is
 * not BERT (BatchNorm instead of LayerNorm, a different residual, the pooler on token 1). Dropout 0.1 in training
 * mode as in Hugging Face. PEFT modules as Python PEFT / adapters build them: LoRA r=8 on q/k/v (GPT-2: c_attn),
 * Pfeiffer SeqBn (BERT: {@code LN(s + A(LN(s)))}, GPT-2: {@code s + A(s)}), prefix tuning with the projection MLP.
 * Only the trainable tensors require gradients, so autograd skips frozen weights' gradient products as we do.
 */
public final class TorchStep implements TrainStep {
    static {
        // nothing may be downloaded at run time: natives come from the pytorch-native-cpu jar
        System.setProperty("ai.djl.offline", System.getProperty("ai.djl.offline", "true"));
        System.setProperty("DJL_CACHE_DIR", System.getProperty("DJL_CACHE_DIR", "target/djl-cache"));
        System.setProperty("ai.djl.pytorch.num_threads", System.getProperty("ai.djl.pytorch.num_threads", "2"));
        System.setProperty("ai.djl.pytorch.num_interop_threads", System.getProperty("ai.djl.pytorch.num_interop_threads", "1"));
    }

    private static final float DROP = 0.1f;
    private final Arch arch;
    private final Technique tech;
    private final NDManager root;
    private final Map<String, NDArray> w = new LinkedHashMap<>();
    private final List<String> trainable = new ArrayList<>();
    private final Optimizer adamw;
    private final int c, h, d, layers;
    private NDArray ids, positions, types, mask, oneHot, lastRows;
    private int b, t;
    private boolean first = true;
    private boolean training = true;
    private double lastLoss;

    public TorchStep(Arch arch, Technique tech, long seed) {
        this.arch = arch;
        this.tech = tech;
        Engine engine = Engine.getEngine("PyTorch");
        engine.setRandomSeed((int) seed);
        root = NDManager.newBaseManager(Device.cpu(), "PyTorch");
        c = arch.hidden();
        h = arch.heads();
        d = c / h;
        layers = arch.layers();
        int f = arch.ffn(), v = arch.vocab();
        boolean full = tech == Technique.FULL;
        if (!arch.decoder()) {
            normal("word", full, v, c);
            normal("pos", full, arch.maxPositions(), c);
            normal("type", full, 2, c);
            layerNorm("emb.ln", full);
            for (int l = 0; l < layers; l++) {
                String p = "l" + l + ".";
                for (String m : List.of("q", "k", "v", "o")) linear(p + m, c, c, true, full);
                layerNorm(p + "ln1", full);
                linear(p + "fc1", c, f, true, full);
                linear(p + "fc2", f, c, true, full);
                layerNorm(p + "ln2", full);
                if (tech == Technique.LORA) for (String m : List.of("q", "k", "v")) lora(p + m, c, c);
                if (tech == Technique.ADAPTER) adapter(p);
            }
            linear("pooler", c, c, true, full);
            linear("classifier", c, arch.numLabels(), true, true);
        } else {
            normal("wte", full, v, c);
            normal("wpe", full, arch.maxPositions(), c);
            for (int l = 0; l < layers; l++) {
                String p = "h" + l + ".";
                layerNorm(p + "ln1", full);
                linear(p + "c_attn", c, 3 * c, true, full);
                linear(p + "c_proj", c, c, true, full);
                layerNorm(p + "ln2", full);
                linear(p + "c_fc", c, f, true, full);
                linear(p + "mlp_proj", f, c, true, full);
                if (tech == Technique.LORA) lora(p + "c_attn", c, 3 * c);
                if (tech == Technique.ADAPTER) adapter(p);
            }
            layerNorm("ln_f", full);
            linear("score", c, arch.numLabels(), false, true);
        }
        if (tech == Technique.PREFIX) {
            normal("prefix.emb", true, Technique.PREFIX_TOKENS, c);
            linear("prefix.w1", c, Technique.PREFIX_HIDDEN, true, true);
            linear("prefix.w2", Technique.PREFIX_HIDDEN, layers * 2 * c, true, true);
        }
        adamw = Optimizer.adamW().optLearningRateTracker(Tracker.fixed(5e-5f)).optWeightDecays(0f).build();
    }

    // ---- parameters
    private NDArray add(String name, NDArray a, boolean train) {
        a.setName(name);
        if (train) {
            a.setRequiresGradient(true);
            trainable.add(name);
        }
        w.put(name, a);
        return a;
    }

    private void normal(String name, boolean train, long... shape) {
        add(name, root.randomNormal(0f, 0.02f, new Shape(shape), DataType.FLOAT32), train);
    }

    /** Weight [out, in] (nn.Linear's layout; GPT-2's Conv1D transposed costs the same) and bias [out]. */
    private void linear(String name, int in, int out, boolean bias, boolean train) {
        normal(name + ".w", train, out, in);
        if (bias) add(name + ".b", root.zeros(new Shape(out)), train);
    }

    private void layerNorm(String name, boolean train) {
        add(name + ".g", root.ones(new Shape(c)), train);
        add(name + ".b", root.zeros(new Shape(c)), train);
    }

    private void lora(String name, int in, int out) {
        normal(name + ".lora_A", true, Technique.LORA_R, in);
        add(name + ".lora_B", root.zeros(new Shape(out, Technique.LORA_R)), true);
    }

    private void adapter(String p) {
        int m = c / Technique.ADAPTER_REDUCTION;
        linear(p + "ad_down", c, m, true, true);
        linear(p + "ad_up", m, c, true, true);
    }

    // ---- ops
    private NDArray lin(String name, NDArray x) {
        NDArray b = w.get(name + ".b");
        NDArray y = (b == null ? Linear.linear(x, w.get(name + ".w")) : Linear.linear(x, w.get(name + ".w"), b)).singletonOrThrow();
        NDArray a = w.get(name + ".lora_A");
        if (a != null) {                                                  // PEFT lora.Linear: y + s·(x·Aᵀ)·Bᵀ, s = 16/8
            y = y.add(Linear.linear(Linear.linear(x, a).singletonOrThrow(), w.get(name + ".lora_B")).singletonOrThrow()
                    .mul(16f / Technique.LORA_R));
        }
        return y;
    }

    private NDArray ln(String name, NDArray x, float eps) {
        return x.getNDArrayInternal().layerNorm(x, new Shape(c), w.get(name + ".g"), w.get(name + ".b"), eps).singletonOrThrow();
    }

    private NDArray drop(NDArray x) {
        return training ? Dropout.dropout(x, DROP, true).singletonOrThrow() : x;
    }

    private NDArray emb(String name, NDArray idx) {
        return idx.getNDArrayInternal().embedding(idx, w.get(name), SparseFormat.DENSE).singletonOrThrow();
    }

    /** [B,T,C] → [B,H,T,D]. */
    private NDArray heads(NDArray x) {
        return x.reshape(b, t, h, d).transpose(0, 2, 1, 3);
    }

    /** The prefix rows of layer l as [B,H,P,D] keys (kv = 0) or values (kv = 1). */
    private NDArray prefix(NDArray out, int l, int kv) {
        int p = Technique.PREFIX_TOKENS;
        NDArray rows = out.get(":, " + (2 * l + kv) * c + ":" + (2 * l + kv + 1) * c);
        return rows.reshape(1, p, h, d).transpose(0, 2, 1, 3).broadcast(new Shape(b, h, p, d));
    }

    private NDArray attention(NDArray q, NDArray k, NDArray v, NDArray prefixOut, int l) {
        q = heads(q);
        k = heads(k);
        v = heads(v);
        if (prefixOut != null) {
            k = NDArrays.concat(new NDList(prefix(prefixOut, l, 0), k), 2);
            v = NDArrays.concat(new NDList(prefix(prefixOut, l, 1), v), 2);
        }
        NDArray s = q.matMul(k.transpose(0, 1, 3, 2)).mul((float) (1 / Math.sqrt(d))).add(mask);
        NDArray ctx = drop(s.softmax(-1)).matMul(v);
        return ctx.transpose(0, 2, 1, 3).reshape(b, t, c);
    }

    private NDArray geluNew(NDArray x) { // Hugging Face NewGELUActivation, op for op
        return x.mul(0.5f).mul(x.pow(3f).mul(0.044715f).add(x).mul((float) Math.sqrt(2 / Math.PI)).tanh().add(1f));
    }

    private NDArray adapterBlock(String p, NDArray z) {
        return lin(p + "ad_up", lin(p + "ad_down", z).getNDArrayInternal().relu());
    }

    private NDArray forward() {
        NDArray prefixOut = null;
        if (tech == Technique.PREFIX) {                                   // PEFT PrefixEncoder with projection
            prefixOut = lin("prefix.w2", lin("prefix.w1", w.get("prefix.emb")).tanh());
        }
        if (!arch.decoder()) {
            NDArray x = emb("word", ids).add(emb("pos", positions)).add(emb("type", types));
            x = drop(ln("emb.ln", x, 1e-12f));
            for (int l = 0; l < layers; l++) {
                String p = "l" + l + ".";
                NDArray ctx = attention(lin(p + "q", x), lin(p + "k", x), lin(p + "v", x), prefixOut, l);
                NDArray a = ln(p + "ln1", drop(lin(p + "o", ctx)).add(x), 1e-12f);
                NDArray f = drop(lin(p + "fc2", lin(p + "fc1", a).getNDArrayInternal().gelu()));
                if (tech == Technique.ADAPTER) {
                    NDArray s = f.add(a);
                    x = ln(p + "ln2", s.add(adapterBlock(p, ln(p + "ln2", s, 1e-12f))), 1e-12f);
                } else {
                    x = ln(p + "ln2", f.add(a), 1e-12f);
                }
            }
            NDArray pooled = lin("pooler", x.get(":, 0, :")).tanh();
            return lin("classifier", drop(pooled));
        }
        NDArray x = drop(emb("wte", ids).add(emb("wpe", positions)));
        for (int l = 0; l < layers; l++) {
            String p = "h" + l + ".";
            NDList qkv = lin(p + "c_attn", ln(p + "ln1", x, 1e-5f)).split(3, 2);
            x = x.add(drop(lin(p + "c_proj", attention(qkv.get(0), qkv.get(1), qkv.get(2), prefixOut, l))));
            NDArray f = drop(lin(p + "mlp_proj", geluNew(lin(p + "c_fc", ln(p + "ln2", x, 1e-5f)))));
            x = tech == Technique.ADAPTER ? x.add(f).add(adapterBlock(p, x.add(f))) : x.add(f);
        }
        x = ln("ln_f", x, 1e-5f).reshape(b * t, c);
        return lin("score", lastRows.matMul(x));                         // each row's last real token
    }

    @Override
    public void setBatch(Batch batch, int[] labels) {
        for (NDArray a : new NDArray[]{ids, positions, types, mask, oneHot, lastRows}) if (a != null) a.close();
        b = batch.batchSize();
        t = batch.seqLen();
        int p = tech.prefixLength(), tk = p + t;
        long[] id = new long[b * t], pos = new long[b * t], ty = new long[b * t];
        float[] m = new float[arch.decoder() ? b * t * tk : b * tk];
        float[] sel = new float[b * b * t];
        for (int n = 0; n < b; n++) {
            int last = -1, real = 0;
            for (int i = 0; i < t; i++) {
                id[n * t + i] = batch.inputIds()[n][i];
                ty[n * t + i] = batch.tokenTypeIds()[n][i];
                boolean on = batch.attentionMask()[n][i] != 0;
                // BERT: positions P..P+T−1 after a prefix (HF past length); GPT-2 counts real tokens, as FinSent does
                pos[n * t + i] = arch.decoder() ? p + Math.max(0, real - (on ? 0 : 1)) : p + i;
                if (on) {
                    real++;
                    last = i;
                }
            }
            sel[n * b * t + n * t + Math.max(last, 0)] = 1;
            float neg = -Float.MAX_VALUE;
            if (arch.decoder()) {
                for (int i = 0; i < t; i++) {
                    for (int j = 0; j < tk; j++) {
                        boolean ok = j < p || batch.attentionMask()[n][j - p] != 0 && j - p <= i;
                        m[(n * t + i) * tk + j] = ok ? 0 : neg;
                    }
                }
            } else {
                for (int j = 0; j < tk; j++) m[n * tk + j] = j < p || batch.attentionMask()[n][j - p] != 0 ? 0 : neg;
            }
        }
        ids = root.create(id, new Shape(b, t));
        positions = root.create(pos, new Shape(b, t));
        types = root.create(ty, new Shape(b, t));
        mask = root.create(m, arch.decoder() ? new Shape(b, 1, t, tk) : new Shape(b, 1, 1, tk));
        lastRows = root.create(sel, new Shape(b, (long) b * t));
        float[] oh = new float[b * arch.numLabels()];
        for (int n = 0; n < b; n++) oh[n * arch.numLabels() + labels[n]] = 1;
        oneHot = root.create(oh, new Shape(b, arch.numLabels()));
    }

    @Override
    public void step() {
        // The first step runs outside NDScope: DJL's AdamW creates its moment buffers there.
        try (NDScope scope = first ? null : new NDScope()) {
            try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
                NDArray logits = forward();
                NDArray loss = logits.logSoftmax(1).mul(oneHot).sum().mul(-1f / b);   // mean cross-entropy
                gc.backward(loss);
                lastLoss = loss.getFloat();
            }
            for (String name : trainable) {
                NDArray p = w.get(name);
                NDArray g = p.getGradient();
                adamw.update(name, p, g);
                g.subi(g);                                                 // optimizer.zero_grad(set_to_none=False)
            }
        }
        first = false;
    }

    /**
     * The classifier's forward in eval mode (dropout off) without autograd, as {@code model.eval()} under
     * {@code torch.no_grad()}: DJL's PyTorch engine keeps grad mode off outside a {@code GradientCollector}.
     * Returns the first logit (reading it waits for the result).
     */
    public float evalForward() {
        if (ai.djl.pytorch.jni.JniUtils.isGradMode()) throw new IllegalStateException("grad mode is on outside a GradientCollector");
        training = false;
        try (NDScope scope = new NDScope()) {
            return forward().getFloat(0, 0);
        } finally {
            training = true;
        }
    }

    @Override
    public double lastLoss() {
        return lastLoss;
    }

    public long trainableCount() {
        return trainable.stream().mapToLong(n -> w.get(n).size()).sum();
    }

    /** AdamW keeps m and v per trainable tensor, FP32. */
    @Override
    public long optimizerStateBytes() {
        return first ? 0 : 2 * 4 * trainableCount();
    }

    @Override
    public void close() {
        root.close();
    }
}
