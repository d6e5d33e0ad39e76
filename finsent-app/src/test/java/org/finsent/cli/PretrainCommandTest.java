package org.finsent.cli;

import org.finsent.core.data.Example;
import org.finsent.core.data.Splits;
import org.finsent.core.model.BertConfig;
import org.finsent.core.model.BertForSequenceClassification;
import org.finsent.core.model.Pretrained;
import org.finsent.train.DataSources;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code finsent pretrain} end to end on a tiny random BERT: log, checkpoints, plots, resume (a run to step 2, then
 * the same command to step 4 continues from checkpoint-2), the training split of a data set as texts, and the output
 * directory as the base of {@code finsent train}.
 */
class PretrainCommandTest {
    @Test
    void pretrainLogsCheckpointsResumesAndIsABaseForTrain(@TempDir Path tmp) throws Exception {
        Path modelDir = tmp.resolve("tiny-bert");
        Pretrained.save(new BertForSequenceClassification(new BertConfig(30522, 16, 2, 2, 32, 64, 2, 1e-12, "gelu", 0.1, 0.1, 3),
                DataType.FLOAT, 3), modelDir);
        try (InputStream in = PretrainCommandTest.class.getClassLoader().getResourceAsStream("all-minilm-l6-v2-tokenizer.json")) {
            Files.copy(in, modelDir.resolve("tokenizer.json"));
        }
        String[] up = {"rose", "increased", "grew"}, down = {"fell", "decreased", "dropped"}, who = {"Nokia", "Kone", "Elisa", "Fiskars"};
        Random r = new Random(1);
        StringBuilder csv = new StringBuilder("text,label\n");
        List<String> labels = List.of("negative", "neutral", "positive");
        for (int i = 0; i < 60; i++) {
            int y = i % 3;
            csv.append('"').append(who[r.nextInt(4)]).append(" said its net sales ").append(y == 2 ? up[r.nextInt(3)] : y == 0 ? down[r.nextInt(3)] : "were flat")
                    .append(" in quarter ").append(1 + i % 4).append(" of 20").append(10 + i).append("\",").append(labels.get(y)).append('\n');
        }
        Path data = tmp.resolve("news.csv");
        Files.writeString(data, csv);
        Path text = tmp.resolve("texts.txt");
        Files.writeString(text, "Operating profit rose to EUR 13.1 mn.\n\nThe company's net sales decreased by 5 %.\n");
        Path out = tmp.resolve("pretrained");

        String[] common = {"pretrain", "--model", modelDir.toString(), "--text", text.toString(), "--data", "csv:" + data,
                "--output", out.toString(), "--save-steps", "1", "--logging-steps", "1", "--batch-size", "8", "--max-seq-length", "32",
                "--lr", "1e-3", "--whole-word-mask"};
        CommandsTest.Result first = CommandsTest.cli(null, concat(common, "--max-steps", "2"));
        assertEquals(0, first.code(), first.err());
        assertEquals(2, Files.readAllLines(out.resolve("training_log.jsonl")).size());
        for (String f : List.of("config.json", "model.safetensors", "tokenizer.json", "metrics.json", "loss.png", "learning_rate.png")) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f);
        }
        assertTrue(Files.isDirectory(out.resolve("checkpoint-2")));
        assertTrue(Files.readString(out.resolve("config.json")).contains("\"BertForMaskedLM\""));

        CommandsTest.Result more = CommandsTest.cli(null, concat(common, "--max-steps", "4"));
        assertEquals(0, more.code(), more.err());
        assertTrue(more.out().contains("resumed from") && more.out().contains("checkpoint-2"), more.out());
        List<String> log = Files.readAllLines(out.resolve("training_log.jsonl"));
        assertEquals(4, log.size());
        assertTrue(log.get(3).contains("\"step\":4") && log.get(3).contains("\"grad_norm\""), log.get(3));

        // the same command again: resumes from the final checkpoint and takes no step
        byte[] weights = Files.readAllBytes(out.resolve("model.safetensors"));
        CommandsTest.Result again = CommandsTest.cli(null, concat(common, "--max-steps", "4"));
        assertEquals(0, again.code(), again.err());
        assertTrue(again.out().contains("checkpoint-4") && again.out().contains("4 steps"), again.out());
        assertEquals(4, Files.readAllLines(out.resolve("training_log.jsonl")).size());
        assertTrue(java.util.Arrays.equals(weights, Files.readAllBytes(out.resolve("model.safetensors"))), "no further step");

        // the training split only: the texts are exactly train's split of the data set
        List<Example> examples = DataSources.load("csv:" + data, DataSources.Options.defaults()).dataset().examples();
        var split = Splits.stratified(examples, 0.8, 0.1, 42);
        assertEquals(split.train().stream().map(Example::text).toList(), PretrainCommand.trainingTexts("csv:" + data, List.of(0.8, 0.1), 42));
        CommandsTest.Result leak = CommandsTest.cli(null, "pretrain", "--model", modelDir.toString(), "--data", "csv:" + data, "--split", "test", "--output", tmp.resolve("x").toString());
        assertEquals(FinSentCli.USER_ERROR, leak.code());
        assertTrue(leak.err().contains("training split only"), leak.err());

        // the output is a base for train: encoder loaded, MLM head unused, classifier new
        CommandsTest.Result train = CommandsTest.cli(null, "train", "--model", out.toString(), "--data", "csv:" + data, "--technique", "full", "--max-steps", "2",
                "--batch-size", "8", "--max-seq-length", "32", "--eval-strategy", "no", "--output", tmp.resolve("run").toString());
        assertEquals(0, train.code(), train.err());
        assertTrue(train.err().contains("were not used when initializing BertForSequenceClassification") || train.out().contains("cls.predictions"),
                "the MLM head is reported unused");
    }

    static String[] concat(String[] a, String... b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
