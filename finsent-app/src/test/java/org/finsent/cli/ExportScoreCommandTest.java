package org.finsent.cli;

import org.finsent.core.model.BertConfig;
import org.finsent.core.model.BertForSequenceClassification;
import org.finsent.core.model.Pretrained;
import org.finsent.peft.LoraConfig;
import org.finsent.peft.Peft;
import org.finsent.train.FineTunedModel;
import org.finsent.train.Fixtures;
import org.finsent.train.ModelSources;
import org.finsent.train.Predictor;
import org.finsent.train.Trainer;
import org.finsent.train.TrainingArguments;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code finsent export} writes a directory that loads without its base; {@code finsent score} without Spark says how to run it. */
class ExportScoreCommandTest {
    @TempDir
    Path tmp;

    @Test
    void exportMergesALoraModelThatLoadsWithoutItsBase() throws Exception {
        Path base = tmp.resolve("base");
        Pretrained.save(new BertForSequenceClassification(new BertConfig(30522, 16, 2, 2, 24, 64, 2, 1e-12, "gelu", 0, 0, 3),
                DataType.FLOAT, 4), base);
        try (InputStream in = getClass().getClassLoader().getResourceAsStream("all-minilm-l6-v2-tokenizer.json")) {
            Files.copy(in, base.resolve("tokenizer.json"));
        }
        var src = ModelSources.load(base.toString(), 3, 7);
        var peft = Peft.apply(src.model(), LoraConfig.bert(4, 8).withTargets("query", "value"));
        Path model = tmp.resolve("lora");
        new Trainer(peft, src.tokenizer(), TrainingArguments.builder(model).perDeviceTrainBatchSize(8).learningRate(5e-2)
                .maxSeqLength(32).maxSteps(3).saveSteps(0).build(), Fixtures.LABELS).train(Fixtures.synthetic(24, 2), null);
        FineTunedModel.of(src, peft, Fixtures.LABELS, 32, Map.of()).save(model);
        List<String> texts = Fixtures.synthetic(10, 8).stream().map(e -> e.text()).toList();
        List<Predictor.Prediction> expected = FineTunedModel.load(model).predictor().predict(texts);

        Path out = tmp.resolve("merged");
        CommandsTest.Result r = CommandsTest.cli(null, "export", "--model", model.toString(), "--output", out.toString(), "--merge");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("merged"), r.out());
        Files.move(base, tmp.resolve("gone"));
        List<Predictor.Prediction> actual = FineTunedModel.load(out).predictor().predict(texts);
        // merged weights are rounded to float once: equal to float rounding (ModelExportTest measures it)
        for (int i = 0; i < texts.size(); i++) assertArrayEquals(expected.get(i).probabilities(), actual.get(i).probabilities(), 1e-6);

        CommandsTest.Result again = CommandsTest.cli(null, "export", "--model", out.toString(), "--output", out.toString());
        assertEquals(FinSentCli.USER_ERROR, again.code());
        assertTrue(again.err().contains("not empty"), again.err());
    }

    @Test
    void scoreWithoutSparkSaysHowToRunIt() {
        CommandsTest.Result r = CommandsTest.cli(null, "score", "--model", tmp.toString(), "--input", "x.csv", "--output", "y.parquet");
        assertEquals(FinSentCli.USER_ERROR, r.code());
        assertTrue(r.err().contains("Apache Spark is not on the class path") && r.err().contains("spark-submit"), r.err());
        assertTrue(r.err().lines().count() <= 2, r.err());
    }
}
