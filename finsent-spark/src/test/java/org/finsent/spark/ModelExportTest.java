package org.finsent.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.finsent.core.data.Example;
import org.finsent.train.FineTunedModel;
import org.finsent.train.Predictor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An export needs nothing but itself: with the base model directory gone, it loads and predicts what the original
 * PEFT directory predicted.
 */
class ModelExportTest {
    @TempDir
    static Path tmp;
    static Path base, model;
    static List<Predictor.Prediction> original;
    static final List<String> TEXTS = SparkFixtures.data(40, 11).stream().map(Example::text).toList();

    @BeforeAll
    static void setUp() throws Exception {
        base = SparkFixtures.tinyBase(tmp.resolve("base-model"), 5);
        model = SparkFixtures.loraModel(base, tmp.resolve("lora"));
        original = FineTunedModel.load(model).predictor().predict(TEXTS);
    }

    /** Runs {@code check} while the base directory the PEFT model names does not exist. */
    private static void withoutBase(ThrowingRunnable check) throws Exception {
        Path away = tmp.resolve("moved-away");
        Files.move(base, away);
        try {
            assertThrows(Exception.class, () -> FineTunedModel.load(model), "the original needs its base");
            check.run();
        } finally {
            Files.move(away, base);
        }
    }

    interface ThrowingRunnable {
        void run() throws Exception;
    }

    @Test
    void packedIsSelfContainedAndBitIdentical() throws Exception {
        Path out = tmp.resolve("packed");
        ModelExport.Result r = ModelExport.export(model, out, false);
        assertEquals("packed", r.kind());
        JsonNode info = new ObjectMapper().readTree(out.resolve("finsent.json").toFile());
        assertEquals("./base", info.path("base_model").asText());
        assertTrue(Files.isRegularFile(out.resolve("base/model.safetensors")));
        assertTrue(Files.isRegularFile(out.resolve("adapter_model.safetensors")));
        withoutBase(() -> {
            List<Predictor.Prediction> p = ModelCache.load(out).predictor().predict(TEXTS);
            for (int i = 0; i < TEXTS.size(); i++) {
                // the same float weights through the same code
                assertArrayEquals(original.get(i).probabilities(), p.get(i).probabilities(), 0.0, "text " + i);
            }
        });
    }

    @Test
    void mergedLoraIsSelfContainedWithinFloatRounding() throws Exception {
        Path out = tmp.resolve("merged");
        assertEquals("merged", ModelExport.export(model, out, true).kind());
        JsonNode info = new ObjectMapper().readTree(out.resolve("finsent.json").toFile());
        assertEquals("full", info.path("techniques").get(0).asText());
        assertFalse(Files.exists(out.resolve("adapter_model.safetensors")));
        withoutBase(() -> {
            List<Predictor.Prediction> p = FineTunedModel.load(out).predictor().predict(TEXTS);
            double worst = 0;
            for (int i = 0; i < TEXTS.size(); i++) {
                // W + s·B·A is rounded to float once, where the adapter adds x·Wᵀ and s·(x·Aᵀ)·Bᵀ: the logits differ by
                // float rounding (~1e-7 relative), far below 1e-6 in probability
                assertArrayEquals(original.get(i).probabilities(), p.get(i).probabilities(), 1e-6, "text " + i);
                assertEquals(original.get(i).label(), p.get(i).label());
                for (int k = 0; k < 3; k++) worst = Math.max(worst, Math.abs(original.get(i).probabilities()[k] - p.get(i).probabilities()[k]));
            }
            System.out.println("merged LoRA export: largest probability difference " + worst);
        });
    }

    @Test
    void mergeRefusesNonLoraAndExportRefusesNonEmptyOutput() throws Exception {
        Path out = tmp.resolve("nonempty");
        Files.createDirectories(out);
        Files.writeString(out.resolve("x"), "x");
        var e = assertThrows(IllegalArgumentException.class, () -> ModelExport.export(model, out, false));
        assertTrue(e.getMessage().contains("not empty"), e.getMessage());
        assertNotEquals(0, original.size());
    }
}
