package org.finsent.cli;

import org.finsent.core.model.BertConfig;
import org.finsent.core.model.BertForSequenceClassification;
import org.finsent.core.model.Pretrained;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The exit-code contract of the README and docs/SERVE.md: every failure caused by the input — a missing or
 * malformed model, tokenizer, data file or checkpoint, a value the model cannot take — exits 1 with one line on
 * stderr ({@code finsent <command>: <what to fix>}) and no stack trace; 70 is for internal errors only. One
 * representative case per class and command, each against a copy of a valid tiny model directory with one thing
 * broken.
 */
class ErrorContractTest {
    @TempDir
    static Path tmp;
    static Path good, csv;

    @BeforeAll
    static void tinyModelAndData() throws Exception {
        good = tmp.resolve("tiny-bert");
        Pretrained.save(new BertForSequenceClassification(new BertConfig(30522, 16, 2, 2, 32, 64, 2, 1e-12, "gelu", 0, 0, 3),
                DataType.FLOAT, 3), good);
        try (InputStream in = ErrorContractTest.class.getClassLoader().getResourceAsStream("all-minilm-l6-v2-tokenizer.json")) {
            Files.copy(in, good.resolve("tokenizer.json"));
        }
        StringBuilder s = new StringBuilder("text,label\n");
        for (int i = 0; i < 30; i++) s.append("Nokia said its sales ").append(i % 3 == 0 ? "rose" : i % 3 == 1 ? "fell" : "held")
                .append(',').append(List.of("positive", "negative", "neutral").get(i % 3)).append('\n');
        csv = tmp.resolve("news.csv");
        Files.writeString(csv, s);
    }

