package org.finsent.train.optim;

import org.finsent.core.nn.Parameter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link AdamW} against an independent scalar implementation of the textbook AdamW formulas (plain double loops,
 * {@code m̂ = m/(1−β1^t)}, {@code v̂ = v/(1−β2^t)}, {@code p −= lr·m̂/(√v̂+ε)} — not PyTorch's folded form the class
 * uses, so the test also checks that the folding is algebraically right), plus hand-derived first steps.
 */
class AdamWTest {
    static final double B1 = 0.9, B2 = 0.999, EPS = 1e-8;

    /** Scalar AdamW for one tensor, written from the paper / torch docs formulas. */
    static final class Ref {
        final double[] p, m, v;
        final boolean decays;
        int t;

        Ref(double[] p, boolean decays) {
            this.p = p.clone();
            this.m = new double[p.length];
            this.v = new double[p.length];
            this.decays = decays;
        }

        void step(double lr, double wd, double[] g) {
            t++;
            for (int i = 0; i < p.length; i++) {
                if (decays) p[i] -= lr * wd * p[i];
                m[i] = B1 * m[i] + (1 - B1) * g[i];
                v[i] = B2 * v[i] + (1 - B2) * g[i] * g[i];
                double mHat = m[i] / (1 - Math.pow(B1, t));
                double vHat = v[i] / (1 - Math.pow(B2, t));
                p[i] -= lr * mHat / (Math.sqrt(vHat) + EPS);
            }
        }
    }

    static double[] flat(INDArray a) {
        return a.castTo(DataType.DOUBLE).dup('c').data().asDouble();
    }

    static Parameter param(String name, DataType type, long seed, long... shape) {
        SplittableRandom r = new SplittableRandom(seed);
        long n = 1;
        for (long s : shape) n *= s;
        double[] x = new double[(int) n];
        for (int i = 0; i < n; i++) x[i] = r.nextDouble(-1, 1);
        return new Parameter(name, Nd4j.create(x, shape, DataType.DOUBLE).castTo(type));
    }

    /** Random gradients of mixed scale, one exact zero and one tiny entry (|g| ~ ε) to exercise ε. */
    static double[] grad(SplittableRandom r, int n, DataType type) {
        double[] g = new double[n];
        for (int i = 0; i < n; i++) g[i] = r.nextGaussian() * Math.pow(10, r.nextInt(-3, 1));
        g[0] = 0.0;
        if (n > 1) g[1] = 3e-8;
        if (type == DataType.FLOAT) for (int i = 0; i < n; i++) g[i] = (float) g[i];   // what the tensor holds
        return g;
    }

    static void setGrad(Parameter p, double[] g) {
        p.grad().assign(Nd4j.create(g, p.value().shape(), DataType.DOUBLE).castTo(p.value().dataType()));
    }

    /**
     * The update's temporaries live in one shared scratch buffer and the state outside any workspace: stepping
     * inside a workspace that is reset after every step (as Trainer's per-step workspace would be, were the step
     * inside it), with a parameter unfrozen later that is larger than all before (the scratch grows), gives
     * bit-identical results to an optimizer that only ever stepped outside.
     */
    /**
     * The fused single-pass update (CPU backend) and the whole-tensor ND4J ops (the CUDA path) agree bit for bit, in
     * FLOAT and DOUBLE, with and without weight decay, on a parameter large enough to be split across threads.
     */
    @ParameterizedTest
    @CsvSource({"DOUBLE, 0.0", "DOUBLE, 0.01", "FLOAT, 0.0", "FLOAT, 0.01"})
    void fusedLoopAndNd4jOpsAgreeBitForBit(DataType type, double wd) {
        assertTrue(FusedAdamW.usable(Nd4j.zeros(type, 2), Nd4j.zeros(type, 2), Nd4j.zeros(type, 2), Nd4j.zeros(type, 2)),
                "the fused path must be taken on the CPU backend");
        List<List<Parameter>> runs = new ArrayList<>();
        List<AdamW> opts = new ArrayList<>();
        for (boolean fused : new boolean[]{true, false}) {
            List<Parameter> ps = List.of(param("big.weight", type, 1, 300, 700), param("small.bias", type, 2, 7),
                    param("norm.LayerNorm.weight", type, 3, 5));
            AdamW opt = new AdamW(ps, AdamW.Options.HF_DEFAULTS.withLr(3e-3).withWeightDecay(wd)).fused(fused);
            SplittableRandom r = new SplittableRandom(11);
            for (int step = 0; step < 6; step++) {
                for (Parameter p : ps) setGrad(p, grad(r, (int) p.numel(), type));
                opt.step(step < 3 ? 3e-3 : 1e-3 * step);
            }
            runs.add(ps);
            opts.add(opt);
        }
        assertSameWeightsAndState(runs, opts);
    }

