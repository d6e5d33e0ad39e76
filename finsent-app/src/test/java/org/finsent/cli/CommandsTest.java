package org.finsent.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.finsent.core.data.Example;
import org.finsent.core.data.Splits;
import org.finsent.core.io.SafeTensors;
import org.finsent.core.io.StateDict;
import org.finsent.core.model.Batch;
import org.finsent.core.model.BertConfig;
import org.finsent.core.model.BertForSequenceClassification;
import org.finsent.core.model.Pretrained;
import org.finsent.tokenizers.Tokenizer;
import org.finsent.tokenizers.TokenizerOptions;
import org.finsent.train.DataSources;
import org.finsent.train.FineTunedModel;
import org.finsent.train.ModelSources;
import org.finsent.train.Predictor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every command run in-process on tiny inputs: a 2-layer, 16-wide BERT saved as a Hugging Face directory (with the
 * real bert-base-uncased WordPiece tokenizer.json) and a 90-row CSV of sentences whose label a model can learn.
 * Results are checked against the library computing the same thing directly.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CommandsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final List<String> LABELS = List.of("negative", "neutral", "positive");

    @TempDir
    static Path tmp;
    static Path modelDir, csv, run;

    /** Captured output of one run. */
    record Result(int code, String out, String err) {
    }

    static Result cli(String stdin, String... args) {
        PrintStream oldOut = System.out, oldErr = System.err;
        InputStream oldIn = System.in;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        if (stdin != null) System.setIn(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)));
        int code;
        try {
            code = FinSentCli.run(args);
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
            System.setIn(oldIn);
        }
        Result r = new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        oldErr.println("finsent " + String.join(" ", args) + " -> " + code + "\n" + r.out + r.err);
        return r;
    }

    @BeforeAll
    static void tinyModelAndData() throws Exception {
        modelDir = tmp.resolve("tiny-bert");
        var model = new BertForSequenceClassification(new BertConfig(30522, 16, 2, 2, 32, 64, 2, 1e-12, "gelu", 0, 0, 3),
                DataType.FLOAT, 3);
        Pretrained.save(model, modelDir);
        try (InputStream in = CommandsTest.class.getClassLoader().getResourceAsStream("all-minilm-l6-v2-tokenizer.json")) {
            Files.copy(in, modelDir.resolve("tokenizer.json"));
        }
        String[] up = {"rose", "increased", "grew"}, down = {"fell", "decreased", "dropped"};
        String[] who = {"Nokia", "Kone", "Elisa", "Fiskars", "Outokumpu"};
        Random r = new Random(1);
        StringBuilder s = new StringBuilder("text,label\n");
        for (int i = 0; i < 90; i++) {
            int y = i % 3;
            String verb = y == 2 ? up[r.nextInt(3)] : y == 0 ? down[r.nextInt(3)] : "was reported";
            s.append('"').append(who[r.nextInt(5)]).append(" said its net sales ").append(verb).append(" in quarter ")
                    .append(1 + r.nextInt(4)).append(", the company said\",").append(LABELS.get(y)).append('\n');
        }
        csv = tmp.resolve("news.csv");
        Files.writeString(csv, s);
        run = tmp.resolve("run");
    }

    private static String[] trainArgs(String lr) {
        return new String[]{"train", "--model", modelDir.toString(), "--data", "csv:" + csv, "--technique", "lora",
                "--max-steps", "6", "--batch-size", "8", "--eval-strategy", "steps", "--eval-steps", "3", "--logging-steps", "1",
                "--save-steps", "3", "--max-seq-length", "32", "--lr", lr, "--output", run.toString(),
                "--predict", "Nokia said its net sales rose in quarter 2"};
    }

    @Test
    @Order(1)
    void trainWritesTheModelDirectoryAndRunOutputsAndSkipsWhenFinished() throws Exception {
        Result r = cli(null, trainArgs("5e-3"));
        assertEquals(0, r.code(), r.err());
        for (String f : List.of("finsent.json", "config.json", "tokenizer.json", "adapter_config.json", "adapter_model.safetensors",
                "training_log.jsonl", "metrics.json", "test_metrics.json", "resources.json", "run_spec.json", "loss.png",
                "learning_rate.png", "eval_metrics.png", "confusion_matrix.png", "confusion_matrix_normalized.png",
                "test_confusion_matrix.png")) {
            assertTrue(Files.isRegularFile(run.resolve(f)), f);
        }
        assertTrue(r.out().contains("validation:") && r.out().contains("test:") && r.out().contains("predictions:"), r.out());
        assertTrue(r.out().contains("Fine-tuned model written to " + run.toAbsolutePath()), r.out());
        JsonNode metrics = JSON.readTree(run.resolve("metrics.json").toFile());
        assertEquals(6, metrics.path("global_step").asInt());
        // the validation split's size is what the stratified split gives
        var split = Splits.stratified(DataSources.load("csv:" + csv, DataSources.Options.defaults()).dataset().examples(), 0.8, 0.1, 42);
        assertEquals(split.validation().size(), metrics.path("eval_samples").asInt());
        assertEquals(split.test().size(), JSON.readTree(run.resolve("test_metrics.json").toFile()).path("test_samples").asInt());

        Result again = cli(null, trainArgs("5e-3"));
        assertEquals(0, again.code());
        assertTrue(again.out().contains("Already finished (skipped)"), again.out());

        Result other = cli(null, trainArgs("1e-3"));
        assertEquals(FinSentCli.USER_ERROR, other.code());
        assertTrue(other.err().contains("holds a run with other settings") && !other.err().contains("\tat "), other.err());
    }

    @Test
    @Order(2)
    void predictMatchesTheLibraryFromArgumentsFileAndStdin() throws Exception {
        List<String> texts = List.of("Kone said its net sales fell in quarter 3", "Elisa said its net sales was reported in quarter 1");
        List<Predictor.Prediction> expected = FineTunedModel.load(run).predictor().predict(texts);

        Result args = cli(null, "predict", "--model", run.toString(), "--json", texts.get(0), texts.get(1));
        Path file = tmp.resolve("texts.txt");
        Files.write(file, texts);
        Result fromFile = cli(null, "predict", "--model", run.toString(), "--json", "--file", file.toString());
        Result fromStdin = cli(String.join("\n", texts) + "\n", "predict", "--model", run.toString(), "--json");
        for (Result r : List.of(args, fromFile, fromStdin)) {
            assertEquals(0, r.code(), r.err());
            List<String> lines = r.out().lines().toList();
            assertEquals(2, lines.size(), r.out());
            for (int i = 0; i < 2; i++) {
                JsonNode j = JSON.readTree(lines.get(i));
                assertEquals(texts.get(i), j.path("text").asText());
                assertEquals(expected.get(i).label(), j.path("label").asText());
                assertEquals(expected.get(i).confidence(), j.path("confidence").asDouble(), 0.0);
                for (int k = 0; k < 3; k++) {
                    assertEquals(expected.get(i).probabilities()[k], j.path("probabilities").path(LABELS.get(k)).asDouble(), 0.0);
                }
            }
        }
        Result plain = cli(null, "predict", "--model", run.toString(), texts.get(0));
        assertTrue(plain.out().startsWith(expected.get(0).label()), plain.out());
    }

    @Test
    @Order(3)
    void evaluateOnTheTestSplitAgreesWithPredictionsCountedHere() throws Exception {
        Path out = tmp.resolve("eval");
        Result r = cli(null, "evaluate", "--model", run.toString(), "--data", "csv:" + csv, "--split", "test", "--output", out.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode j = JSON.readTree(out.resolve("evaluation.json").toFile());
        // oracle: the same split made here, predicted with the library, accuracy counted by hand
        List<Example> test = Splits.stratified(DataSources.load("csv:" + csv, DataSources.Options.defaults()).dataset().examples(),
                0.8, 0.1, 42).test();
        List<Predictor.Prediction> p = FineTunedModel.load(run).predictor().predict(test.stream().map(Example::text).toList());
        int correct = 0;
        long[][] cm = new long[3][3];
        for (int i = 0; i < test.size(); i++) {
            if (p.get(i).labelId() == test.get(i).label()) correct++;
            cm[test.get(i).label()][p.get(i).labelId()]++;
        }
        assertEquals(test.size(), j.path("samples").asInt());
        assertEquals((double) correct / test.size(), j.path("accuracy").asDouble(), 1e-12);
        for (int a = 0; a < 3; a++) for (int b = 0; b < 3; b++) assertEquals(cm[a][b], j.path("confusion_matrix").get(a).get(b).asLong());
        assertTrue(j.path("per_class").has("negative") && j.has("f1_weighted") && j.has("precision_macro"));
        assertTrue(Files.isRegularFile(out.resolve("evaluation_confusion_matrix.png")));
        assertTrue(r.out().contains("weighted avg"), r.out());
        // the test metrics written by train describe the same split and model
        assertEquals(JSON.readTree(run.resolve("test_metrics.json").toFile()).path("test_accuracy").asDouble(),
                j.path("accuracy").asDouble(), 1e-12);
    }

    /** An interrupted run (no finsent.json, checkpoint-3 left) resumes and ends exactly where an uninterrupted one does. */
    @Test
    void anUnfinishedRunResumesFromItsLastCheckpointToTheSameModel() throws Exception {
        List<String> texts = List.of("Kone said its net sales fell in quarter 3", "Nokia said its net sales rose in quarter 1");
        List<List<Predictor.Prediction>> preds = new ArrayList<>();
        for (String name : List.of("whole", "resumed")) {
            Path out = tmp.resolve(name);
            String[] args = {"train", "--model", modelDir.toString(), "--data", "csv:" + csv, "--technique", "lora",
                    "--lora-dropout", "0", "--max-steps", "6", "--batch-size", "8", "--eval-strategy", "no", "--save-steps", "3",
                    "--max-seq-length", "32", "--lr", "5e-3", "--output", out.toString()};
            assertEquals(0, cli(null, args).code());
            if (name.equals("resumed")) {
                // what a crash after step 3 leaves: the first checkpoint, no later one, no model files marker
                Files.delete(out.resolve("finsent.json"));
                try (var walk = Files.walk(out.resolve("checkpoint-6"))) {
                    for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(p);
                }
                Result r = cli(null, args);
                assertEquals(0, r.code(), r.err());
                assertTrue(r.err().contains("resuming from checkpoint-3"), r.err());
            }
            preds.add(FineTunedModel.load(out).predictor().predict(texts));
        }
        for (int i = 0; i < texts.size(); i++) {
            assertArrayEquals(preds.get(0).get(i).probabilities(), preds.get(1).get(i).probabilities(), 0.0);
        }
    }

    @Test
    void tokenizeWritesOneIdLinePerInputLine() throws Exception {
        Path in = tmp.resolve("tok.txt"), out = tmp.resolve("tok.jsonl");
        List<String> lines = List.of("Operating profit rose to EUR 13.1 mn .", "", "Nokia’s outlook: “positive”");
        Files.write(in, lines);
        Result r = cli(null, "tokenize", "--tokenizer", modelDir.toString(), "--input", in.toString(), "--output", out.toString());
        assertEquals(0, r.code(), r.err());
        Tokenizer t = Tokenizer.load(modelDir);
        List<String> got = Files.readAllLines(out);
        assertEquals(lines.size(), got.size());
        for (int i = 0; i < lines.size(); i++) {
            JsonNode ids = JSON.readTree(got.get(i)).path("ids");
            int[] a = new int[ids.size()];
            for (int k = 0; k < a.length; k++) a[k] = ids.get(k).asInt();
            assertArrayEquals(t.encode(lines.get(i)).ids(), a, "line " + i);
        }
        assertEquals(101, JSON.readTree(got.get(1)).path("ids").get(0).asInt(), "an empty line is [CLS] [SEP]");
    }

    @Test
    void hiddenStatesAreTheEncoderOutputPerLine() throws Exception {
        Path in = tmp.resolve("hs.txt"), out = tmp.resolve("hs.safetensors");
        List<String> lines = List.of("Profit rose .", "Net sales fell by 3 % in the quarter .");
        Files.write(in, lines);
        Result r = cli(null, "hidden-states", "--model", modelDir.toString(), "--input", in.toString(), "--output", out.toString());
        assertEquals(0, r.code(), r.err());
        StateDict sd = SafeTensors.read(out);
        assertEquals(List.of("0", "1"), new ArrayList<>(sd.names()));
        var src = ModelSources.load(modelDir.toString(), 2, 0);
        var bert = (BertForSequenceClassification) src.model();
        bert.train(false);
        bert.bert.poolerRowsOnly(false);    // every row of the last layer (the classifier computes [CLS] only)
        for (int i = 0; i < lines.size(); i++) {
            var enc = src.tokenizer().withOptions(TokenizerOptions.DEFAULTS).encode(lines.get(i)); // unpadded
            INDArray h = bert.bert.forward(Batch.of(List.of(enc))); // [T, H] for one sequence
            assertTrue(h.getRow(enc.length() - 1).norm1Number().doubleValue() > 0, "the last token's row is computed");
            assertArrayEquals(new long[]{enc.length(), 16}, sd.get(String.valueOf(i)).shape());
            assertArrayEquals(h.dup('c').data().asFloat(), sd.get(String.valueOf(i)).toINDArray(DataType.FLOAT).dup('c').data().asFloat(), 0f);
        }
    }

    /** GPT-2 classifiers compute only the last token in their last block; hidden-states must get every row. */
    @Test
    void gpt2HiddenStatesHoldEveryRow() throws Exception {
        Path in = tmp.resolve("hs2.txt"), out = tmp.resolve("hs2.safetensors");
        Files.write(in, List.of("Profit rose sharply in the third quarter ."));
        Result r = cli(null, "hidden-states", "--model", org.finsent.train.ModelSources.RANDOM_GPT2, "--input", in.toString(),
                "--output", out.toString());
        assertEquals(0, r.code(), r.err());
        INDArray h = SafeTensors.read(out).get("0").toINDArray(DataType.FLOAT);
        assertTrue(h.rows() > 1, "several tokens");
        for (int i = 0; i < h.rows(); i++) {
            assertTrue(h.getRow(i).norm1Number().doubleValue() > 0, "row " + i + " computed, not left zero");
        }
    }

    @Test
    void userErrorsGetOneLineAndAnExitCode() {
        Result missing = cli(null, "train", "--model", modelDir.toString(), "--data", "fpb:" + tmp.resolve("nope"), "--output",
                tmp.resolve("x").toString());
        assertEquals(FinSentCli.USER_ERROR, missing.code());
        assertTrue(missing.err().contains("FinancialPhraseBank-v1.0.zip") && !missing.err().contains("\tat "), missing.err());

        Result verbose = cli(null, "train", "--verbose", "--model", modelDir.toString(), "--data", "fpb:" + tmp.resolve("nope"),
                "--output", tmp.resolve("x").toString());
        assertEquals(FinSentCli.USER_ERROR, verbose.code());
        assertTrue(verbose.err().contains("\tat "), "--verbose prints the stack trace");

        Result usage = cli(null, "predict", "--no-such-option");
        assertEquals(FinSentCli.USAGE, usage.code());

        Result badModel = cli(null, "predict", "--model", tmp.resolve("nothing").toString(), "x");
        assertEquals(FinSentCli.USER_ERROR, badModel.code());
        assertTrue(badModel.err().contains("finsent.json"), badModel.err());

        Result badTechnique = cli(null, "train", "--model", modelDir.toString(), "--data", "csv:" + csv, "--technique", "dora",
                "--output", tmp.resolve("y").toString());
        assertEquals(FinSentCli.USER_ERROR, badTechnique.code());
        assertTrue(badTechnique.err().contains("unknown technique 'dora'"), badTechnique.err());
        assertFalse(Files.exists(tmp.resolve("y").resolve("finsent.json")));
    }

    @Test
    void everyCommandHasHelp() {
        for (String c : List.of("train", "evaluate", "predict", "tokenize", "hidden-states")) {
            Result r = cli(null, c, "--help");
            assertEquals(0, r.code(), c);
            assertTrue(r.out().contains("Usage: finsent " + c), r.out());
        }
    }

    @Test
    void tokenizeAndHiddenStatesReadJsonlSoTextsKeepTheirLineBreaks() throws Exception {
        List<String> texts = List.of("Operating profit rose.\nNet sales fell.", "Nokia’s outlook: “positive”");
        Path in = tmp.resolve("texts.jsonl"), out = tmp.resolve("texts-ids.jsonl");
        Files.writeString(in, JSON.writeValueAsString(java.util.Map.of("text", texts.get(0))) + "\n"
                + JSON.writeValueAsString(java.util.Map.of("text", texts.get(1), "label", "x")) + "\n");
        Result r = cli(null, "tokenize", "--tokenizer", modelDir.toString(), "--input", in.toString(), "--output", out.toString());
        assertEquals(0, r.code(), r.err());
        Tokenizer t = Tokenizer.load(modelDir);
        List<String> got = Files.readAllLines(out);
        assertEquals(texts.size(), got.size(), "one output line per JSONL object, not per physical line of text");
        for (int i = 0; i < texts.size(); i++) {
            JsonNode ids = JSON.readTree(got.get(i)).path("ids");
            int[] a = new int[ids.size()];
            for (int k = 0; k < a.length; k++) a[k] = ids.get(k).asInt();
            assertArrayEquals(t.encode(texts.get(i)).ids(), a, "text " + i);
        }
        // --input-format jsonl for a file without the extension
        Path txt = tmp.resolve("texts-as.txt");
        Files.copy(in, txt);
        Result f = cli(null, "tokenize", "--tokenizer", modelDir.toString(), "--input", txt.toString(), "--input-format", "jsonl",
                "--output", tmp.resolve("ids2.jsonl").toString());
        assertEquals(0, f.code(), f.err());
        assertEquals(got, Files.readAllLines(tmp.resolve("ids2.jsonl")));

        Path hs = tmp.resolve("texts.safetensors");
        Result h = cli(null, "hidden-states", "--model", modelDir.toString(), "--input", in.toString(), "--output", hs.toString());
        assertEquals(0, h.code(), h.err());
        StateDict sd = SafeTensors.read(hs);
        assertEquals(List.of("0", "1"), new ArrayList<>(sd.names()));
        var enc = ModelSources.load(modelDir.toString(), 2, 0).tokenizer().withOptions(TokenizerOptions.DEFAULTS).encode(texts.get(0));
        assertEquals(enc.length(), sd.get("0").shape()[0], "the whole two-line text is one input");

        Path bad = tmp.resolve("bad.jsonl");
        Files.writeString(bad, "{\"sentence\": \"x\"}\n");
        Result b = cli(null, "tokenize", "--tokenizer", modelDir.toString(), "--input", bad.toString(), "--output", tmp.resolve("b.jsonl").toString());
        assertEquals(FinSentCli.USER_ERROR, b.code());
        assertTrue(b.err().contains(bad + ":1: no string field \"text\""), b.err());
    }

    @Test
    void tokenizeAndHiddenStatesRefuseToWriteOverTheirInput() throws Exception {
        Path in = tmp.resolve("keep.txt");
        Files.writeString(in, "Profit rose .\n");
        Path link = tmp.resolve("keep-link.txt");
        Files.createSymbolicLink(link, in);
        // the same file by its own name, through a symbolic link, and by a relative path with ".."
        Path relative = Path.of("").toAbsolutePath().relativize(tmp.resolve("sub/../keep.txt").toAbsolutePath());
        Files.createDirectories(tmp.resolve("sub"));
        for (Path out : List.of(in, link, relative)) {
            Result t = cli(null, "tokenize", "--tokenizer", modelDir.toString(), "--input", in.toString(), "--output", out.toString());
            assertEquals(FinSentCli.USER_ERROR, t.code(), out.toString());
            assertTrue(t.err().contains("is the input file") && !t.err().contains("\tat "), t.err());
            Result h = cli(null, "hidden-states", "--model", modelDir.toString(), "--input", in.toString(), "--output", out.toString());
            assertEquals(FinSentCli.USER_ERROR, h.code(), out.toString());
            assertTrue(h.err().contains("is the input file"), h.err());
            assertEquals("Profit rose .\n", Files.readString(in), "the input is untouched");
        }
    }

    @Test
    void aBadCommandLineValuePrintsTheErrorAndOneLineOfHelp() {
        Result r = cli(null, "train", "--model", modelDir.toString(), "--epochs", "three", "--output", tmp.resolve("z").toString());
        assertEquals(FinSentCli.USAGE, r.code());
        assertTrue(r.err().contains("Invalid value for option '--epochs'") && r.err().contains("Try 'finsent train --help'"), r.err());
        assertFalse(r.err().contains("Usage:") || r.err().contains("--lora-alpha"), "not the whole usage: " + r.err());
        assertTrue(r.err().strip().split("\n").length <= 3, r.err());

        Result typo = cli(null, "predict", "--modle", "x");
        assertEquals(FinSentCli.USAGE, typo.code());
        assertTrue(typo.err().contains("Try 'finsent predict --help'") && !typo.err().contains("Usage:"), typo.err());
    }
}
