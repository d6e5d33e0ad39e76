package org.finsent.train.optim;

import org.finsent.core.nn.Parameter;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.floating.Sqrt;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * AdamW with the semantics of PyTorch's {@code torch.optim.AdamW} ({@code _single_tensor_adamw}, {@code amsgrad=False},
 * {@code maximize=False}): Adam plus <em>decoupled</em> weight decay (Loshchilov &amp; Hutter 2019), i.e. the decay
 * shrinks the weight directly instead of being added to the gradient, so it is not rescaled by Adam's √v.
 *
 * <p>For each trainable parameter p (one with {@code grad() != null}) with gradient g, its own step count t is
 * incremented (1-based) and then, in this order:
 * <pre>
 *   p ← p·(1 − lr·λ)                         decay first (λ = 0 for parameters where {@link #decays} is false)
 *   m ← m + (1−β1)·(g − m)                   = β1·m + (1−β1)·g   (torch uses lerp_)
 *   v ← β2·v + (1−β2)·g²
 *   bc1 = 1 − β1^t,  bc2 = 1 − β2^t
 *   p ← p − (lr/bc1) · m / (√v/√bc2 + ε)
 * </pre>
 * The last line is PyTorch's folding of bias correction ({@code step_size = lr/bias_correction1},
 * {@code denom = sqrt(v)/sqrt(bias_correction2) + eps}); it equals the textbook {@code p − lr·m̂/(√v̂ + ε)} with
 * {@code m̂ = m/bc1}, {@code v̂ = v/bc2} — ε is added <em>after</em> bias correction, which matters in the first
 * steps, where √v is tiny. On the first step m̂ = g and √v̂ = |g|, so every weight moves by ≈ lr·sign(g).
 *
 * <p>Defaults are Hugging Face Trainer's ({@link Options#HF_DEFAULTS}): lr 5e-5, betas (0.9, 0.999), eps 1e-8,
 * weight decay 0. The step count is kept per parameter as in PyTorch, so a parameter unfrozen mid-training starts
 * at t = 1 with fresh moments. State (m, v) is allocated lazily, on a parameter's first step, so frozen parameters
 * never cost optimizer memory. On ND4J's CPU backend each parameter is updated in one fused pass over p, g, m and v
 * ({@link FusedAdamW}); elsewhere (CUDA) by a handful of whole-tensor ND4J ops per parameter (into one reused
 * scratch buffer the size of the largest trainable parameter). Both run the same operations in the same order in
 * the parameter's own data type (FLOAT or DOUBLE), with scalars computed in double and rounded to that type, so
 * they agree bit for bit.
 *
 * <p>Not thread-safe. {@link #step(double)} only reads the gradients: call {@link Parameter#zeroGrad()} after it.
 * {@link #step(double, boolean)} with {@code zeroGrads} clears each gradient in the same pass that reads it, which
 * saves the separate pass over every gradient (for BERT-Base full fine-tuning, 440 MB written once more per step).
 */
public final class AdamW {

    /** Hyper-parameters; {@code lr} is used by {@link #step()}, a schedule passes its own to {@link #step(double)}. */
    public record Options(double lr, double beta1, double beta2, double eps, double weightDecay) {
        /** Hugging Face {@code TrainingArguments}: lr 5e-5, β (0.9, 0.999), ε 1e-8, weight decay 0. */
        public static final Options HF_DEFAULTS = new Options(5e-5, 0.9, 0.999, 1e-8, 0.0);

        public Options {
            if (!(lr >= 0) || Double.isInfinite(lr)) throw new IllegalArgumentException("lr must be finite and >= 0: " + lr);
            if (!(beta1 >= 0 && beta1 < 1)) throw new IllegalArgumentException("beta1 must be in [0, 1): " + beta1);
            if (!(beta2 >= 0 && beta2 < 1)) throw new IllegalArgumentException("beta2 must be in [0, 1): " + beta2);
            if (!(eps >= 0) || Double.isInfinite(eps)) throw new IllegalArgumentException("eps must be finite and >= 0: " + eps);
            if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) {
                throw new IllegalArgumentException("weightDecay must be finite and >= 0: " + weightDecay);
            }
        }

        public Options withLr(double lr) {
            return new Options(lr, beta1, beta2, eps, weightDecay);
        }

        public Options withBetas(double beta1, double beta2) {
            return new Options(lr, beta1, beta2, eps, weightDecay);
        }

        public Options withEps(double eps) {
            return new Options(lr, beta1, beta2, eps, weightDecay);
        }

        public Options withWeightDecay(double weightDecay) {
            return new Options(lr, beta1, beta2, eps, weightDecay);
        }
    }

    /**
     * One parameter's optimizer state, as PyTorch's {@code state[p]}: its step count and the first and second
     * moments m ({@code exp_avg}) and v ({@code exp_avg_sq}), shaped and typed like the parameter.
     */
    public record ParamState(long step, INDArray m, INDArray v) {
    }

    /**
     * Everything a checkpoint needs to resume: the number of {@link #step} calls and the per-parameter state,
     * keyed by parameter name (parameters that never stepped, frozen ones included, have no entry).
     */
    public record State(long steps, Map<String, ParamState> params) {
    }

    private static final class Slot {
        long step;
        final INDArray m, v;
        INDArray tmp; // this parameter's view of the shared scratch buffer (not state)
        long tmpGeneration;

        Slot(long step, INDArray m, INDArray v) {
            this.step = step;
            this.m = m;
            this.v = v;
        }
    }

    private final List<Parameter> params;
    private final Options options;
    private final Predicate<Parameter> decayRule;
    private final Map<String, Slot> state = new LinkedHashMap<>();
    private long steps;
    private final Map<DataType, INDArray> scratch = new EnumMap<>(DataType.class);
    private long scratchGeneration;
    private boolean fused = true;

    /** AdamW over {@code params} with {@link Options#HF_DEFAULTS}. */
    public AdamW(List<Parameter> params) {
        this(params, Options.HF_DEFAULTS);
    }

    /** AdamW with Hugging Face's no-decay rule ({@link #hfDecays(String)}). */
    public AdamW(List<Parameter> params, Options options) {
        this(params, options, p -> hfDecays(p.name()));
    }

    /**
     * AdamW with a custom rule for which parameters get weight decay. The same {@link Parameter} object listed
     * twice (tied weights) is kept once; two distinct parameters with one name are an error, since state is keyed
     * by name.
     */
    public AdamW(List<Parameter> params, Options options, Predicate<Parameter> decayRule) {
        this.options = Objects.requireNonNull(options, "options");
        this.decayRule = Objects.requireNonNull(decayRule, "decayRule");
        Set<Parameter> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        Map<String, Parameter> byName = new LinkedHashMap<>();
        List<Parameter> unique = new ArrayList<>();
        for (Parameter p : params) {
            Objects.requireNonNull(p, "parameter");
            if (!seen.add(p)) continue;
            if (byName.putIfAbsent(p.name(), p) != null) {
                throw new IllegalArgumentException("two distinct parameters are named " + p.name());
            }
            unique.add(p);
        }
        this.params = List.copyOf(unique);
    }

    /**
     * Hugging Face Trainer's weight-decay rule, by name. Trainer ({@code get_decay_parameter_names}) excludes every
     * parameter of an {@code nn.LayerNorm} module and every parameter whose lower-cased name contains
     * {@code "bias"}, {@code "layernorm"} or {@code "rmsnorm"}. Our parameters carry no module type, so the
     * LayerNorm modules are recognised by the names the models use for them. A parameter does <b>not</b> decay iff
     * its lower-cased name contains {@code "bias"}, {@code "layernorm"}, {@code "layer_norm"} or {@code "rmsnorm"},
     * or its module (the dotted segment before the last) is {@code ln} or starts with {@code ln_} (GPT-2's
     * {@code ln_1}, {@code ln_2}, {@code ln_f}). Everything else (Linear/Conv1D weights, embeddings, LoRA
     * matrices, classifier weights) decays. Examples: {@code bert.encoder.layer.0.attention.output.LayerNorm.weight}
     * and {@code h.3.ln_2.weight} do not decay; {@code h.3.mlp.c_fc.weight} and {@code wte.weight} do.
     */
    public static boolean hfDecays(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        if (lower.contains("bias") || lower.contains("layernorm") || lower.contains("layer_norm") || lower.contains("rmsnorm")) {
            return false;
        }
        String[] parts = lower.split("\\.");
        if (parts.length >= 2) {
            String module = parts[parts.length - 2];
            if (module.equals("ln") || module.startsWith("ln_")) return false;
        }
        return true;
    }

    /** Whether weight decay applies to {@code p} under this optimizer's rule (by default {@link #hfDecays}). */
    public boolean decays(Parameter p) {
        return decayRule.test(p);
    }

    /** One step with {@link Options#lr()}. */
    public void step() {
        step(options.lr);
    }

    /**
     * One AdamW step with learning rate {@code lr} (e.g. {@code schedule.lr(optimizer.steps())}) over every
     * parameter that currently has a gradient buffer; frozen parameters are untouched.
     */
    public void step(double lr) {
        step(lr, false);
    }

    /**
     * {@link #step(double)}, and with {@code zeroGrads} each stepped parameter's gradient is left zero, exactly as
     * {@link Parameter#zeroGrad()} after the step would leave it (the update itself is bit-identical either way).
     * Only the optimizer's parameters are cleared: a caller whose model has other parameters with gradients must
     * still zero those.
     */
    public void step(double lr, boolean zeroGrads) {
        if (!(lr >= 0) || Double.isInfinite(lr)) throw new IllegalArgumentException("lr must be finite and >= 0: " + lr);
        final double b1 = options.beta1, b2 = options.beta2, eps = options.eps;
        for (Parameter p : params) {
            INDArray g = p.grad();
            if (g == null) continue;
            INDArray w = p.value();
            if (g.dataType() != w.dataType() || !Arrays.equals(g.shape(), w.shape())) {
                throw new IllegalStateException(p.name() + ": gradient " + g.dataType() + Arrays.toString(g.shape())
                        + " does not match value " + w.dataType() + Arrays.toString(w.shape()));
            }
            Slot s = state.computeIfAbsent(p.name(), k -> outsideWorkspaces(
                    () -> new Slot(0, Nd4j.zeros(w.dataType(), w.shape()), Nd4j.zeros(w.dataType(), w.shape()))));
            long t = ++s.step;

            double wd = decays(p) ? options.weightDecay : 0.0;
            if (fused && FusedAdamW.usable(w, g, s.m, s.v)) {
                FusedAdamW.update(w, g, s.m, s.v, lr, wd, b1, b2, eps, t, zeroGrads); // the same operations in one pass
                continue;
            }
            if (wd != 0.0) w.muli(1.0 - lr * wd);                    // param.mul_(1 - lr * weight_decay)

            INDArray tmp = scratch(s, w);                              // reused: no parameter-sized allocation per step
            g.sub(s.m, tmp);                                           // exp_avg.lerp_(grad, 1 - beta1)
            s.m.addi(tmp.muli(1.0 - b1));
            g.mul(g, tmp).muli(1.0 - b2);                              // exp_avg_sq.mul_(beta2).addcmul_(g, g, 1 - beta2)
            s.v.muli(b2).addi(tmp);

            double bc1 = 1.0 - Math.pow(b1, t);
            double bc2 = 1.0 - Math.pow(b2, t);
            double stepSize = lr / bc1;
            double bc2Sqrt = Math.sqrt(bc2);
            Nd4j.exec(new Sqrt(s.v, tmp));                             // denom = exp_avg_sq.sqrt() / bc2_sqrt + eps
            tmp.divi(bc2Sqrt).addi(eps);
            tmp.rdivi(s.m);                                            // m / denom
            w.addi(tmp.muli(-stepSize));                               // param.addcdiv_(exp_avg, denom, -step_size)
            if (zeroGrads) g.assign(0);
        }
        steps++;
    }

    /**
     * A temporary shaped like {@code w}: a view of one flat buffer per data type, sized to the largest parameter and
     * shared by all (parameters are updated one after another). Allocating a parameter-sized temporary per update
     * instead cost more than the update itself for BERT's 94 MB word embeddings (fresh large blocks fault in page
     * by page).
     */
    private INDArray scratch(Slot s, INDArray w) {
        INDArray buf = scratch.get(w.dataType());
        if (buf == null || buf.length() < w.length()) {
            long need = params.stream().filter(q -> q.trainable() && q.value().dataType() == w.dataType())
                    .mapToLong(q -> q.value().length()).max().orElse(0);
            long size = Math.max(need, w.length());
            buf = outsideWorkspaces(() -> Nd4j.create(w.dataType(), size));
            scratch.put(w.dataType(), buf);
            scratchGeneration++;                                       // every cached view is stale now
        }
        if (s.tmp == null || s.tmpGeneration != scratchGeneration) {
            s.tmp = buf.get(NDArrayIndex.interval(0, w.length())).reshape('c', w.shape());
            s.tmpGeneration = scratchGeneration;
        }
        return s.tmp;
    }

    /** Long-lived buffers must not land in a caller's ND4J workspace (it is reset when the caller's scope closes). */
    private static <T> T outsideWorkspaces(Supplier<T> make) {
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            return make.get();
        }
    }

    /**
     * Whether contiguous FLOAT/DOUBLE parameters on the CPU backend are updated by {@link FusedAdamW} (default) or
     * by the whole-tensor ND4J ops below it; both give bit-identical results (tests compare them).
     */
    AdamW fused(boolean on) {
        this.fused = on;
        return this;
    }

    /** Number of {@link #step} calls so far (restored by {@link #loadState}). */
    public long steps() {
        return steps;
    }

    public Options options() {
        return options;
    }

    /** The parameters, tied duplicates removed, in the given order. */
    public List<Parameter> parameters() {
        return params;
    }

    /** Whether a parameter of this name has optimizer state (it has taken at least one step). */
    public boolean hasState(String name) {
        return state.containsKey(name);
    }

    /** Number of parameters with state. */
    public int stateCount() {
        return state.size();
    }

    /** Bytes held by the moment buffers m and v, summed over parameters with state. */
    public long stateBytes() {
        long bytes = 0;
        for (Slot s : state.values()) {
            bytes += s.m.length() * s.m.dataType().width() + s.v.length() * s.v.dataType().width();
        }
        return bytes;
    }

    /**
     * The current state for a checkpoint. The arrays are the optimizer's live buffers (no copy, so saving a
     * BERT-Base state costs no extra memory): write them out before the next {@link #step}, and do not modify them.
     */
    public State state() {
        Map<String, ParamState> out = new LinkedHashMap<>();
        for (Map.Entry<String, Slot> e : state.entrySet()) {
            Slot s = e.getValue();
            out.put(e.getKey(), new ParamState(s.step, s.m, s.v));
        }
        return new State(steps, Collections.unmodifiableMap(out));
    }

    /**
     * Replaces all state with {@code saved} (copied, and cast to each parameter's data type). Parameters absent
     * from {@code saved} start fresh on their next step. Names not among the parameters, frozen parameters, shape
     * mismatches and negative step counts are rejected before anything changes.
     */
    public void loadState(State saved) {
        Objects.requireNonNull(saved, "state");
        if (saved.steps() < 0) throw new IllegalArgumentException("negative step count " + saved.steps());
        Map<String, Parameter> byName = new LinkedHashMap<>();
        for (Parameter p : params) byName.put(p.name(), p);
        Map<String, Slot> loaded = new LinkedHashMap<>();
        for (Map.Entry<String, ParamState> e : saved.params().entrySet()) {
            String name = e.getKey();
            ParamState ps = e.getValue();
            Parameter p = byName.get(name);
            if (p == null) throw new IllegalArgumentException("optimizer state for unknown parameter " + name);
            if (!p.trainable()) throw new IllegalArgumentException("optimizer state for frozen parameter " + name);
            if (ps.step() < 0) throw new IllegalArgumentException(name + ": negative step count " + ps.step());
            long[] shape = p.value().shape();
            if (!Arrays.equals(ps.m().shape(), shape) || !Arrays.equals(ps.v().shape(), shape)) {
                throw new IllegalArgumentException(name + ": state shapes m" + Arrays.toString(ps.m().shape()) + " v"
                        + Arrays.toString(ps.v().shape()) + " do not match " + Arrays.toString(shape));
            }
            var type = p.value().dataType();
            loaded.put(name, new Slot(ps.step(), ps.m().castTo(type).dup(), ps.v().castTo(type).dup()));
        }
        state.clear();
        state.putAll(loaded);
        steps = saved.steps();
    }
}