    /** Two runs' parameters and AdamW moments, bit for bit. */
    static void assertSameWeightsAndState(List<List<Parameter>> runs, List<AdamW> opts) {
        for (int i = 0; i < runs.get(0).size(); i++) {
            String name = runs.get(0).get(i).name();
            assertArrayEquals(flat(runs.get(0).get(i).value()), flat(runs.get(1).get(i).value()), 0.0, name);
            AdamW.ParamState a = opts.get(0).state().params().get(name), b = opts.get(1).state().params().get(name);
            assertArrayEquals(flat(a.m()), flat(b.m()), 0.0, name + " m");
            assertArrayEquals(flat(a.v()), flat(b.v()), 0.0, name + " v");
        }
    }

    /**
     * {@code step(lr, true)} leaves every gradient zero and changes nothing else: over steps whose gradients
     * accumulate ({@code +=}, as backward does), weights and moments are bit-identical to {@code step(lr)} followed
     * by {@link Parameter#zeroGrad()}, on the fused pass and on the ND4J ops, in FLOAT and DOUBLE.
     */
    @ParameterizedTest
    @CsvSource({"true, FLOAT", "true, DOUBLE", "false, FLOAT", "false, DOUBLE"})
    void clearingTheGradientsInTheStepEqualsZeroGradAfterIt(boolean fused, DataType type) {
        List<List<Parameter>> runs = new ArrayList<>();
        List<AdamW> opts = new ArrayList<>();
        for (boolean clearing : new boolean[]{false, true}) {
            List<Parameter> ps = List.of(param("big.weight", type, 1, 300, 700), param("small.bias", type, 2, 7));
            AdamW opt = new AdamW(ps, AdamW.Options.HF_DEFAULTS.withLr(3e-3).withWeightDecay(0.01)).fused(fused);
            SplittableRandom r = new SplittableRandom(5);
            for (int step = 0; step < 4; step++) {
                for (int micro = 0; micro < 2; micro++) {    // two accumulated micro-batches per step
                    for (Parameter p : ps) {
                        double[] g = grad(r, (int) p.numel(), type);
                        p.grad().addi(Nd4j.create(g, p.value().shape(), DataType.DOUBLE).castTo(type));
                    }
                }
                if (clearing) {
                    opt.step(3e-3, true);
                    for (Parameter p : ps) {
                        assertEquals(0.0, p.grad().amaxNumber().doubleValue(), 0.0, p.name() + " gradient after step " + step);
                    }
                } else {
                    opt.step(3e-3);
                    for (Parameter p : ps) p.zeroGrad();
                }
            }
            runs.add(ps);
            opts.add(opt);
        }
        assertSameWeightsAndState(runs, opts);
    }

    @ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(booleans = {true, false})
    void stepInsideAWorkspaceAndGrowingScratchChangeNothing(boolean fused) {
        var cfg = org.nd4j.linalg.api.memory.conf.WorkspaceConfiguration.builder().initialSize(1 << 20)
                .policyReset(org.nd4j.linalg.api.memory.enums.ResetPolicy.BLOCK_LEFT).build();
        List<List<Parameter>> runs = new java.util.ArrayList<>();
        for (int run = 0; run < 2; run++) {
            List<Parameter> ps = List.of(param("a.weight", DataType.DOUBLE, 1, 3, 4), param("b.weight", DataType.DOUBLE, 2, 2),
                    param("c.weight", DataType.DOUBLE, 3, 7, 5));
            ps.get(2).setTrainable(false);
            AdamW opt = new AdamW(ps, AdamW.Options.HF_DEFAULTS.withLr(1e-2).withWeightDecay(0.1)).fused(fused);
            SplittableRandom r = new SplittableRandom(7);
            for (int step = 0; step < 5; step++) {
                if (step == 2) ps.get(2).setTrainable(true);
                for (Parameter p : ps) if (p.trainable()) setGrad(p, grad(r, (int) p.numel(), DataType.DOUBLE));
                if (run == 0) {
                    opt.step();
                } else {
                    try (var ws = Nd4j.getWorkspaceManager().getAndActivateWorkspace(cfg, "adamw-test")) {
                        opt.step();
                        Nd4j.create(DataType.DOUBLE, 1000).assign(Double.NaN); // scribble over the workspace
                    }
                }
            }
            runs.add(ps);
        }
        for (int i = 0; i < 3; i++) {
            assertArrayEquals(flat(runs.get(0).get(i).value()), flat(runs.get(1).get(i).value()), 0.0, runs.get(0).get(i).name());
        }
    }

