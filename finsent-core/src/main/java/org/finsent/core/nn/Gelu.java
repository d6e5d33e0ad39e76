package org.finsent.core.nn;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Erf;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * GELU, in the two flavours checkpoints were trained with (ND4J's own GELU ops are approximations of neither):
 * <ul>
 *   <li>{@link #ERF} (BERT, {@code hidden_act="gelu"}): {@code y = x·Φ(x) = 0.5x(1 + erf(x/√2))},
 *       {@code y' = Φ(x) + x·φ(x)};</li>
 *   <li>{@link #TANH} (GPT-2, {@code "gelu_new"}): {@code y = 0.5x(1 + tanh(u))}, {@code u = √(2/π)(x + 0.044715x³)},
 *       {@code y' = 0.5(1 + t) + 0.5x(1 − t²)·√(2/π)(1 + 3·0.044715x²)}.</li>
 * </ul>
 * Stateless: {@link #forward} returns the output and {@link #backward} takes the forward's input.
 */
public enum Gelu {
    ERF, TANH;

    private static final double SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
    private static final double INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

    /** The activation named by a Hugging Face config ({@code hidden_act} / {@code activation_function}). */
    public static Gelu fromConfig(String name) {
        return switch (name) {
            case "gelu" -> ERF;
            case "gelu_new", "gelu_pytorch_tanh", "gelu_fast" -> TANH;
            default -> throw new IllegalArgumentException("unsupported activation '" + name + "' (gelu or gelu_new)");
        };
    }

    /**
     * Inference: the activation written over {@code x} on the fused FP32 path (no second buffer of x's size to
     * write into); elsewhere the same as {@code forward(x)}. Returns the result; x is no longer the input after it.
     */
    public INDArray forwardInPlace(INDArray x) {
        if (HostKernels.usable(x)) {   // dense FP32, fast paths on
            if (this == ERF) HostKernels.geluErf(x, x, null);
            else HostKernels.geluTanh(x, x);
            return x;
        }
        return forward(x);
    }

    /** A forward's output and what its backward can reuse (Φ(x) for {@link #ERF}; null for {@link #TANH}). */
    public record Output(INDArray y, INDArray saved) {
    }

    public INDArray forward(INDArray x) {
        return activate(x, false).y();
    }

    /**
     * Forward that also hands back what {@link #backward(INDArray, INDArray, INDArray)} can reuse instead of
     * recomputing: Φ(x) for {@link #ERF} (erf is the costliest element-wise op of a BERT step), nothing for
     * {@link #TANH}.
     */
    public Output forwardSaving(INDArray x) {
        return activate(x, true);
    }

    private Output activate(INDArray x, boolean save) {
        if (this == ERF) {
            if (HostKernels.usable(x)) { // FP32 fast path: one fused pass (HostKernels says how it differs)
                INDArray y = x.ulike(), cdf = save ? x.ulike() : null;   // inference keeps no Φ
                HostKernels.geluErf(x, y, cdf);
                return new Output(y, cdf);
            }
            // Φ(x)·x equals the textbook (1 + erf)·x·0.5 bit for bit: scaling by 0.5 is exact in either order
            INDArray cdf = cdf(x);
            return new Output(cdf.mul(x), save ? cdf : null);
        }
        if (HostKernels.usable(x)) {     // FP32 fast path: one pass instead of nine ND4J ops (HostKernels says how)
            INDArray y = x.ulike();
            HostKernels.geluTanh(x, y);
            return new Output(y, null);
        }
        INDArray t = Transforms.tanh(inner(x), false);
        return new Output(t.addi(1).muli(x).muli(0.5), null);
    }

    /** dx given dy and the forward's input x. */
    public INDArray backward(INDArray dy, INDArray x) {
        return backward(dy, x, null);
    }

    /** dx given dy, the forward's input x and what {@link #forwardSaving} saved (null: recompute). */
    public INDArray backward(INDArray dy, INDArray x, INDArray saved) {
        INDArray d;
        if (this == ERF && HostKernels.usable(dy, x) && (saved == null || HostKernels.usable(saved))) {
            INDArray cdf = saved;
            if (cdf == null) HostKernels.geluErf(x, x.ulike(), cdf = x.ulike());
            INDArray dx = x.ulike();
            HostKernels.geluErfBackward(dy, x, cdf, dx);
            return dx;
        }
        if (this == TANH && HostKernels.usable(dy, x)) {
            INDArray dx = x.ulike();
            HostKernels.geluTanhBackward(dy, x, dx);
            return dx;
        }
        if (this == ERF) {
            INDArray cdf = saved != null ? saved : cdf(x);
            INDArray pdf = Transforms.exp(x.mul(x).muli(-0.5), false).muli(INV_SQRT_2PI);
            d = pdf.muli(x).addi(cdf);
        } else {
            INDArray t = Transforms.tanh(inner(x), false);
            INDArray du = x.mul(x).muli(3 * 0.044715).addi(1).muli(SQRT_2_OVER_PI);
            INDArray sech2 = t.mul(t).rsubi(1);
            d = sech2.muli(du).muli(x).muli(0.5).addi(t.addi(1).muli(0.5));
        }
        return d.muli(dy);
    }

    /** Φ(x) = 0.5·(1 + erf(x/√2)). */
    private static INDArray cdf(INDArray x) {
        return Nd4j.getExecutioner().exec(new Erf(x.mul(1 / Math.sqrt(2)), x.ulike())).addi(1).muli(0.5);
    }

    private static INDArray inner(INDArray x) {
        return x.mul(x).muli(x).muli(0.044715).addi(x).muli(SQRT_2_OVER_PI);
    }
}
