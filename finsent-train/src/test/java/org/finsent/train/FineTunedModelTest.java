package org.finsent.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.finsent.core.data.Example;
import org.finsent.core.io.SafeTensors;
import org.finsent.core.model.SequenceClassifier;
import org.finsent.peft.AdapterConfig;
import org.finsent.peft.LoraConfig;
import org.finsent.peft.Peft;
import org.finsent.peft.PeftMethod;
import org.finsent.peft.PrefixTuningConfig;
import org.finsent.peft.PromptTuningConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A fine-tuned directory reproduces the trained model's predictions exactly after {@link FineTunedModel#load}, for
 * every technique and both architectures; the run outputs (resources.json, plots) are written next to the log.
 */
class FineTunedModelTest {
    static final List<Example> TRAIN = Fixtures.synthetic(64, 21);
    static final List<Example> EVAL = Fixtures.synthetic(30, 22);
    static final List<String> TEXTS = List.of("Nokia said its net sales rose by 12 % .",
            "Kone said its revenue fell by 3 % the company quarter .", "Elisa said its order intake was reported for the period .");
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    /** Trains a few steps (so no weight is still at its initial value), saves, and returns the trained model's predictions. */
    private List<Predictor.Prediction> trainAndSave(ModelSources.Source src, SequenceClassifier model, Path dir)
            throws Exception {
        var args = TrainingArguments.builder(dir).perDeviceTrainBatchSize(8).perDeviceEvalBatchSize(16).learningRate(5e-3)
                .maxSeqLength(32).maxSteps(6).loggingSteps(1).saveSteps(0).evalStrategy(TrainingArguments.EvalStrategy.STEPS)
                .evalSteps(3).build();
        Trainer trainer = new Trainer(model, src.tokenizer(), args, Fixtures.LABELS);
        TrainResult r = trainer.train(TRAIN, EVAL);
        FineTunedModel.of(src, model, Fixtures.LABELS, 32, Map.of("eval_accuracy", r.finalEval().metrics().accuracy())).save(dir);
        return Predictor.of(model, trainer).predict(TEXTS);
    }

    private static void assertSamePredictions(List<Predictor.Prediction> expected, List<Predictor.Prediction> actual) {
        assertEquals(expected.size(), actual.size());
        for (int i = 0; i < expected.size(); i++) {
            // the same float weights through the same code: bit-identical probabilities
            assertArrayEquals(expected.get(i).probabilities(), actual.get(i).probabilities(), 0.0, "text " + i);
            assertEquals(expected.get(i).label(), actual.get(i).label());
        }
    }

    @Test
    void miniLmLoraRoundTrip() throws Throwable {
        var src = ModelSources.load(ModelSources.MINILM, 3, 5);
        var peft = Peft.apply(src.model(), LoraConfig.bert(4, 8).withTargets("query", "value"));
        Path dir = tmp.resolve("minilm-lora");
        var before = trainAndSave(src, peft, dir);

        for (String f : List.of("finsent.json", "config.json", "tokenizer.json", "adapter_config.json", "adapter_model.safetensors")) {
            assertTrue(Files.isRegularFile(dir.resolve(f)), f);
        }
        assertFalse(Files.exists(dir.resolve("model.safetensors")), "a LoRA directory holds only the adapter");
        JsonNode cfg = JSON.readTree(dir.resolve("config.json").toFile());
        assertEquals("positive", cfg.path("id2label").path("2").asText());
        assertEquals(0, cfg.path("label2id").path("negative").asInt(-1));
        JsonNode adapter = JSON.readTree(dir.resolve("adapter_config.json").toFile());
        assertEquals("sentence-transformers/all-MiniLM-L6-v2", adapter.path("base_model_name_or_path").asText());
        assertTrue(SafeTensors.read(dir.resolve("adapter_model.safetensors")).names()
                .contains("base_model.model.bert.encoder.layer.0.attention.self.query.lora_B.weight"));

        FineTunedModel[] holder = new FineTunedModel[1];
        String err = DataSourcesTest.withEnv(Map.of(), () -> holder[0] = FineTunedModel.load(dir));
        // the head comes from the adapter: loading the base must not call it newly initialised
        assertFalse(err.contains("classifier") || err.contains("newly initialized") || err.contains("left as initialised"), err);
        FineTunedModel loaded = holder[0];
        assertEquals(List.of("lora"), loaded.info().techniques());
        assertEquals(Fixtures.LABELS, loaded.labels());
        assertEquals(32, loaded.maxSeqLength());
        assertEquals("bert", loaded.info().architecture());
        assertNotNull(loaded.info().metrics().get("eval_accuracy"));
        assertSamePredictions(before, loaded.predictor().predict(TEXTS));

    }