    @ParameterizedTest
    @CsvSource({"DOUBLE, 0.0", "DOUBLE, 0.1", "FLOAT, 0.0", "FLOAT, 0.1"})
    void matchesScalarReferenceOverSeveralSteps(DataType type, double wd) {
        List<Parameter> ps = List.of(
                param("encoder.dense.weight", type, 1, 3, 4),
                param("encoder.dense.bias", type, 2, 4),
                param("encoder.LayerNorm.weight", type, 3, 4),
                param("h.0.ln_1.weight", type, 4, 4),
                param("wte.weight", type, 5, 5, 2));
        Parameter frozen = ps.get(4);
        frozen.setTrainable(false);
        double[] frozenBefore = flat(frozen.value());

        Map<String, Ref> refs = new LinkedHashMap<>();
        boolean[] decays = {true, false, false, false};
        for (int i = 0; i < 4; i++) refs.put(ps.get(i).name(), new Ref(flat(ps.get(i).value()), decays[i]));

        AdamW opt = new AdamW(ps, AdamW.Options.HF_DEFAULTS.withWeightDecay(wd));
        LrSchedule sched = LrSchedule.linear(1e-2, 2, 7);     // first step has lr 0; then warm-up and decay
        SplittableRandom r = new SplittableRandom(42);
        for (int step = 0; step < 7; step++) {
            double lr = sched.lr(opt.steps());
            for (int i = 0; i < 4; i++) {
                Parameter p = ps.get(i);
                double[] g = grad(r, (int) p.numel(), type);
                setGrad(p, g);
                refs.get(p.name()).step(lr, wd, g);
            }
            opt.step(lr);
        }

        double tol = type == DataType.DOUBLE ? 1e-13 : 2e-6;
        for (int i = 0; i < 4; i++) {
            Parameter p = ps.get(i);
            Ref ref = refs.get(p.name());
            assertArrayEquals(ref.p, flat(p.value()), tol, p.name() + " value");
            AdamW.ParamState st = opt.state().params().get(p.name());
            assertEquals(7, st.step());
            assertArrayEquals(ref.m, flat(st.m()), type == DataType.DOUBLE ? 1e-15 : 1e-7, p.name() + " m");
            assertArrayEquals(ref.v, flat(st.v()), type == DataType.DOUBLE ? 1e-15 : 1e-8, p.name() + " v");
            assertEquals(type, st.m().dataType());
        }
        assertArrayEquals(frozenBefore, flat(frozen.value()), 0.0, "frozen parameter must be bit-identical");
        assertNull(frozen.grad());
        assertFalse(opt.hasState(frozen.name()));
        assertEquals(4, opt.stateCount());
        assertEquals(2L * (12 + 4 + 4 + 4) * type.width(), opt.stateBytes());
        assertEquals(7, opt.steps());
    }

    /**
     * First step, hand-derived. With m₀ = v₀ = 0 and t = 1: m = (1−β1)·g, v = (1−β2)·g², bc1 = 1−β1, bc2 = 1−β2, so
     * m̂ = g and √v̂ = |g|, and the update is Δ = −lr·g/(|g| + ε) = −lr·sign(g)·|g|/(|g| + ε): for |g| ≫ ε every
     * weight moves by lr against the sign of its gradient, whatever the gradient's size (|Δ| = lr·(1 − ε/|g|) to
     * first order). For g = 3e-7 = 30ε: Δ = −lr·30/31. For g = 0: Δ = 0. With weight decay λ the weight is first
     * scaled by (1 − lr·λ).
     */
    @Test
    void firstStepMovesEachWeightByLrAgainstTheSignOfItsGradient() {
        double lr = 1e-3, wd = 0.1;
        double[] p0 = {1.0, -0.5, 2.0, 0.25, 0.75};
        double[] g = {0.5, -2.0, 1e-3, 3e-7, 0.0};
        Parameter w = new Parameter("layer.weight", Nd4j.create(p0));
        Parameter b = new Parameter("layer.bias", Nd4j.create(p0.clone()));
        setGrad(w, g);
        setGrad(b, g);
        new AdamW(List.of(w, b), AdamW.Options.HF_DEFAULTS.withLr(lr).withWeightDecay(wd)).step();

        double[] expectedBias = {1.0 - lr, -0.5 + lr, 2.0 - lr, 0.25 - lr * 30.0 / 31.0, 0.75};
        double[] gotBias = flat(b.value());
        double[] gotWeight = flat(w.value());
        for (int i = 0; i < p0.length; i++) {
            // the dropped ε/|g| term where |g| ≫ ε; the g = 30ε entry is exact up to rounding
            double slack = g[i] == 0 || i == 3 ? 1e-15 : lr * EPS / Math.abs(g[i]) + 1e-15;
            assertEquals(expectedBias[i], gotBias[i], slack, "bias[" + i + "] (no decay)");
            assertEquals(expectedBias[i] - lr * wd * p0[i], gotWeight[i], slack, "weight[" + i + "] (decayed)");
        }
        assertEquals(0.75, gotBias[4], 0.0, "zero gradient, no decay: unchanged");
    }

