package org.finsent.core.nn;

import org.finsent.core.model.Batch;
import org.finsent.core.model.BertConfig;
import org.finsent.core.model.BertForSequenceClassification;
import org.finsent.core.model.Gpt2Config;
import org.finsent.core.model.Gpt2ForSequenceClassification;
import org.finsent.core.model.SequenceClassifier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.List;
import java.util.function.LongFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link FastPaths}: one switch turns every host fast path off, missing natives do the same, and either way a BERT
 * and a GPT-2 classifier compute what the fast paths compute (logits and every parameter's gradient, in training
 * and in eval, with padding so that row packing and the head-row readout run).
 */
class FastPathsTest {
    /** FP64 runs no fused kernel, only another GEMM route: the golden tests' FP64 bound (1e-10 of the scale). */
    static final double FP64 = 1e-10;
    /**
     * FP32: the fused kernels' erf and exp differ from ND4J's by a few ulps (HostKernels says by how much), and sums
     * run in another order; 1e-5 of each tensor's scale, between the FP32 golden bounds (1e-6 of the scale for
     * gradients from an FP32 start, 1e-4 absolute against ONNX Runtime).
     */
    static final double FP32 = 1e-5;

    @AfterEach
    void restore() {
        FastPaths.force(null);
        FastPaths.simulateMissingNatives(false);
        HostKernels.enabled(true);
    }

    @Test
    void theSwitchReachesTheTestJvm() {
        // the parent POM passes -Dfinsent.fastPaths (default true) to every test JVM: CI's reference-path leg relies on it
        String property = System.getProperty(FastPaths.PROPERTY);
        assertNotNull(property, "surefire must pass " + FastPaths.PROPERTY + " (parent pom, systemPropertyVariables)");
        assertEquals(!property.trim().equalsIgnoreCase("false"), FastPaths.enabled(), FastPaths.describe());
    }

    @Test
    void switchedOffEveryFastPathStepsAsideWithTheSameResults() {
        for (DataType type : new DataType[]{DataType.DOUBLE, DataType.FLOAT}) {
            for (boolean gpt2 : new boolean[]{false, true}) {
                FastPaths.force(true);
                assertTrue(FastPaths.enabled(), "the CPU backend with its natives runs the fast paths");
                Run fast = run(gpt2, type);
                FastPaths.force(false);
                assertEveryFastPathOff();
                assertTrue(FastPaths.describe().contains(FastPaths.PROPERTY), FastPaths.describe());
                Run plain = run(gpt2, type);
                plain.assertClose(fast, type == DataType.DOUBLE ? FP64 : FP32, (gpt2 ? "GPT-2 " : "BERT ") + type);
            }
        }
    }

    @Test
    void missingNativesMakeEveryFastPathStepAside() {
        FastPaths.force(true);                                  // also when the whole run has them switched off
        Run bertFast = run(false, DataType.FLOAT), gpt2Fast = run(true, DataType.FLOAT);
        FastPaths.simulateMissingNatives(true);
        assertEveryFastPathOff();
        assertTrue(FastPaths.describe().contains("natives"), FastPaths.describe());
        run(false, DataType.FLOAT).assertClose(bertFast, FP32, "BERT without natives");
        run(true, DataType.FLOAT).assertClose(gpt2Fast, FP32, "GPT-2 without natives");
        FastPaths.simulateMissingNatives(false);
        assertTrue(FastPaths.enabled(), "the real probe finds the natives again");
    }

    /** What each fast path consults, with arrays every one of them would otherwise take. */
    private static void assertEveryFastPathOff() {
        assertFalse(FastPaths.enabled());
        INDArray a = Nd4j.rand(DataType.FLOAT, 64, 32), b = Nd4j.rand(DataType.FLOAT, 32, 16);
        assertFalse(HostKernels.usable(a), "fused element-wise kernels");
        assertFalse(HostKernels.active(), "fused attention");
        assertFalse(HostKernels.onCpu(), "host-memory copies (row packing) and the fused AdamW");
        assertFalse(BatchedMatmul.directBlas(), "batched products' direct OpenBLAS calls");
        assertFalse(BatchedMatmul.Direct.usable(a.reshape(2, 32, 32), a.reshape(2, 32, 32), null), "batched direct path");
        assertFalse(Gemm.usable(a, b, Nd4j.create(DataType.FLOAT, 64, 16)), "GEMM's direct OpenBLAS calls and small kernels");
        assertFalse(Gemm.usable(a.castTo(DataType.DOUBLE), b.castTo(DataType.DOUBLE), Nd4j.create(DataType.DOUBLE, 64, 16)),
                "FP64 GEMM's direct calls");
    }

