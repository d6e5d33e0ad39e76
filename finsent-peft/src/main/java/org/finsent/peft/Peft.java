package org.finsent.peft;

import org.finsent.core.model.SequenceClassifier;
import org.finsent.core.nn.InsertionPoints;
import org.finsent.core.nn.Linear;
import org.finsent.core.nn.Parameter;
import org.finsent.core.nn.Projection;
import org.finsent.core.nn.ProjectionSlot;
import org.nd4j.linalg.api.buffer.DataType;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Applies fine-tuning methods to a classifier: inserts the modules where the model's
 * {@link SequenceClassifier#insertionPoints() insertion points} say (so any architecture that describes them gets
 * every method, with no change here), then freezes everything except what the methods train (their own parameters,
 * plus the classification head, which PEFT trains by default for sequence classification:
 * {@code modules_to_save = ["classifier", "score"]}). Methods compose — LoRA + adapter on one model — and the frozen
 * set is the complement of the union.
 */
public final class Peft {
    private Peft() {
    }

    public static PeftModel apply(SequenceClassifier model, PeftMethod... methods) {
        if (methods.length == 0) throw new IllegalArgumentException("no fine-tuning method given");
        List<LoraLinear> loras = new ArrayList<>();
        List<BottleneckAdapter> adapters = new ArrayList<>();
        PrefixEncoder prefix = null;
        PromptEmbedding prompt = null;
        Set<Parameter> train = new HashSet<>(model.headParameters());
        boolean full = false;
        for (PeftMethod m : methods) {
            if (m instanceof LoraConfig c) loras.addAll(insertLora(model, c, train));
            else if (m instanceof AdapterConfig c) adapters.addAll(insertAdapters(model, c, train));
            else if (m instanceof PrefixTuningConfig c) {
                if (prefix != null) throw new IllegalArgumentException("only one prefix-tuning method per model");
                prefix = insertPrefix(model, c);
            } else if (m instanceof PromptTuningConfig c) {
                if (prompt != null) throw new IllegalArgumentException("only one prompt-tuning method per model");
                prompt = insertPrompt(model, c);
            }
            else if (m == PeftMethod.Baseline.FULL_FINE_TUNING) full = true;
        }
        for (Parameter p : model.parameters()) p.setTrainable(full || train.contains(p));
        return new PeftModel(model, List.of(methods), loras, adapters, prefix, prompt);
    }

    private static List<LoraLinear> insertLora(SequenceClassifier model, LoraConfig c, Set<Parameter> train) {
        List<LoraLinear> out = new ArrayList<>();
        List<ProjectionSlot> slots = model.insertionPoints().projections();
        for (ProjectionSlot slot : slots) {
            if (!c.targets(slot.module())) continue;
            Projection p = slot.get().get();
            if (!(p instanceof Linear linear)) {
                throw new IllegalStateException(slot.module() + " is already wrapped (" + p.getClass().getSimpleName() + "); one LoRA per module");
            }
            LoraLinear lora = new LoraLinear(slot.module(), linear, c);
            slot.set().accept(lora);
            out.add(lora);
            train.add(lora.loraA);
            train.add(lora.loraB);
            if (c.bias() == LoraConfig.Bias.LORA_ONLY && linear.bias != null) train.add(linear.bias);
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("LoRA target_modules " + (c.targetRegex() != null ? c.targetRegex() : c.targetModules())
                    + " match no module; modules are named like " + slots.get(0).module());
        }
        if (c.bias() == LoraConfig.Bias.ALL) {
            for (Parameter p : model.parameters()) if (p.name().endsWith(".bias")) train.add(p);
        }
        return out;
    }

    private static PrefixEncoder insertPrefix(SequenceClassifier model, PrefixTuningConfig c) {
        InsertionPoints.PrefixSlot slot = model.insertionPoints().keyValuePrefix();
        if (slot.get().get() != null) throw new IllegalStateException("the model already has a prefix");
        PrefixEncoder enc = new PrefixEncoder(c, slot.geometry(), dataType(model));
        slot.set().accept(enc);
        return enc; // its parameters live outside the base model and are always trainable
    }

    private static PromptEmbedding insertPrompt(SequenceClassifier model, PromptTuningConfig c) {
        InsertionPoints.PromptSlot slot = model.insertionPoints().virtualTokens();
        if (slot.get().get() != null) throw new IllegalStateException("the model already has a prompt");
        var e = new PromptEmbedding(c, slot.wordEmbeddings(), dataType(model));
        slot.set().accept(e);
        return e;
    }

    private static List<BottleneckAdapter> insertAdapters(SequenceClassifier model, AdapterConfig c, Set<Parameter> train) {
        List<BottleneckAdapter> out = new ArrayList<>();
        for (InsertionPoints.Block b : model.insertionPoints().blocks()) {
            if (b.hook().get() != null) throw new IllegalStateException(b.module() + " already has an output adapter");
            var a = new BottleneckAdapter(b.outputAdapterModule() + c.name() + ".", model.hiddenSize(), c, dataType(model));
            b.setHook().accept(a);
            out.add(a);
        }
        for (BottleneckAdapter a : out) train.addAll(a.parameters());
        return out;
    }

    private static DataType dataType(SequenceClassifier model) {
        return model.parameters().get(0).value().dataType();
    }
}