    /** With zero gradients Adam's update is 0/(0+ε) = 0, so only the decoupled decay moves anything. */
    @Test
    void onlyNonBiasNonNormWeightsDecay() {
        double lr = 0.1, wd = 0.5;
        List<Parameter> ps = List.of(
                param("bert.encoder.layer.0.intermediate.dense.weight", DataType.DOUBLE, 1, 2, 3),
                param("bert.encoder.layer.0.intermediate.dense.bias", DataType.DOUBLE, 2, 3),
                param("bert.embeddings.LayerNorm.weight", DataType.DOUBLE, 3, 3),
                param("ln_f.weight", DataType.DOUBLE, 4, 3));
        List<double[]> before = new ArrayList<>();
        for (Parameter p : ps) {
            before.add(flat(p.value()));
            p.zeroGrad();
        }
        AdamW opt = new AdamW(ps, AdamW.Options.HF_DEFAULTS.withLr(lr).withWeightDecay(wd));
        for (int s = 0; s < 3; s++) opt.step();

        double[] w0 = before.get(0), w = flat(ps.get(0).value());
        for (int i = 0; i < w0.length; i++) {
            double expected = w0[i];
            for (int s = 0; s < 3; s++) expected *= 1 - lr * wd;
            assertEquals(expected, w[i], 1e-15);
        }
        for (int k = 1; k < 4; k++) {
            assertArrayEquals(before.get(k), flat(ps.get(k).value()), 0.0, ps.get(k).name() + " must not decay");
        }
    }

    @Test
    void huggingFaceNoDecayRule() {
        for (String n : List.of("bert.encoder.layer.0.attention.self.query.weight", "bert.embeddings.word_embeddings.weight",
                "classifier.weight", "h.0.mlp.c_fc.weight", "transformer.wte.weight", "score.weight",
                "h.0.attn.c_attn.lora_A.weight")) {
            assertTrue(AdamW.hfDecays(n), n);
        }
        for (String n : List.of("bert.encoder.layer.0.attention.self.query.bias", "bert.embeddings.LayerNorm.weight",
                "bert.encoder.layer.3.output.LayerNorm.bias", "h.0.ln_1.weight", "h.11.ln_2.weight", "ln_f.weight",
                "transformer.ln_f.weight", "h.0.ln_1.bias", "model.final_layer_norm.weight", "classifier.bias")) {
            assertFalse(AdamW.hfDecays(n), n);
        }
        Parameter w = new Parameter("x.weight", Nd4j.zeros(DataType.DOUBLE, 2));
        assertTrue(new AdamW(List.of(w)).decays(w));
        assertFalse(new AdamW(List.of(w), AdamW.Options.HF_DEFAULTS, p -> false).decays(w));
    }