    /** Logits (training and eval) and every parameter's gradient of one classifier on a padded batch. */
    private record Run(double[] logits, double[] evalLogits, List<double[]> grads, List<String> names) {
        void assertClose(Run want, double tol, String what) {
            assertWithin(want.logits, logits, tol, what + " logits");
            assertWithin(want.evalLogits, evalLogits, tol, what + " eval logits");
            assertEquals(want.names, names);
            for (int i = 0; i < grads.size(); i++) {
                String name = names.get(i);
                // BERT's key bias gradient is zero in exact arithmetic (softmax ignores a per-row shift): round-off
                // only, measured against the key weight's gradient instead (as the golden tests do)
                double scale = name.endsWith("attention.self.key.bias")
                        ? scale(want.grads.get(names.indexOf(name.replace(".bias", ".weight")))) : scale(want.grads.get(i));
                assertWithin(want.grads.get(i), grads.get(i), tol, scale, what + " d" + name);
            }
        }
    }

    private static double scale(double[] x) {
        double s = 0;
        for (double v : x) s = Math.max(s, Math.abs(v));
        return s;
    }

    private static void assertWithin(double[] want, double[] got, double tol, String what) {
        assertWithin(want, got, tol, scale(want), what);
    }

    private static void assertWithin(double[] want, double[] got, double tol, double scale, String what) {
        assertEquals(want.length, got.length, what);
        double worst = 0;
        for (int i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(want[i] - got[i]));
        assertTrue(scale > 0, what + " is all zero: nothing compared");
        assertTrue(worst <= tol * scale, what + ": max difference " + worst + " > " + tol + " of scale " + scale);
    }

    private static Run run(boolean gpt2, DataType type) {
        LongFunction<SequenceClassifier> make = gpt2
                ? seed -> new Gpt2ForSequenceClassification(new Gpt2Config(40, 16, 8, 2, 2, 12, "gelu_new", 0, 0, 0, 1e-5, 3, 39), type, seed)
                : seed -> new BertForSequenceClassification(new BertConfig(40, 8, 2, 2, 12, 16, 2, 1e-12, "gelu", 0, 0, 3), type, seed);
        SequenceClassifier m = make.apply(7);
        long s = 11;
        for (Parameter p : m.parameters()) {   // as TinyModels: LayerNorm weights around 1, the rest N(0, 0.4²)
            boolean ln = p.name().endsWith("LayerNorm.weight") || p.name().matches(".*ln_(1|2|f)\\.weight");
            GradCheck.randomize(p.value(), ln ? 1 : 0, ln ? 0.2 : 0.4, s++);
        }
        int pad = gpt2 ? 39 : 0;
        // left padding in one row, right padding in the other: packing and the head-row readout both have work
        Batch batch = new Batch(new int[][]{{pad, pad, 11, 4, 30, 7}, {5, 17, 3, 22, 9, pad}}, new int[2][6],
                new int[][]{{0, 0, 1, 1, 1, 1}, {1, 1, 1, 1, 1, 0}});
        m.train(true);
        m.zeroGrad();
        INDArray logits = m.forward(batch);
        INDArray dLogits = Nd4j.createFromArray(new double[][]{{0.3, -0.7, 0.4}, {-0.2, 0.5, -0.3}}).castTo(type);
        m.backward(dLogits);
        List<double[]> grads = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (Parameter p : m.parameters()) {
            if (p.grad() == null) continue;
            grads.add(p.grad().dup().data().asDouble());
            names.add(p.name());
        }
        double[] train = logits.dup().data().asDouble();
        m.train(false);
        double[] eval = m.forward(batch).dup().data().asDouble();
        return new Run(train, eval, grads, names);
    }
}
