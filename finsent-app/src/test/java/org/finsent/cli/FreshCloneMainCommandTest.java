package org.finsent.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The README's main command, shortened with --max-steps, as a new user runs it: no ../shared (FINSENT_SHARED at an
 * empty folder), an empty FINSENT_DATA and an empty Hugging Face cache, so the data must come from the embedded
 * copy (finsent-data on the class path). The environment is set through finsent-train's {@code finsent.env.NAME}
 * properties, which stand in for the variables in-process.
 */
class FreshCloneMainCommandTest {
    private static final List<String> ENV = List.of("FINSENT_SHARED", "FINSENT_DATA", "HF_HUB_CACHE");

    @TempDir
    Path tmp;

    @AfterEach
    void restoreEnvironment() {
        ENV.forEach(k -> System.clearProperty("finsent.env." + k));
    }

    @Test
    void readmeMainCommandRunsWithNothingBesideTheRepository() throws Exception {
        Path empty = Files.createDirectories(tmp.resolve("nothing"));
        System.setProperty("finsent.env.FINSENT_SHARED", empty.toString());
        System.setProperty("finsent.env.FINSENT_DATA", "");
        System.setProperty("finsent.env.HF_HUB_CACHE", empty.toString());
        Path out = tmp.resolve("runs/minilm-lora-fpb");
        CommandsTest.Result r = CommandsTest.cli(null, "train", "--model", "all-MiniLM-L6-v2", "--data", "fpb", "--technique", "lora",
                "--epochs", "3", "--batch-size", "16", "--max-seq-length", "64", "--lr", "3e-3", "--save-steps", "0",
                "--max-steps", "3", "--output", out.toString(),
                "--predict", "The company reported strong earnings, exceeding market expectations.",
                "--predict", "Shares of the company fell sharply after it issued a profit warning.",
                "--predict", "The company will hold its annual general meeting on 15 March.");
        assertEquals(0, r.code(), r.err());
        // the one log line naming the source: the embedded copy, labelled a subset
        assertTrue(r.err().contains("data 'fpb': classpath:org/finsent/data/Sentences_50Agree.dev.txt from the embedded copy "
                + "(finsent-data) (FinancialPhraseBank's development part: 3875 of the 4,846 sentences, a subset"), r.err());
        // and the summary on stdout names it too (Maven's -q hides the log line under exec:java)
        assertTrue(r.out().contains("data: classpath:org/finsent/data/Sentences_50Agree.dev.txt from the embedded copy"), r.out());
        assertTrue(Files.list(empty).findAny().isEmpty(), "nothing written into the empty shared folder / hub cache");
        for (String f : List.of("finsent.json", "config.json", "tokenizer.json", "adapter_config.json", "adapter_model.safetensors",
                "metrics.json", "test_metrics.json", "training_log.jsonl", "README.md")) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f);
        }
        ObjectMapper json = new ObjectMapper();
        JsonNode metrics = json.readTree(out.resolve("metrics.json").toFile());
        assertEquals(3, metrics.path("global_step").asInt());
        // 3,875 sentences split 80/10/10: the validation and test splits hold about 388 each
        int eval = metrics.path("eval_samples").asInt(), test = json.readTree(out.resolve("test_metrics.json").toFile())
                .path("test_samples").asInt();
        assertTrue(eval > 380 && eval < 395 && test > 380 && test < 395, eval + " / " + test);
        assertTrue(metrics.path("eval_accuracy").isNumber(), metrics.toString());
        JsonNode info = json.readTree(out.resolve("finsent.json").toFile());
        assertEquals("all-MiniLM-L6-v2", info.path("base_model").asText());
        assertTrue(r.out().contains("predictions:") && r.out().contains("Fine-tuned model written to"), r.out());
    }
}
