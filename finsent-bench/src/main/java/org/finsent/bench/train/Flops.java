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
        double n = (double) b * seq, c = a.hidden(), f = a.ffn(), l = a.layers();
        double tk = seq + t.prefixLength();
        double proj = 2 * n * (4 * c * c + 2 * c * f);              // q, k, v, out (GPT-2: c_attn + c_proj) and the FFN
        double attn = 2 * 2 * b * seq * tk * c;
        double forward = l * (proj + attn);
        double backward = l * (proj + 2 * attn);                   // input gradients everywhere
        if (t == Technique.FULL) backward += l * proj;              // weight gradients of every projection
        double extra = 0;
        switch (t) {
            case LORA -> extra = l * 3 * 3 * 2 * n * Technique.LORA_R * (c + c); // q, k, v (c_attn: in C, out 3C ≈ same sum)
            case ADAPTER -> extra = l * 3 * 2 * 2 * n * c * (c / Technique.ADAPTER_REDUCTION);
            case PREFIX -> {
                double p = Technique.PREFIX_TOKENS, e = Technique.PREFIX_HIDDEN;
                extra = 3 * 2 * p * (c * e + e * l * 2 * c);
            }
            default -> { }
        }
        if (t == Technique.LORA && a.decoder()) extra = l * 3 * 2 * n * Technique.LORA_R * (c + 3 * c);
        double head = 3 * 2 * b * c * c;                           // BERT's pooler (GPT-2 has none; small either way)
        return forward + backward + extra + head;
    }

    /** Forward only (inference). */
    public static double forward(Arch a, int b, int seq) {
        double n = (double) b * seq, c = a.hidden(), f = a.ffn();
        return a.layers() * (2 * n * (4 * c * c + 2 * c * f) + 2 * 2 * b * (double) seq * seq * c) + 2 * b * c * c;
    }
}
