package org.finsent.peft;

import org.finsent.core.model.Batch;
import org.finsent.core.model.SequenceClassifier;
import org.finsent.core.nn.Parameter;
import org.finsent.core.nn.InsertionPoints;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.List;

/**
 * A classifier with PEFT modules inserted (by {@link Peft#apply}). Forward and backward are the base model's —
 * the modules sit inside it — but {@link #train(boolean)} also reaches the modules' dropout, and
 * {@link #trainableParameters()} is what an optimizer should see (frozen weights have no gradient buffer and get
 * no optimizer state).
 */
public final class PeftModel implements SequenceClassifier {
    private final SequenceClassifier base;
    private final List<PeftMethod> methods;
    private final List<LoraLinear> loras;
    private final List<BottleneckAdapter> adapters;
    private final PrefixEncoder prefix; // null without prefix tuning
    private final PromptEmbedding prompt; // null without prompt tuning

    PeftModel(SequenceClassifier base, List<PeftMethod> methods, List<LoraLinear> loras, List<BottleneckAdapter> adapters,
              PrefixEncoder prefix, PromptEmbedding prompt) {
        this.base = base;
        this.prefix = prefix;
        this.prompt = prompt;
        this.methods = List.copyOf(methods);
        this.loras = List.copyOf(loras);
        this.adapters = List.copyOf(adapters);
    }

    public SequenceClassifier base() {
        return base;
    }

    public List<PeftMethod> methods() {
        return methods;
    }

    public List<LoraLinear> loraModules() {
        return loras;
    }

    public List<BottleneckAdapter> adapterModules() {
        return adapters;
    }

    @Override
    public INDArray forward(Batch batch) {
        return base.forward(batch);
    }

    @Override
    public void backward(INDArray dLogits) {
        base.backward(dLogits);
    }

    @Override
    public void train(boolean on) {
        base.train(on);
        for (LoraLinear l : loras) l.train(on);
    }

    /** The prefix-tuning encoder, or null. */
    public PrefixEncoder prefixEncoder() {
        return prefix;
    }

    /** The prompt-tuning embedding, or null. */
    public PromptEmbedding promptEmbedding() {
        return prompt;
    }

    /** The base model's parameters (with LoRA and adapter modules inside it) plus the prefix and prompt encoders'. */
    @Override
    public List<Parameter> parameters() {
        if (prefix == null && prompt == null) return base.parameters();
        List<Parameter> all = new java.util.ArrayList<>(base.parameters());
        if (prefix != null) all.addAll(prefix.parameters());
        if (prompt != null) all.add(prompt.embedding);
        return all;
    }

    public List<Parameter> trainableParameters() {
        return parameters().stream().filter(Parameter::trainable).toList();
    }

    @Override
    public InsertionPoints insertionPoints() {
        return base.insertionPoints();
    }

    @Override
    public List<Parameter> headParameters() {
        return base.headParameters();
    }

    @Override
    public int hiddenSize() {
        return base.hiddenSize();
    }

    @Override
    public int numLayers() {
        return base.numLayers();
    }

    @Override
    public int numHeads() {
        return base.numHeads();
    }

    /** Folds every LoRA update into its base weight (inference without the extra GEMMs). */
    public void merge() {
        for (LoraLinear l : loras) l.merge();
    }

    public void unmerge() {
        for (LoraLinear l : loras) l.unmerge();
    }

    /** PEFT's {@code print_trainable_parameters} line. */
    public String trainableParametersReport() {
        long trainable = 0, all = 0;
        for (Parameter p : parameters()) {
            all += p.numel();
            if (p.trainable()) trainable += p.numel();
        }
        return String.format(java.util.Locale.ROOT, "trainable params: %,d || all params: %,d || trainable%%: %.4f",
                trainable, all, 100.0 * trainable / all);
    }

    public long trainableCount() {
        return trainableParameters().stream().mapToLong(Parameter::numel).sum();
    }
}
