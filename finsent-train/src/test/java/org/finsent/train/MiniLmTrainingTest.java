package org.finsent.train;

import org.finsent.core.data.Example;
import org.finsent.core.data.Splits;
import org.finsent.core.nn.Parameter;
import org.finsent.peft.LoraConfig;
import org.finsent.peft.Peft;
import org.finsent.peft.PeftModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * End to end on real inputs: the real all-MiniLM-L6-v2 encoder (weights from its ONNX file) with LoRA r=8 on
 * query/value plus a new head, fine-tuned on a stratified FinancialPhraseBank sample in FP32 with sequence length 64
 * and batch 16, dropout 0.1 on. Sized for CI on 2 cores.
 */
class MiniLmTrainingTest {
    @TempDir
    Path tmp;

    private static Splits.Result sample(List<Example> fpb, int train, int eval) {
        return Splits.stratified(fpb, (double) train / fpb.size(), (double) eval / fpb.size(), 42);
    }

    private static PeftModel loraMiniLm() throws Exception {
        return Peft.apply(Fixtures.miniLm(42), LoraConfig.bert(8, 16).withTargets("query", "value"));
    }

    @Test
    void loraFineTuningLearnsFinancialSentiment() throws Exception {
        long t0 = System.nanoTime();
        Splits.Result split = sample(Fixtures.fpb(), 600, 200);
        List<Example> train = split.train(), eval = split.validation();
        int[] counts = split.counts()[1];
        double majority = (double) java.util.Arrays.stream(counts).max().orElseThrow() / eval.size();

        PeftModel model = loraMiniLm();
        var args = TrainingArguments.builder(tmp).numTrainEpochs(2).perDeviceTrainBatchSize(16).perDeviceEvalBatchSize(32)
                .learningRate(3e-3).warmupRatio(0.1).maxSeqLength(64).loggingSteps(10).saveSteps(0)
                .classWeights(ClassWeighting.BALANCED).evalStrategy(TrainingArguments.EvalStrategy.EPOCH)
                .metricForBestModel("accuracy").build();
        Trainer trainer = new Trainer(model, Fixtures.tokenizer(), args, Fixtures.LABELS);
        EvalResult before = trainer.evaluate(eval);
        TrainResult r = trainer.train(train, eval);
        double seconds = (System.nanoTime() - t0) / 1e9;

        List<LogEntry> trainLogs = r.log().stream().filter(e -> e.eval() == null).toList();
        double firstLoss = trainLogs.get(0).trainLoss(), lastLoss = trainLogs.get(trainLogs.size() - 1).trainLoss();
        EvalResult after = trainer.evaluate(eval); // unweighted, like `before`
        System.out.printf("MiniLM + LoRA (%s): %d train / %d eval, %d steps; train loss %.4f (steps 1-10) -> %.4f (last 10); "
                        + "eval loss %.4f -> %.4f; eval accuracy %.4f -> %.4f (majority class %.4f), f1_macro %.4f; "
                        + "padding efficiency %.3f; train %.1f s, whole test %.1f s%n",
                model.trainableParametersReport(), train.size(), eval.size(), r.globalStep(), firstLoss, lastLoss,
                before.loss(), after.loss(), before.metrics().accuracy(), after.metrics().accuracy(), majority,
                after.metrics().macroF1(), r.paddingEfficiency(), r.trainRuntimeSeconds(), seconds);
        assertEquals(76, r.globalStep(), "600 / 16 = 38 steps per epoch, 2 epochs");
        assertTrue(lastLoss < 0.8 * firstLoss, "training loss falls: " + firstLoss + " -> " + lastLoss);
        assertTrue(after.loss() < 0.8 * before.loss(), "held-out loss falls: " + before.loss() + " -> " + after.loss());
        assertTrue(after.metrics().accuracy() >= majority + 0.10,
                "held-out accuracy " + after.metrics().accuracy() + " well above the majority-class rate " + majority);
        assertEquals(r.finalEval().metrics().accuracy(), after.metrics().accuracy(), "final metrics describe the returned model");
        assertTrue(r.paddingEfficiency() > 0.85, "length grouping: " + r.paddingEfficiency());

        // the study's predict_sentiment on the fine-tuned model
        Predictor predictor = Predictor.of(model, trainer);
        List<Predictor.Prediction> p = predictor.predict(eval.subList(0, 8).stream().map(Example::text).toList());
        for (int i = 0; i < p.size(); i++) {
            assertEquals(after.predictions()[i], p.get(i).labelId());
            assertEquals(1.0, java.util.Arrays.stream(p.get(i).probabilities()).sum(), 1e-9);
        }
    }

    /** Two runs with the same seeds (model init, LoRA init, dropout, data order) end with identical weights and metrics. */
    @Test
    void sameSeedGivesIdenticalRuns() throws Exception {
        long t0 = System.nanoTime();
        Splits.Result split = sample(Fixtures.fpb(), 96, 64);
        float[][] weights = new float[2][];
        EvalResult[] evals = new EvalResult[2];
        for (int run = 0; run < 2; run++) {
            PeftModel model = loraMiniLm();
            var args = TrainingArguments.builder(tmp.resolve("run" + run)).maxSteps(6).perDeviceTrainBatchSize(16)
                    .perDeviceEvalBatchSize(32).learningRate(5e-4).maxSeqLength(64).loggingSteps(3).saveSteps(0)
                    .evalStrategy(TrainingArguments.EvalStrategy.NO).loadBestModelAtEnd(false).build();
            TrainResult r = new Trainer(model, Fixtures.tokenizer(), args, Fixtures.LABELS).train(split.train(), split.validation());
            evals[run] = r.finalEval();
            weights[run] = model.trainableParameters().stream().map(Parameter::value)
                    .map(v -> v.dup('c').data().asFloat()).reduce(new float[0], MiniLmTrainingTest::concat);
        }
        assertArrayEquals(weights[0], weights[1], "bit-identical trainable weights");
        assertEquals(evals[0].loss(), evals[1].loss());
        assertArrayEquals(evals[0].predictions(), evals[1].predictions());
        assertEquals(evals[0].metrics().confusionMatrix(), evals[1].metrics().confusionMatrix());
        System.out.printf("same seed twice (6 LoRA steps, dropout on): %d trainable values identical, eval_loss %.6f, "
                + "accuracy %.4f both times; %.1f s%n", weights[0].length, evals[0].loss(), evals[0].metrics().accuracy(),
                (System.nanoTime() - t0) / 1e9);
    }

    private static float[] concat(float[] a, float[] b) {
        float[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
