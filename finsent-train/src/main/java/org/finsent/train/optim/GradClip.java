package org.finsent.train.optim;

import org.finsent.core.nn.Parameter;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.BooleanIndexing;
import org.nd4j.linalg.indexing.conditions.Conditions;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * Gradient clipping by global norm, as {@code torch.nn.utils.clip_grad_norm_(params, maxNorm)} (2-norm), and a
 * NaN/Inf check. Only trainable parameters ({@code grad() != null}) count; a parameter listed twice (tied
 * weights) counts once, as in {@code model.parameters()}.
 */
public final class GradClip {
    private GradClip() {
    }

    /**
     * Clips in place and returns the total norm <em>before</em> clipping:
     * {@code total = sqrt(Σ_p ‖g_p‖²)}, {@code coef = maxNorm/(total + 1e-6)}, and if {@code coef < 1} every gradient
     * is multiplied by coef (PyTorch clamps coef at 1 and always multiplies; multiplying by 1 changes nothing, so
     * gradients are left untouched then). The 1e-6 keeps the division safe and makes the clipped norm land just
     * under maxNorm. Per-tensor norms are reduced by ND4J and summed in double.
     *
     * <p>One deliberate difference: if total is NaN or infinite, gradients are left untouched (PyTorch, with its
     * default {@code error_if_nonfinite=False}, would multiply them by NaN or 0) and the non-finite total is
     * returned, so the caller can skip the step, as mixed-precision loss scaling does.
     */
    public static double clipGlobalNorm(List<Parameter> params, double maxNorm) {
        if (!(maxNorm > 0) || Double.isInfinite(maxNorm)) throw new IllegalArgumentException("maxNorm must be finite and > 0: " + maxNorm);
        List<INDArray> grads = grads(params);
        double total = totalNorm(grads);
        if (!Double.isFinite(total)) return total;
        double coef = maxNorm / (total + 1e-6);
        if (coef < 1.0) {
            for (INDArray g : grads) g.muli(coef);
        }
        return total;
    }

    /** {@code sqrt(Σ_p ‖g_p‖²)} over trainable parameters, without clipping. */
    public static double globalNorm(List<Parameter> params) {
        return totalNorm(grads(params));
    }

    /** True iff no gradient of a trainable parameter holds a NaN or an infinity. */
    public static boolean allFinite(List<Parameter> params) {
        for (INDArray g : grads(params)) {
            if (g.length() > 0 && BooleanIndexing.or(g, Conditions.notFinite())) return false;
        }
        return true;
    }

    private static double totalNorm(List<INDArray> grads) {
        double sumSq = 0;
        for (INDArray g : grads) {
            double n = g.norm2Number().doubleValue();
            sumSq += n * n;
        }
        return Math.sqrt(sumSq);
    }

    private static List<INDArray> grads(List<Parameter> params) {
        Set<Parameter> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        List<INDArray> out = new ArrayList<>();
        for (Parameter p : params) {
            if (p.grad() != null && seen.add(p)) out.add(p.grad());
        }
        return out;
    }
}
