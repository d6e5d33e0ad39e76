package org.finsent.train;

import org.finsent.core.io.SafeTensors;
import org.finsent.core.model.BertConfig;
import org.finsent.core.model.BertForSequenceClassification;
import org.finsent.peft.LoraConfig;
import org.finsent.peft.Peft;
import org.nd4j.linalg.api.buffer.DataType;

import java.nio.file.Path;
import java.util.Map;

/**
 * The training run of {@link ResumeAfterKillTest}, in a JVM of its own so that the test can {@code kill -9} it: a
 * 2-layer BERT with dropout 0.1 (embeddings, attention, outputs) and LoRA (dropout 0.1), 18 optimizer steps over 3
 * epochs, checkpoints every 3 steps, evaluation every 4; the last weights are kept (not the best), so the final
 * weights are those of the last step. It resumes from the latest checkpoint in its output directory when there is one.
 *
 * <p>Arguments: {@code OUTPUT_DIR [stall-after-step=N] [stall-in-save=STEP:FILE]}. A stall prints {@code STALLED} on
 * stdout and sleeps until the process is killed: after optimizer step N (before that step's log line, evaluation and
 * checkpoint), or inside the save of {@code checkpoint-STEP} right after {@code FILE} was written into its temporary
 * directory. At the end it writes the trainable weights to {@value #FINAL} and prints {@code DONE}.
 */
public final class ResumeChild {
    static final String FINAL = "final_trainable.safetensors";

    public static void main(String[] a) throws Exception {
        Path out = Path.of(a[0]);
        long stallStep = -1;
        String stallSave = null;
        for (int i = 1; i < a.length; i++) {
            if (a[i].startsWith("stall-after-step=")) stallStep = Long.parseLong(a[i].substring("stall-after-step=".length()));
            else if (a[i].startsWith("stall-in-save=")) stallSave = a[i].substring("stall-in-save=".length());
            else throw new IllegalArgumentException("unknown argument " + a[i]);
        }
        if (stallSave != null) {
            String[] s = stallSave.split(":");
            String dirPrefix = ".tmp-" + Checkpoint.PREFIX + s[0] + "-", file = s[1];
            Checkpoint.afterFileWritten = (tmp, written) -> {
                if (tmp.getFileName().toString().startsWith(dirPrefix) && written.equals(file)) stall();
            };
        }
        var cfg = new BertConfig(30522, 16, 2, 2, 24, 64, 2, 1e-12, "gelu", 0.1, 0.1, 3);
        var model = Peft.apply(new BertForSequenceClassification(cfg, DataType.FLOAT, 5),
                LoraConfig.bert(4, 8).withTargets("query", "value").withDropout(0.1));
        Path last = Checkpoint.latest(out);
        TrainingArguments args = TrainingArguments.builder(out).numTrainEpochs(3).perDeviceTrainBatchSize(8)
                .perDeviceEvalBatchSize(16).gradientAccumulationSteps(2).learningRate(5e-2).lrSchedulerType("cosine")
                .warmupRatio(0.1).maxSeqLength(32).loggingSteps(1).saveSteps(3)
                .evalStrategy(TrainingArguments.EvalStrategy.STEPS).evalSteps(4).loadBestModelAtEnd(false)
                .metricForBestModel("eval_loss").classWeights(ClassWeighting.BALANCED).resumeFromCheckpoint(last).build();
        Trainer trainer = new Trainer(model, Fixtures.tokenizer(), args, Fixtures.LABELS);
        final long stallAt = stallStep;
        trainer.addListener(new TrainingListener() {
            @Override
            public void onOptimizerStep(long step, long totalSteps, double loss) {
                if (step == stallAt) stall();
            }
        });
        trainer.train(Fixtures.synthetic(96, 11), Fixtures.synthetic(48, 12));
        SafeTensors.write(out.resolve(FINAL), Trainer.trainableStateDict(model), Map.of("format", "pt"));
        System.out.println("DONE");
        System.out.flush();
    }

    private static void stall() {
        System.out.println("STALLED");
        System.out.flush();
        while (true) {
            try {
                Thread.sleep(60_000);
            } catch (InterruptedException ignored) {
                // only kill -9 ends this
            }
        }
    }
}