    /** Save after 3 steps, load into a fresh optimizer over copies of the weights: the next 3 steps agree exactly. */
    @Test
    void stateRoundTripResumesExactly() {
        List<Parameter> a = List.of(param("l.weight", DataType.FLOAT, 1, 3, 2), param("l.bias", DataType.FLOAT, 2, 2),
                param("frozen.weight", DataType.FLOAT, 3, 2));
        a.get(2).setTrainable(false);
        AdamW.Options o = AdamW.Options.HF_DEFAULTS.withLr(1e-2).withWeightDecay(0.01);
        AdamW optA = new AdamW(a, o);
        SplittableRandom r = new SplittableRandom(7);
        for (int s = 0; s < 3; s++) {
            for (int i = 0; i < 2; i++) setGrad(a.get(i), grad(r, (int) a.get(i).numel(), DataType.FLOAT));
            optA.step();
        }
        AdamW.State saved = optA.state();
        assertEquals(3, saved.steps());
        assertEquals(List.of("l.weight", "l.bias"), List.copyOf(saved.params().keySet()));

        List<Parameter> b = new ArrayList<>();
        for (Parameter p : a) {
            Parameter q = new Parameter(p.name(), p.value().dup());
            q.setTrainable(p.trainable());
            b.add(q);
        }
        AdamW optB = new AdamW(b, o);
        optB.loadState(saved);
        assertEquals(3, optB.steps());
        assertNotSame(saved.params().get("l.weight").m(), optB.state().params().get("l.weight").m());
        assertFalse(optB.hasState("frozen.weight"));

        for (int s = 0; s < 3; s++) {
            for (int i = 0; i < 2; i++) {
                double[] g = grad(r, (int) a.get(i).numel(), DataType.FLOAT);
                setGrad(a.get(i), g);
                setGrad(b.get(i), g);
            }
            optA.step();
            optB.step();
        }
        for (int i = 0; i < 3; i++) assertArrayEquals(flat(a.get(i).value()), flat(b.get(i).value()), 0.0, a.get(i).name());
        assertEquals(6, optB.state().params().get("l.bias").step());
    }

    @Test
    void loadStateRejectsMismatches() {
        Parameter w = param("w.weight", DataType.DOUBLE, 1, 2, 2);
        Parameter f = param("f.weight", DataType.DOUBLE, 2, 2);
        f.setTrainable(false);
        AdamW opt = new AdamW(List.of(w, f));
        INDArray z4 = Nd4j.zeros(DataType.DOUBLE, 2, 2), z2 = Nd4j.zeros(DataType.DOUBLE, 2);
        assertThrows(IllegalArgumentException.class,
                () -> opt.loadState(new AdamW.State(1, Map.of("nope.weight", new AdamW.ParamState(1, z4, z4)))));
        assertThrows(IllegalArgumentException.class,
                () -> opt.loadState(new AdamW.State(1, Map.of("f.weight", new AdamW.ParamState(1, z2, z2)))));
        assertThrows(IllegalArgumentException.class,
                () -> opt.loadState(new AdamW.State(1, Map.of("w.weight", new AdamW.ParamState(1, z2, z2)))));
        assertEquals(0, opt.stateCount());
    }

    /** As in PyTorch, the step count is per parameter: one unfrozen after two steps starts at t = 1. */
    @Test
    void parameterUnfrozenLaterStartsAtStepOne() {
        double lr = 1e-3;
        Parameter a = new Parameter("a.weight", Nd4j.create(new double[]{0.0, 0.0}));
        Parameter b = new Parameter("b.weight", Nd4j.create(new double[]{0.0, 0.0}));
        b.setTrainable(false);
        AdamW opt = new AdamW(List.of(a, b), AdamW.Options.HF_DEFAULTS.withLr(lr));
        for (int s = 0; s < 2; s++) {
            setGrad(a, new double[]{1, 1});
            opt.step();
        }
        assertFalse(opt.hasState("b.weight"));
        b.setTrainable(true);
        setGrad(a, new double[]{1, 1});
        setGrad(b, new double[]{2.0, -0.5});
        opt.step();
        assertEquals(3, opt.state().params().get("a.weight").step());
        assertEquals(1, opt.state().params().get("b.weight").step());
        assertArrayEquals(new double[]{-lr, lr}, flat(b.value()), lr * 1e-7);   // first-step rule
    }

    @Test
    void tiedParameterListedTwiceStepsOnceAndDistinctSameNameIsRejected() {
        Parameter t1 = new Parameter("wte.weight", Nd4j.create(new double[]{1.0, 2.0}));
        Parameter t2 = new Parameter("wte.weight", Nd4j.create(new double[]{1.0, 2.0}));
        setGrad(t1, new double[]{0.3, -0.3});
        setGrad(t2, new double[]{0.3, -0.3});
        AdamW twice = new AdamW(List.of(t1, t1));
        assertEquals(1, twice.parameters().size());
        twice.step();
        new AdamW(List.of(t2)).step();
        assertArrayEquals(flat(t2.value()), flat(t1.value()), 0.0);
        assertThrows(IllegalArgumentException.class, () -> new AdamW(List.of(t1, t2)));
        assertThrows(IllegalArgumentException.class, () -> AdamW.Options.HF_DEFAULTS.withBetas(1.0, 0.999));
    }
}
