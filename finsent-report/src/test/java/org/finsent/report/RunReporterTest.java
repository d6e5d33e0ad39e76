package org.finsent.report;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.finsent.core.data.Example;
import org.finsent.peft.LoraConfig;
import org.finsent.peft.Peft;
import org.finsent.train.Fixtures;
import org.finsent.train.ModelSources;
import org.finsent.train.Trainer;
import org.finsent.train.TrainingArguments;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A real MiniLM + LoRA run with a {@link RunReporter} attached leaves resources.json and every chart. */
class RunReporterTest {
    @TempDir
    Path tmp;

    @Test
    void aReportedRunLeavesResourcesAndReadableCharts() throws Exception {
        List<Example> train = Fixtures.synthetic(64, 21), eval = Fixtures.synthetic(30, 22);
        var src = ModelSources.load(ModelSources.MINILM, 3, 5);
        var peft = Peft.apply(src.model(), LoraConfig.bert(4, 8).withTargets("query", "value"));
        Path dir = tmp.resolve("run");
        var args = TrainingArguments.builder(dir).perDeviceTrainBatchSize(8).perDeviceEvalBatchSize(16).learningRate(5e-3)
                .maxSeqLength(32).maxSteps(6).loggingSteps(1).saveSteps(0).evalStrategy(TrainingArguments.EvalStrategy.STEPS)
                .evalSteps(3).build();
        Trainer trainer = new Trainer(peft, src.tokenizer(), args, Fixtures.LABELS);
        try (RunReporter reporter = new RunReporter(dir, Fixtures.LABELS, ResourceMonitor.Options.defaults().withIntervalMs(50))) {
            trainer.addListener(reporter).train(train, eval);
        }

        // resources.json with the study's quantities, and every chart, readable as PNG
        ResourceMonitor.Report res = ResourceMonitor.readJson(dir.resolve(RunReporter.RESOURCES_FILE));
        assertTrue(res.summary().sampleCount() > 0 && res.summary().wallTimeSeconds() > 0);
        assertNotNull(res.summary().processCpuPercent());
        assertNotNull(res.summary().processRssBytes());
        assertTrue(res.summary().processRssBytes().max() > 0);
        for (String png : List.of(RunReporter.LOSS_PNG, RunReporter.LR_PNG, RunReporter.EVAL_METRICS_PNG,
                RunReporter.CONFUSION_PNG, RunReporter.CONFUSION_NORMALISED_PNG)) {
            BufferedImage img = ImageIO.read(dir.resolve(png).toFile());
            assertNotNull(img, png);
            assertTrue(img.getWidth() >= 600, png);
        }
    }
}
