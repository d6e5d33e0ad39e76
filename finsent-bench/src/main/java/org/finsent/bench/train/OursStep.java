package org.finsent.bench.train;

import org.finsent.core.model.Batch;
import org.finsent.core.model.CrossEntropyLoss;
import org.finsent.core.model.SequenceClassifier;
import org.finsent.core.nn.Parameter;
import org.finsent.train.optim.AdamW;
import org.finsent.peft.Peft;
import org.finsent.peft.PeftModel;
import org.finsent.train.StepMemory;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.List;

/**
 * One FinSent training step exactly as {@code org.finsent.train.Trainer} runs it: forward, weighted cross-entropy
 * and backward inside the per-step ND4J workspace ({@link StepMemory}), then AdamW outside it and zeroed gradients.
 * The model is the real classifier class wrapped by {@link Peft#apply}.
 */
public final class OursStep implements TrainStep {
    private static final String WORKSPACE = "finsent-bench-step";
    public final PeftModel model;
    public final AdamW optimizer;
    private final CrossEntropyLoss loss = new CrossEntropyLoss(null);
    private final List<Parameter> trainable;
    private Batch batch;
    private int[] labels;
    private double lastLoss;

    public OursStep(Arch arch, Technique technique, long seed) {
        SequenceClassifier base = arch.newModel(seed);
        if (!clsOnlyLastLayer(arch)) {
            if (base instanceof org.finsent.core.model.BertForSequenceClassification b) b.bert.poolerRowsOnly(false);
            if (base instanceof org.finsent.core.model.Gpt2ForSequenceClassification g) g.transformer.lastTokenOnly(false);
        }
        model = Peft.apply(base, technique.method(arch));
        trainable = model.parameters().stream().filter(Parameter::trainable).toList();
        optimizer = new AdamW(trainable, AdamW.Options.HF_DEFAULTS);
        model.train(true);
        model.zeroGrad();
    }

    /**
     * Whether our classifier of {@code arch} runs its last layer on the rows its head reads only (BERT: [CLS],
     * {@code BertModel.poolerRowsOnly}; GPT-2: the last real tokens, {@code Gpt2Model.lastTokenOnly}): the default,
     * unless {@code -Dfinsent.bench.fullLastLayer=true} asks for every row, as PyTorch/Transformers compute it (to
     * measure what it buys in the same run).
     */
    public static boolean clsOnlyLastLayer(Arch arch) {
        return !Boolean.getBoolean("finsent.bench.fullLastLayer");
    }

    @Override
    public void setBatch(Batch batch, int[] labels) {
        this.batch = batch;
        this.labels = labels;
    }

    @Override
    public void step() {
        try (MemoryWorkspace ws = StepMemory.step(WORKSPACE)) {
            INDArray logits = model.forward(batch);
            CrossEntropyLoss.Result ce = loss.compute(logits, labels);
            model.backward(ce.dLogits());
            lastLoss = ce.loss();
        }
        optimizer.step(optimizer.options().lr(), true);  // as Trainer: gradients cleared in AdamW's pass
    }

    @Override
    public double lastLoss() {
        return lastLoss;
    }

    public long trainableCount() {
        return trainable.stream().mapToLong(Parameter::numel).sum();
    }

    @Override
    public long optimizerStateBytes() {
        return optimizer.stateBytes();
    }

    @Override
    public void close() {
        StepMemory.release(WORKSPACE);
    }
}
