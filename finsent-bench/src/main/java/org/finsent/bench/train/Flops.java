package org.finsent.bench.train;

/**
 * Analytic FLOPs of one training step (forward + backward; a multiply-add counts 2), for model FLOPs utilisation.
 * Counted: every matrix product a correct implementation must run. Per layer with N = B·T rows, Tk = T + prefix keys:
 * <pre>
 *   forward   projections 2N(4C² + 2C·F)            attention 2·2·B·T·Tk·C   (Q·Kᵀ and P·V over all heads)
 *   backward  input gradients = the forward's projections, attention 4 products (dV, dP, dQ, dK) = 2× forward,
 *             weight gradients 2N·in·out for each trainable projection only
 * </pre>
 * plus the PEFT modules' own products (LoRA 2N·r(in+out) forward, twice that backward; adapters 2·2N·C·m forward,
 * twice that backward; the prefix MLP) and the pooler/head (2B·C² and less). Full fine-tuning of BERT-Base at
 * 8 × 128 gives 536.3 GFLOP, the usual 3 × forward. Element-wise work (softmax, LayerNorm, GELU, AdamW) is not
 * counted, as in every MFU figure.
 */
public final class Flops {
    private Flops() {
    }

    public static double trainingStep(Arch a, Technique t, int b, int seq) {
        return trainingStep(a, t, b, seq, false);
    }

    /**
     * As {@link #trainingStep(Arch, Technique, int, int)}; with {@code clsOnly} the last layer runs its queries,
     * attention output, feed-forward block and adapter on B rows (BERT classifiers' {@code poolerRowsOnly}; keys
     * and values still on all N rows; GPT-2 classifiers' {@code lastTokenOnly}, whose fused c_attn computes the
     * queries of every row with the keys and values) — what FinSent's classifiers compute, and all they need.
     */
    public static double trainingStep(Arch a, Technique t, int b, int seq, boolean clsOnly) {
        double n = (double) b * seq, l = a.layers();
        double total = (l - 1) * layer(a, t, b, n, n, seq) + layer(a, t, b, clsOnly ? b : n, n, seq);
        if (t == Technique.PREFIX) {
            double c = a.hidden(), p = Technique.PREFIX_TOKENS, e = Technique.PREFIX_HIDDEN;
            total += 3 * 2 * p * (c * e + e * l * 2 * c);
        }
        double head = 3 * 2 * b * a.hidden() * a.hidden();       // BERT's pooler (GPT-2 has none; small either way)
        return total + head;
    }

    /** One layer's forward + backward with {@code nq} query/output rows and {@code nkv} key/value rows. */
    private static double layer(Arch a, Technique t, int b, double nq, double nkv, int seq) {
        double c = a.hidden(), f = a.ffn(), tq = nq / b, tk = seq + t.prefixLength();
        double proj = a.decoder()
                ? 2 * nkv * 3 * c * c + 2 * nq * (c * c + 2 * c * f)         // c_attn (q, k, v fused) | c_proj, MLP
                : 2 * nkv * 2 * c * c + 2 * nq * (2 * c * c + 2 * c * f);    // k, v | q, out, FFN
        double attn = 2 * 2 * b * tq * tk * c;
        double forward = proj + attn;
        double backward = proj + 2 * attn;                          // input gradients everywhere
        if (t == Technique.FULL) backward += proj;                  // weight gradients of every projection
        double extra = switch (t) {
            case LORA -> a.decoder() ? 3 * 2 * nkv * Technique.LORA_R * (c + 3 * c)    // on c_attn: every row
                    : 3 * 2 * Technique.LORA_R * (c + c) * (nq + 2 * nkv);   // q | k, v (c_attn: in C, out 3C)
            case ADAPTER -> 3 * 2 * 2 * nq * c * (c / Technique.ADAPTER_REDUCTION);
            default -> 0;
        };
        return forward + backward + extra;
    }

    /** Forward only (inference). */
    public static double forward(Arch a, int b, int seq) {
        double n = (double) b * seq, c = a.hidden(), f = a.ffn();
        return a.layers() * (2 * n * (4 * c * c + 2 * c * f) + 2 * 2 * b * (double) seq * seq * c) + 2 * b * c * c;
    }
}
