package org.finsent.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Exact resume after {@code kill -9}: {@link ResumeChild} (dropout on everywhere) runs in a JVM of its own, is
 * killed with SIGKILL at a chosen point — between checkpoints, before the first checkpoint, in the middle of a
 * checkpoint write (a half-written or a complete temporary directory) — and is then started again, resuming from
 * its latest checkpoint. Each resumed run must end bit-identical to an uninterrupted run: the final trainable
 * weights' bytes, every checkpoint's files, {@code metrics.json} and every {@code training_log.jsonl} entry (less
 * the wall-clock fields). No temporary directory may be left.
 */
class ResumeAfterKillTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Wall-clock fields: the only ones allowed to differ. */
    private static final List<String> CLOCK = List.of("samples_per_second", "tokens_per_second", "elapsed_s", "eval_runtime_s",
            "train_runtime_s");
    private static final long CHILD_TIMEOUT_S = 120;

    @TempDir
    Path tmp;

    @Test
    void killedRunsResumeBitIdenticalToTheUninterruptedRun() throws Exception {
        long t0 = System.nanoTime();
        Path whole = tmp.resolve("whole");
        runToEnd(whole);

        // between checkpoints (checkpoint-6 exists, step 8 is done but not logged)
        Path between = tmp.resolve("between");
        kill(between, "stall-after-step=8");
        runToEnd(between);
        assertSameRun(whole, between);

        // in the middle of writing checkpoint-9: only trainable.safetensors is in its temporary directory
        Path midWrite = tmp.resolve("mid-write");
        kill(midWrite, "stall-in-save=9:" + Checkpoint.WEIGHTS);
        assertEquals(1, leftovers(midWrite), "the kill left checkpoint-9's temporary directory");
        assertFalse(Files.exists(midWrite.resolve("checkpoint-9")));
        runToEnd(midWrite);
        assertSameRun(whole, midWrite);

        // killed before the first checkpoint (the rerun starts afresh over the dead run's log), then killed again
        // with checkpoint-12 complete in its temporary directory but not yet renamed into place
        Path twice = tmp.resolve("twice");
        kill(twice, "stall-after-step=2");
        kill(twice, "stall-in-save=12:" + Checkpoint.STATE);
        assertEquals(1, leftovers(twice));
        assertFalse(Files.exists(twice.resolve("checkpoint-12")));
        runToEnd(twice);
        assertSameRun(whole, twice);

        System.out.printf("kill -9 resume test: 8 child JVMs, %.1f s%n", (System.nanoTime() - t0) / 1e9);
    }

    // ------------------------------------------------------------------------------------------ the child JVM

    private static Process start(Path out, String... extra) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", ResumeChild.class.getName(), out.toString()));
        cmd.addAll(List.of(extra));
        Files.createDirectories(out);
        return new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.appendTo(out.resolveSibling(out.getFileName() + ".stderr").toFile()))
                .start();
    }

    /** Starts the child, waits until it stalls at the requested point, and kills it with SIGKILL. */
    private static void kill(Path out, String stall) throws Exception {
        Process p = start(out, stall);
        try {
            String line = firstLine(p);
            assertEquals("STALLED", line, "the child reached " + stall + " (stderr: " + stderr(out) + ")");
        } finally {
            p.destroyForcibly(); // SIGKILL on Linux: no shutdown hooks, no finally blocks
            assertTrue(p.waitFor(CHILD_TIMEOUT_S, TimeUnit.SECONDS));
        }
        assertEquals(137, p.exitValue(), "killed by SIGKILL (128 + 9)");
    }

    private static void runToEnd(Path out) throws Exception {
        Process p = start(out);
        try {
            assertEquals("DONE", firstLine(p), "stderr: " + stderr(out));
            assertTrue(p.waitFor(CHILD_TIMEOUT_S, TimeUnit.SECONDS));
            assertEquals(0, p.exitValue());
        } finally {
            p.destroyForcibly();
        }
    }

    private static String firstLine(Process p) throws Exception {
        var reader = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        var line = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return reader.readLine();
            } catch (IOException e) {
                return "read failed: " + e;
            }
        });
        return line.get(CHILD_TIMEOUT_S, TimeUnit.SECONDS);
    }

    private static String stderr(Path out) throws IOException {
        Path f = out.resolveSibling(out.getFileName() + ".stderr");
        if (!Files.exists(f)) return "";
        String s = Files.readString(f);
        return s.length() > 4000 ? s.substring(s.length() - 4000) : s;
    }

    private static long leftovers(Path out) throws IOException {
        try (Stream<Path> s = Files.list(out)) {
            return s.filter(p -> p.getFileName().toString().startsWith(".tmp") || p.getFileName().toString().startsWith(".old")
                    || p.getFileName().toString().endsWith(".tmp")).count();
        }
    }

    // ------------------------------------------------------------------------------------------ comparisons

    private static void assertSameRun(Path expected, Path actual) throws IOException {
        assertEquals(0, leftovers(actual), "no temporary file or directory left in " + actual);
        assertArrayEquals(Files.readAllBytes(expected.resolve(ResumeChild.FINAL)), Files.readAllBytes(actual.resolve(ResumeChild.FINAL)),
                actual + ": final trainable weights");
        assertEquals(withoutClock(JSON.readTree(expected.resolve(Trainer.METRICS_FILE).toFile())),
                withoutClock(JSON.readTree(actual.resolve(Trainer.METRICS_FILE).toFile())), actual + ": metrics.json");
        List<JsonNode> a = log(expected), b = log(actual);
        assertEquals(a.size(), b.size(), actual + ": log entries");
        for (int i = 0; i < a.size(); i++) assertEquals(a.get(i), b.get(i), actual + ": log entry " + (i + 1));
        List<String> checkpoints = checkpoints(expected);
        assertEquals(checkpoints, checkpoints(actual));
        for (String c : checkpoints) {
            for (String f : List.of(Checkpoint.WEIGHTS, Checkpoint.OPTIMIZER, Checkpoint.STATE)) {
                assertArrayEquals(Files.readAllBytes(expected.resolve(c).resolve(f)), Files.readAllBytes(actual.resolve(c).resolve(f)),
                        actual + ": " + c + "/" + f);
            }
        }
    }

    private static List<JsonNode> log(Path dir) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String line : Files.readAllLines(dir.resolve(Trainer.LOG_FILE))) if (!line.isBlank()) out.add(withoutClock(JSON.readTree(line)));
        return out;
    }

    private static JsonNode withoutClock(JsonNode j) {
        ObjectNode o = ((ObjectNode) j).deepCopy();
        o.remove(CLOCK);
        return o;
    }

    private static List<String> checkpoints(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(Checkpoint.PREFIX)).sorted().toList();
        }
    }
}
