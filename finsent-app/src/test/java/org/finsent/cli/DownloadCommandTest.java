package org.finsent.cli;

import org.finsent.core.hub.FakeHub;
import org.finsent.core.hub.HfHub;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/** {@code finsent download} against {@link FakeHub}, a local server with the hub's URL layout. */
class DownloadCommandTest {
    static final String C1 = "abcdefabcdefabcdefabcdefabcdefabcdefabcd";
    static final String C2 = "0123456789012345678901234567890123456789";
    static final byte[] CONFIG = "{\"model_type\": \"bert\"}".getBytes(StandardCharsets.UTF_8);
    static final byte[] WEIGHTS = "not really a pickle, but bytes".getBytes(StandardCharsets.UTF_8);
    static final byte[] VOCAB = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n".getBytes(StandardCharsets.UTF_8);
    static final byte[] ZIP = "PK fake zip".getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path tmp;
    FakeHub hub;
    Path cache;

    @BeforeEach
    void start() throws IOException {
        assumeFalse(HfHub.fromEnvironment().offline(), "HF_HUB_OFFLINE is set: the download command cannot be tried");
        hub = new FakeHub()
                .branch("ProsusAI/finbert", "main", C1)
                .file("ProsusAI/finbert", C1, "config.json", CONFIG)
                .lfsFile("ProsusAI/finbert", C1, "pytorch_model.bin", WEIGHTS)
                .file("ProsusAI/finbert", C1, "vocab.txt", VOCAB)
                .branch("datasets/takala/financial_phrasebank", "main", C2)
                .lfsFile("datasets/takala/financial_phrasebank", C2, "data/FinancialPhraseBank-v1.0.zip", ZIP);
        cache = tmp.resolve("hub");
    }

    @AfterEach
    void stop() {
        if (hub != null) hub.close();
    }

    /** Runs the CLI; returns {exit code, stdout, stderr}. */
    Object[] cli(String... args) {
        List<String> all = new ArrayList<>(List.of("download", "--endpoint", hub.endpoint().toString(),
                "--cache-dir", cache.toString()));
        all.addAll(List.of(args));
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            int rc = FinSentCli.run(all.toArray(String[]::new));
            return new Object[]{rc, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8)};
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void fetchesAModelsUsualFilesAndSkipsAbsentOptionalOnes() throws IOException {
        Object[] r = cli("hf:ProsusAI/finbert");
        String out = (String) r[1];
        assertEquals(0, r[0], out + r[2]);
        Path snapshot = cache.resolve("models--ProsusAI--finbert/snapshots/" + C1);
        assertTrue(out.contains("snapshot: " + snapshot), out);
        assertArrayEquals(CONFIG, Files.readAllBytes(snapshot.resolve("config.json")));
        assertArrayEquals(WEIGHTS, Files.readAllBytes(snapshot.resolve("pytorch_model.bin")));
        assertArrayEquals(VOCAB, Files.readAllBytes(snapshot.resolve("vocab.txt")));
        assertTrue(out.contains("  pytorch_model.bin -> " + snapshot.resolve("pytorch_model.bin")), out);
        assertTrue(out.contains("  model.safetensors: not in the repository (skipped)"), out);
        assertTrue(out.contains("  merges.txt: not in the repository (skipped)"), out);
        assertFalse(Files.exists(snapshot.resolve("model.safetensors")));

        // Offline afterwards, the same model is complete in the cache (the 404s were recorded in .no_exist).
        hub.clearSeen();
        HfHub offline = new HfHub(hub.endpoint(), cache, true, null);
        assertEquals(snapshot.resolve("vocab.txt"),
                offline.download(HfHub.RepoType.MODEL, "ProsusAI/finbert", null, "vocab.txt"));
        assertEquals(List.of(), hub.seen());
    }

    @Test
    void fetchesNamedFilesAtARevisionAndADataSet() throws IOException {
        hub.branch("ProsusAI/finbert", "v2", C2).file("ProsusAI/finbert", C2, "config.json", VOCAB);
        Object[] r = cli("hf:ProsusAI/finbert@v2", "--file", "config.json");
        assertEquals(0, r[0], r[1] + "" + r[2]);
        assertArrayEquals(VOCAB, Files.readAllBytes(cache.resolve("models--ProsusAI--finbert/snapshots/" + C2
                + "/config.json")));

        Object[] d = cli("--dataset", "hf:takala/financial_phrasebank");
        assertEquals(0, d[0], d[1] + "" + d[2]);
        Path snapshot = cache.resolve("datasets--takala--financial_phrasebank/snapshots/" + C2);
        assertTrue(((String) d[1]).contains("snapshot: " + snapshot), (String) d[1]);
        assertArrayEquals(ZIP, Files.readAllBytes(snapshot.resolve("data/FinancialPhraseBank-v1.0.zip")));
    }

    @Test
    void userErrorsGetOneLineAndANonZeroExit() {
        Object[] missing = cli("hf:ProsusAI/finbert", "--file", "nope.json");
        assertEquals(1, missing[0]);
        String err = (String) missing[2];
        assertTrue(err.startsWith("finsent download: ") && err.contains("nope.json"), err);
        assertFalse(err.contains("\tat "), err);

        Object[] badSource = cli("not a repo");
        assertEquals(1, badSource[0]);
        assertTrue(((String) badSource[2]).contains("expected hf:org/name"), (String) badSource[2]);

        Object[] unknownData = cli("--dataset", "hf:someone/other-data");
        assertEquals(1, unknownData[0]);
        assertTrue(((String) unknownData[2]).contains("--file"), (String) unknownData[2]);

        Object[] noRepo = cli("hf:nobody/nothing");
        assertEquals(1, noRepo[0]);
        assertTrue(((String) noRepo[2]).contains("HF_TOKEN"), (String) noRepo[2]);
    }
}
