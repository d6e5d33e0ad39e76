package org.finsent.cli;

import org.finsent.core.data.Example;
import org.finsent.core.data.Splits;
import org.finsent.core.model.BertConfig;
import org.finsent.core.model.BertForSequenceClassification;
import org.finsent.core.model.Pretrained;
import org.finsent.study.CellResult;
import org.finsent.study.StudyReport;
import org.finsent.study.StudyRunner;
import org.finsent.train.DataSources;
import org.finsent.train.pretrain.PretrainingRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code finsent pretrain} end to end on a tiny random BERT: log, checkpoints, plots, resume (a run to step 2, then
 * the same command to step 4 continues from checkpoint-2), the training split of a data set as texts, and the output
 * directory as the base of {@code finsent train}.
 */
class PretrainCommandTest {
    @Test
    void pretrainLogsCheckpointsResumesAndIsABaseForTrain(@TempDir Path tmp) throws Exception {
        Path modelDir = tinyBert(tmp), data = news(tmp);
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
        assertNull(PretrainingRecord.read(out).resumedFrom());
        assertEquals(2, PretrainingRecord.read(out).globalSteps());

        CommandsTest.Result more = CommandsTest.cli(null, concat(common, "--max-steps", "4"));
        assertEquals(0, more.code(), more.err());
        assertTrue(more.out().contains("resumed from") && more.out().contains("checkpoint-2"), more.out());
        List<String> log = Files.readAllLines(out.resolve("training_log.jsonl"));
        assertEquals(4, log.size());
        assertTrue(log.get(3).contains("\"step\":4") && log.get(3).contains("\"grad_norm\""), log.get(3));
        assertEquals("checkpoint-2", PretrainingRecord.read(out).resumedFrom());
        assertEquals(4, PretrainingRecord.read(out).globalSteps());

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

    /**
     * The model directory records how it was made ({@code pretraining.json} and the texts' fingerprints), and
     * {@code compare} on it reports that, with the count of the cell's validation and test texts that were among the
     * pretraining texts: 0 for the training split, every one of them when the test texts are given as a text file.
     */
    @Test
    void pretrainingRecordReachesTheStudyAndTestTextsInPretrainingAreFlagged(@TempDir Path tmp) throws Exception {
        Path modelDir = tinyBert(tmp), data = news(tmp);
        var split = Splits.stratified(DataSources.load("csv:" + data, DataSources.Options.defaults()).dataset().examples(), 0.8, 0.1, 42);
        List<String> train = split.train().stream().map(Example::text).toList(), test = split.test().stream().map(Example::text).toList();
        Path testTexts = tmp.resolve("test-texts.txt");
        Files.writeString(testTexts, String.join("\n", test) + "\n");

        Path clean = tmp.resolve("tapt"), leaky = tmp.resolve("leaky");
        String[] common = {"pretrain", "--model", modelDir.toString(), "--data", "csv:" + data, "--max-steps", "2", "--batch-size", "8",
                "--max-seq-length", "32", "--save-steps", "0"};
        CommandsTest.Result a = CommandsTest.cli(null, concat(common, "--output", clean.toString()));
        assertEquals(0, a.code(), a.err());
        CommandsTest.Result b = CommandsTest.cli(null, concat(common, "--output", leaky.toString(), "--text", testTexts.toString()));
        assertEquals(0, b.code(), b.err());

        PretrainingRecord rec = PretrainingRecord.read(clean);
        assertEquals(modelDir.toString(), rec.baseModel());
        assertEquals("masked_lm", rec.objective());
        assertEquals("full", rec.technique());
        assertEquals(List.of("data csv:" + data + ": training split (stratified 0.8 train, 0.1 validation, split seed 42): " + train.size() + " texts"),
                rec.sources());
        assertEquals(train.size(), rec.texts());
        assertEquals(new java.util.HashSet<>(train).size(), rec.distinctTexts());
        assertEquals(2, rec.globalSteps());
        assertEquals(0.15, rec.mlmProbability());
        assertEquals(rec.distinctTexts(), Files.readAllLines(clean.resolve(PretrainingRecord.TEXTS_FILE)).size());
        assertEquals(train.size(), PretrainingRecord.countPretrainedOn(clean, train));
        assertEquals(0, PretrainingRecord.countPretrainedOn(clean, test));
        assertEquals(test.size(), PretrainingRecord.countPretrainedOn(leaky, test));
        assertEquals(List.of("text file test-texts.txt: " + test.size() + " texts",
                "data csv:" + data + ": training split (stratified 0.8 train, 0.1 validation, split seed 42): " + train.size() + " texts"),
                PretrainingRecord.read(leaky).sources());
        assertNull(PretrainingRecord.read(modelDir), "a directory not made by pretrain has no record");

        Path study = tmp.resolve("study");
        CommandsTest.Result cmp = CommandsTest.cli(null, "compare", "-m", clean + "," + leaky, "-t", "full", "-d", "csv:" + data,
                "--max-steps", "1", "--eval-steps", "1", "--max-length", "32", "-o", study.toString());
        assertEquals(0, cmp.code(), cmp.err() + cmp.out());
        var cleanCell = CellResult.read(CellResult.cellDir(study, "news", clean.toString(), "full"));
        var leakyCell = CellResult.read(CellResult.cellDir(study, "news", leaky.toString(), "full"));
        assertTrue(cleanCell.ok() && leakyCell.ok(), cleanCell.error() + " / " + leakyCell.error());
        Map<?, ?> p = (Map<?, ?>) cleanCell.settings().get(StudyRunner.BASE_PRETRAINING);
        assertEquals(0, ((Number) p.get("test_texts_pretrained_on")).intValue());
        assertEquals(0, ((Number) p.get("validation_texts_pretrained_on")).intValue());
        assertEquals(modelDir.toString(), p.get("base_model"));
        Map<?, ?> q = (Map<?, ?>) leakyCell.settings().get(StudyRunner.BASE_PRETRAINING);
        assertEquals(test.size(), ((Number) q.get("test_texts_pretrained_on")).intValue());

        String report = Files.readString(study.resolve(StudyReport.REPORT));
        assertTrue(report.contains("### Further-pretrained base models"), report);
        assertTrue(report.contains("`" + clean + "`: " + modelDir + ", masked LM (15 % of tokens), full weights, on data csv:" + data), report);
        assertTrue(report.contains("2 steps, batch 8 × accumulation 1, learning rate 0.00005 (warm-up ratio 0.06, weight decay 0.01), max length 32"), report);
        assertTrue(report.contains("Validation / test texts among its pretraining texts: news 0 / 0."), report);
        assertTrue(report.contains("Validation / test texts among its pretraining texts: news 0 / " + test.size() + "."), report);
        assertTrue(report.contains("**Warning:** `news/" + leaky + "/full` (training seed 42): 0 validation and " + test.size()
                + " test texts were among the base model's pretraining texts"), report);
        assertFalse(report.contains("**Warning:** `news/" + clean + "/"), report);
    }

    /** A tiny random BERT directory with the MiniLM tokenizer (BERT's uncased vocabulary). */
    static Path tinyBert(Path tmp) throws java.io.IOException {
        Path modelDir = tmp.resolve("tiny-bert");
        Pretrained.save(new BertForSequenceClassification(new BertConfig(30522, 16, 2, 2, 32, 64, 2, 1e-12, "gelu", 0.1, 0.1, 3),
                DataType.FLOAT, 3), modelDir);
        try (InputStream in = PretrainCommandTest.class.getClassLoader().getResourceAsStream("all-minilm-l6-v2-tokenizer.json")) {
            Files.copy(in, modelDir.resolve("tokenizer.json"));
        }
        return modelDir;
    }

    /** 60 labelled news-like sentences, all distinct, as a CSV file. */
    static Path news(Path tmp) throws java.io.IOException {
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
        return data;
    }

    static String[] concat(String[] a, String... b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