    private static ModelSources.Source tinyGpt2(int seed) throws Exception {
        Path gpt2 = Fixtures.sharedDir().resolve("models/gpt2");
        assumeTrue(Files.isRegularFile(gpt2.resolve("vocab.json")), () -> "GPT-2 vocabulary not found in " + gpt2
                + " (set FINSENT_SHARED or put shared/ beside the repository)");
        return ModelSources.load(ModelSources.RANDOM_GPT2 + ":" + gpt2, 3, seed);
    }

    @Test
    void randomGpt2BaseIsFixedAndEveryTechniqueRoundTrips() throws Exception {
        // the random GPT-2's base is the same on every load (a PEFT directory needs that); only the head follows the seed
        var a = tinyGpt2(1).model().namedParameters();
        var b = tinyGpt2(2).model().namedParameters();
        assertEquals(a.get("transformer.h.0.attn.c_attn.weight").value(), b.get("transformer.h.0.attn.c_attn.weight").value());
        assertFalse(a.get("score.weight").value().equals(b.get("score.weight").value()));

        Map<String, List<PeftMethod>> cases = new java.util.LinkedHashMap<>();
        cases.put("adapter", List.of(new AdapterConfig("pfeiffer", 4, 3)));
        cases.put("prefix", List.of(new PrefixTuningConfig(3, true, 16, 3)));
        cases.put("prompt", List.of(PromptTuningConfig.random(4)));
        cases.put("lora+adapter", List.of(LoraConfig.gpt2(4, 8), new AdapterConfig("pfeiffer", 4, 3)));
        cases.put("full", List.of(PeftMethod.Baseline.FULL_FINE_TUNING));
        for (var c : cases.entrySet()) {
            var src = tinyGpt2(7);
            SequenceClassifier model = Peft.apply(src.model(), c.getValue().toArray(PeftMethod[]::new));
            Path dir = tmp.resolve(c.getKey());
            var before = trainAndSave(src, model, dir);
            FineTunedModel loaded = FineTunedModel.load(dir);
            assertEquals(List.of(c.getKey().split("\\+")), loaded.info().techniques(), c.getKey());
            assertEquals("gpt2", loaded.info().architecture());
            assertSamePredictions(before, loaded.predictor().predict(TEXTS));
            boolean full = c.getKey().equals("full");
            assertEquals(full, Files.isRegularFile(dir.resolve("model.safetensors")), c.getKey());
            if (c.getKey().contains("+")) assertTrue(Files.isRegularFile(dir.resolve("lora/adapter_model.safetensors")));
            assertTrue(Files.isRegularFile(dir.resolve("vocab.json")) && Files.isRegularFile(dir.resolve("merges.txt")));
        }
    }

    @Test
    void badDirectoriesAndSpecsGiveClearErrors() {
        var e = assertThrows(NoSuchFileException.class, () -> FineTunedModel.load(tmp));
        assertTrue(e.getMessage().contains("finsent.json"), e.getMessage());
        var m = assertThrows(NoSuchFileException.class, () -> ModelSources.load("no-such-model", 3, 1));
        assertTrue(m.getMessage().contains(ModelSources.MINILM), m.getMessage());
        var d = assertThrows(NoSuchFileException.class, () -> DataSources.load("fpb:" + tmp.resolve("nothing"), DataSources.Options.defaults()));
        assertTrue(d.getMessage().contains("FinancialPhraseBank-v1.0.zip") && d.getMessage().contains("hf:takala/financial_phrasebank"),
                d.getMessage());
        assertThrows(IllegalArgumentException.class, () -> DataSources.load("parquet:x", DataSources.Options.defaults()));
    }
}
