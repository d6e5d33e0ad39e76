package org.finsent.core.model;

import org.finsent.core.io.DType;
import org.finsent.core.io.StateDict;
import org.finsent.core.io.TensorData;
import org.finsent.core.io.WeightFormatException;
import org.finsent.core.nn.Parameter;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Moves weights between a model's {@link Parameter}s and a {@link StateDict}. Parameter names are Hugging Face
 * {@code state_dict} keys, so this is a name table with the variations checkpoints really have:
 * <ul>
 *   <li>with or without the base-model prefix ({@code bert.}, {@code transformer.}: the hub's GPT-2 safetensors
 *       has none, a bare {@code BertModel} has none);</li>
 *   <li>TF-converted LayerNorm names {@code gamma}/{@code beta} for {@code weight}/{@code bias};</li>
 *   <li>GPT-2's attention buffers ({@code h.N.attn.bias}, {@code masked_bias}) and BERT's
 *       {@code embeddings.position_ids} buffer, which are not weights, and GPT-2's {@code lm_head.weight}, which
 *       is {@code wte} itself.</li>
 * </ul>
 * Like Hugging Face, loading reports missing keys (parameters left as initialised, e.g. a new classifier head or
 * the pooler of a bare encoder) and unexpected keys (e.g. BERT's pre-training {@code cls.*} heads), and
 * {@link LoadReport#log} words them as Transformers' {@code from_pretrained} does; a shape mismatch of a weight
 * the checkpoint has is an error naming the tensor and both shapes. Non-finite weights are counted and logged.
 */
public final class ModelWeights {
    private static final Logger LOG = LoggerFactory.getLogger(ModelWeights.class);
    private static final String[] PREFIXES = {"bert.", "transformer.", "roberta.", "model."};

    private ModelWeights() {
    }

    /** What a load did. */
    public record LoadReport(List<String> loaded, List<String> missing, List<String> unexpected) {
        @Override
        public String toString() {
            return loaded.size() + " loaded, missing " + missing + ", unexpected " + unexpected;
        }

        /**
         * Transformers' warning for the weights a checkpoint lacks, which keep their initialisation, leaving out
         * {@code suppliedLater} (weights the caller loads next, e.g. a head from an adapter file); null if none.
         */
        public String missingWarning(String modelClass, String source, Collection<String> suppliedLater) {
            List<String> m = missing.stream().filter(n -> !suppliedLater.contains(n)).toList();
            if (m.isEmpty()) return null;
            return "Some weights of " + modelClass + " were not initialized from the model checkpoint at " + source
                    + " and are newly initialized: " + m + "\nYou should probably TRAIN this model on a down-stream task "
                    + "to be able to use it for predictions and inference.";
        }

        /** Transformers' warning for checkpoint tensors the model has no place for (e.g. BERT's {@code cls.*}); null if none. */
        public String unexpectedWarning(String modelClass, String source) {
            if (unexpected.isEmpty()) return null;
            return "Some weights of the model checkpoint at " + source + " were not used when initializing " + modelClass
                    + ": " + unexpected + "\n- This IS expected if you are initializing " + modelClass + " from the checkpoint "
                    + "of a model trained on another task or with another architecture (e.g. initializing a "
                    + "BertForSequenceClassification model from a BertForPreTraining model).\n- This IS NOT expected if you "
                    + "are initializing " + modelClass + " from the checkpoint of a model that you expect to be exactly "
                    + "identical (initializing a BertForSequenceClassification model from a BertForSequenceClassification model).";
        }

        /**
         * Logs what {@code from_pretrained} logs: one warning naming the weights that were newly initialised (but not
         * {@code suppliedLater}), one naming the checkpoint's unused tensors.
         */
        public void log(String modelClass, String source, Collection<String> suppliedLater) {
            String u = unexpectedWarning(modelClass, source), m = missingWarning(modelClass, source, suppliedLater);
            if (u != null) LOG.warn(u);
            if (m != null) LOG.warn(m);
        }
    }

    /** Copies every tensor of {@code weights} into the parameter of the same (normalised) name. */
    public static LoadReport load(Map<String, Parameter> params, StateDict weights, String source) throws WeightFormatException {
        List<String> loaded = new ArrayList<>(), missing = new ArrayList<>();
        Set<String> used = new HashSet<>();
        for (Parameter p : params.values()) {
            String key = find(p.name(), weights);
            if (key == null) {
                missing.add(p.name());
                continue;
            }
            TensorData t = weights.get(key);
            if (!Arrays.equals(t.shape(), p.value().shape())) {
                throw new WeightFormatException(source, key, "shape " + Arrays.toString(t.shape())
                        + " does not match the model's " + p.name() + " " + Arrays.toString(p.value().shape()));
            }
            INDArray v = t.toINDArray(p.value().dataType());
            long bad = v.isNaN().castTo(DataType.INT).sumNumber().longValue() + v.isInfinite().castTo(DataType.INT).sumNumber().longValue();
            if (bad > 0) LOG.warn("{}: tensor '{}' has {} non-finite values", source, key, bad);
            p.assign(v);
            used.add(key);
            loaded.add(p.name());
        }
        List<String> unexpected = new ArrayList<>();
        for (String k : weights.names()) {
            if (!used.contains(k) && !isBuffer(k)) unexpected.add(k);
        }
        // the caller knows the model class and which missing weights it supplies itself: it logs (LoadReport#log)
        if (!missing.isEmpty()) LOG.debug("{}: {} parameters not in the checkpoint: {}", source, missing.size(), missing);
        if (!unexpected.isEmpty()) LOG.debug("{}: {} checkpoint tensors not used: {}", source, unexpected.size(), unexpected);
        return new LoadReport(loaded, missing, unexpected);
    }

    /** The checkpoint key holding parameter {@code name}, trying the prefix and LayerNorm name variants. */
    static String find(String name, StateDict weights) {
        for (String candidate : variants(name)) {
            if (weights.contains(candidate)) return candidate;
            String tf = candidate.replaceAll("LayerNorm\\.weight$", "LayerNorm.gamma").replaceAll("LayerNorm\\.bias$", "LayerNorm.beta");
            if (!tf.equals(candidate) && weights.contains(tf)) return tf;
        }
        return null;
    }

    private static List<String> variants(String name) {
        List<String> v = new ArrayList<>(List.of(name));
        for (String p : PREFIXES) {
            if (name.startsWith(p)) v.add(name.substring(p.length()));
        }
        if (v.size() == 1) for (String p : PREFIXES) v.add(p + name);
        return v;
    }

    private static boolean isBuffer(String key) {
        return key.endsWith(".attn.bias") || key.endsWith(".attn.masked_bias") || key.endsWith("embeddings.position_ids")
                || key.equals("lm_head.weight");
    }

    /** The parameters as a state dict in {@code dtype} (F32 for checkpoints, F64 for exact round trips). */
    public static StateDict stateDict(Map<String, Parameter> params, DType dtype) {
        StateDict sd = new StateDict();
        for (Parameter p : params.values()) {
            long[] shape = p.value().shape();
            TensorData t = dtype == DType.F64
                    ? TensorData.of(p.name(), p.value().castTo(DataType.DOUBLE).dup('c').data().asDouble(), shape)
                    : TensorData.ofFloats(p.name(), dtype, p.value().castTo(DataType.FLOAT).dup('c').data().asFloat(), shape);
            sd.put(t);
        }
        return sd;
    }
}
