package org.finsent.peft;

import org.finsent.core.model.BertForSequenceClassification;
import org.finsent.core.model.BertLayer;
import org.finsent.core.model.Gpt2Block;
import org.finsent.core.model.Gpt2ForSequenceClassification;
import org.finsent.core.model.SequenceClassifier;
import org.finsent.core.nn.Linear;
import org.finsent.core.nn.Parameter;
import org.finsent.core.nn.Projection;
import org.finsent.core.nn.ProjectionSlot;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Applies fine-tuning methods to a classifier: inserts the modules, then freezes everything except what the
 * methods train (their own parameters, plus the classification head, which PEFT trains by default for sequence
 * classification: {@code modules_to_save = ["classifier", "score"]}). Methods compose — LoRA + adapter on one
 * model — and the frozen set is the complement of the union.
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
        for (ProjectionSlot slot : model.projectionSlots()) {
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
                    + " match no module; modules are named like " + model.projectionSlots().get(0).module());
        }
        if (c.bias() == LoraConfig.Bias.ALL) {
            for (Parameter p : model.parameters()) if (p.name().endsWith(".bias")) train.add(p);
        }
        return out;
    }

    private static PrefixEncoder insertPrefix(SequenceClassifier model, PrefixTuningConfig c) {
        var type = model.parameters().get(0).value().dataType();
        PrefixEncoder enc = new PrefixEncoder(c, model.numLayers(), model.hiddenSize(), type);
        if (model instanceof BertForSequenceClassification bert) {
            if (bert.bert.prefix != null) throw new IllegalStateException("the model already has a prefix");
            bert.bert.prefix = enc;
        } else if (model instanceof Gpt2ForSequenceClassification gpt2) {
            if (gpt2.transformer.prefix != null) throw new IllegalStateException("the model already has a prefix");
            gpt2.transformer.prefix = enc;
        } else {
            throw new IllegalArgumentException("prefix tuning supports BERT and GPT-2 classifiers, not " + model.getClass().getSimpleName());
        }
        return enc; // its parameters live outside the base model and are always trainable
    }

    private static PromptEmbedding insertPrompt(SequenceClassifier model, PromptTuningConfig c) {
        var type = model.parameters().get(0).value().dataType();
        if (model instanceof BertForSequenceClassification bert) {
            if (bert.bert.prompt != null) throw new IllegalStateException("the model already has a prompt");
            var e = new PromptEmbedding(c, bert.bert.word.weight, type);
            bert.bert.prompt = e;
            return e;
        } else if (model instanceof Gpt2ForSequenceClassification gpt2) {
            if (gpt2.transformer.prompt != null) throw new IllegalStateException("the model already has a prompt");
            var e = new PromptEmbedding(c, gpt2.transformer.wte.weight, type);
            gpt2.transformer.prompt = e;
            return e;
        }
        throw new IllegalArgumentException("prompt tuning supports BERT and GPT-2 classifiers, not " + model.getClass().getSimpleName());
    }

    private static List<BottleneckAdapter> insertAdapters(SequenceClassifier model, AdapterConfig c, Set<Parameter> train) {
        List<BottleneckAdapter> out = new ArrayList<>();
        if (model instanceof BertForSequenceClassification bert) {
            for (BertLayer l : bert.bert.layers) {
                if (l.outputHook != null) throw new IllegalStateException(l.prefix() + " already has an output adapter");
                var a = new BottleneckAdapter(l.prefix() + "output.adapters." + c.name() + ".", model.hiddenSize(), c,
                        bert.bert.type);
                l.outputHook = a;
                out.add(a);
            }
        } else if (model instanceof Gpt2ForSequenceClassification gpt2) {
            for (Gpt2Block b : gpt2.transformer.blocks) {
                if (b.outputHook != null) throw new IllegalStateException(b.prefix() + " already has an output adapter");
                var a = new BottleneckAdapter(b.prefix() + "output_adapters.adapters." + c.name() + ".", model.hiddenSize(), c,
                        gpt2.transformer.type);
                b.outputHook = a;
                out.add(a);
            }
        } else {
            throw new IllegalArgumentException("bottleneck adapters support BERT and GPT-2 classifiers, not " + model.getClass().getSimpleName());
        }
        for (BottleneckAdapter a : out) train.addAll(a.parameters());
        return out;
    }
}