    /** A copy of the good model directory with {@code file} replaced by {@code content}. */
    private static Path broken(String name, String file, byte[] content) throws Exception {
        Path dir = tmp.resolve(name);
        Files.createDirectories(dir);
        try (Stream<Path> s = Files.list(good)) {
            for (Path f : s.toList()) Files.copy(f, dir.resolve(f.getFileName()));
        }
        Files.write(dir.resolve(file), content);
        return dir;
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Runs the command; asserts exit 1, one {@code finsent <cmd>:} line containing {@code part}, no stack trace. */
    private static void inputError(String part, String... args) {
        CommandsTest.Result r = CommandsTest.cli(null, args);
        String cmd = args[0];
        List<String> lines = r.err().lines().filter(l -> l.startsWith("finsent " + cmd + ":")).toList();
        assertEquals(FinSentCli.USER_ERROR, r.code(), String.join(" ", args) + "\n" + r.err());
        assertEquals(1, lines.size(), "one error line: " + r.err());
        assertTrue(lines.get(0).contains(part), "'" + lines.get(0) + "' should contain '" + part + "'");
        assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
    }

    private static String[] train(Path model, String... more) {
        List<String> a = new ArrayList<>(List.of("train", "--model", model.toString(), "--data", "csv:" + csv, "--technique", "lora",
                "--max-steps", "2", "--save-steps", "0", "--output", tmp.resolve("out-" + model.getFileName() + "-" + more.length).toString()));
        a.addAll(List.of(more));
        if (!a.contains("--max-seq-length")) a.addAll(List.of("--max-seq-length", "32"));
        if (!a.contains("--eval-strategy")) a.addAll(List.of("--eval-strategy", "no"));
        return a.toArray(String[]::new);
    }

    @Test
    void modelProblemsAreInputErrors() throws Exception {
        inputError(tmp.resolve("nothing").toString(), train(tmp.resolve("nothing")));
        Path config = broken("garbled-config", "config.json", utf8("{\"model_type\": \"bert\",\n \"hidden_size\": "));
        inputError("config.json", train(config));
        Path weights = broken("corrupt-weights", "model.safetensors", utf8("\u0010\u0000\u0000\u0000\u0000\u0000\u0000\u0000{\"a\":1}"));
        inputError("model.safetensors", train(weights));
        Path tokenizer = broken("bad-tokenizer", "tokenizer.json", utf8("{\"model\": {\"type\": \"WordPiece\", \"vocab\": 7}}"));
        inputError("tokenizer", train(tokenizer));
        inputError("config.json", "hidden-states", "--model", config.toString(), "--input", csv.toString(), "--output",
                tmp.resolve("hs.safetensors").toString());
        inputError("finsent.json", "predict", "--model", good.toString(), "x"); // a base model, not a fine-tuned one
        inputError("finsent.json", "evaluate", "--model", tmp.resolve("nothing").toString(), "--data", "csv:" + csv);
        inputError("nope", "serve", "--model", tmp.resolve("nope").toString(), "--port", "0");
    }

    @Test
    void dataAndOptionValuesAreInputErrors() throws Exception {
        Path badCsv = tmp.resolve("bad.csv");
        Files.writeString(badCsv, "text,label\nNokia rose,positive\nKone fell,sideways\n");
        inputError("sideways", "train", "--model", good.toString(), "--data", "csv:" + badCsv, "--output", tmp.resolve("o1").toString(),
                "--max-seq-length", "32");
        inputError("maxSeqLength 100000 is more than the model takes: 64 tokens", train(good, "--max-seq-length", "100000"));
        inputError("learningRate", train(good, "--lr", "-1"));
        inputError("evalStrategy must be steps, epoch or no", train(good, "--eval-strategy", "sometimes"));
        inputError("--max-length must be in [1, 64]", "hidden-states", "--model", good.toString(), "--input", csv.toString(),
                "--output", tmp.resolve("hs2.safetensors").toString(), "--max-length", "100000");
        inputError("port must be in [0, 65535]", "serve", "--model", good.toString(), "--port", "70000");
        inputError("--idle-timeout-s", "serve", "--model", good.toString(), "--idle-timeout-s", "0");
        inputError("maxChars", "serve", "--model", good.toString(), "--max-chars", "0");
        inputError("--gpt2-lr must be table or text", "compare", "--gpt2-lr", "sometimes", "--output", tmp.resolve("study").toString());
        inputError("hf:", "download", "hf:", "--cache-dir", tmp.resolve("hub").toString(), "--endpoint", "http://127.0.0.1:9");
        inputError("no texts", "predict", "--model", good.toString(), "--file", Files.writeString(tmp.resolve("empty.txt"), "").toString());
    }

    /** A fine-tuned model whose finsent.json says it truncates at more tokens than it has positions is refused at load. */
    @Test
    void aModelDirectoryAskingForMorePositionsThanItHasIsRefused() throws Exception {
        Path out = tmp.resolve("trained");
        CommandsTest.Result r = CommandsTest.cli(null, "train", "--model", good.toString(), "--data", "csv:" + csv, "--technique", "lora",
                "--max-steps", "1", "--eval-strategy", "no", "--save-steps", "0", "--max-seq-length", "32", "--split", "0.8,0.1",
                "--output", out.toString());
        assertEquals(0, r.code(), r.err());
        Path info = out.resolve("finsent.json");
        Files.writeString(info, Files.readString(info).replaceFirst("\"max_seq_length\"\\s*:\\s*32", "\"max_seq_length\" : 100000"));
        inputError("max_seq_length 100000 is more than the model takes (64 tokens)", "predict", "--model", out.toString(), "x");
        inputError("max_seq_length 100000 is more than the model takes (64 tokens)", "serve", "--model", out.toString(), "--port", "0");
    }

    @Test
    void aBrokenCheckpointIsAnInputErrorNamingTheFile() throws Exception {
        Path out = tmp.resolve("ckpt-run");
        String[] args = {"train", "--model", good.toString(), "--data", "csv:" + csv, "--technique", "lora", "--max-steps", "2",
                "--eval-strategy", "no", "--save-steps", "1", "--max-seq-length", "32", "--output", out.toString()};
        assertEquals(0, CommandsTest.cli(null, args).code());
        Path state = out.resolve("checkpoint-1").resolve("trainer_state.json");
        Files.writeString(state, "{ garbled");
        inputError(state.toString(), "train", "--model", good.toString(), "--data", "csv:" + csv, "--technique", "lora", "--max-steps", "2",
                "--eval-strategy", "no", "--save-steps", "1", "--max-seq-length", "32", "--output", tmp.resolve("ckpt-run-2").toString(),
                "--resume-from-checkpoint", out.resolve("checkpoint-1").toString());
    }
}
