package org.finsent.peft;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.finsent.core.io.SafeTensors;
import org.finsent.core.io.StateDict;
import org.finsent.core.io.WeightFormatException;
import org.finsent.core.model.BertConfig;
import org.finsent.core.model.BertForSequenceClassification;
import org.finsent.core.model.SequenceClassifier;
import org.finsent.core.nn.GradCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Save → load in the Python libraries' formats reproduces the logits exactly. */
class PeftFilesTest {
    @TempDir
    Path tmp;
    static final DataType F = DataType.FLOAT;

    static void pretendTrained(PeftModel m, long seed) {
        long s = seed;
        for (var p : m.trainableParameters()) GradCheck.randomize(p.value(), 0, 0.3, s++);
    }

    @Test
    void loraRoundTripBertAndGpt2() throws IOException {
        for (boolean bert : new boolean[]{true, false}) {
            SequenceClassifier base = bert ? Tiny.bert(F, 1) : Tiny.gpt2(F, 1);
            var cfg = bert ? LoraConfig.bert(4, 8) : LoraConfig.gpt2(4, 8);
            PeftModel m = Peft.apply(base, cfg);
            pretendTrained(m, 3);
            var batch = Tiny.batch(bert ? 0 : 39);
            INDArray expected = m.forward(batch);
            Path dir = tmp.resolve(bert ? "bert" : "gpt2");
            LoraFiles.save(m, cfg, dir, bert ? "bert-base-uncased" : "gpt2");

            StateDict sd = SafeTensors.read(dir.resolve("adapter_model.safetensors"));
            String first = bert ? "base_model.model.bert.encoder.layer.0.attention.self.query" : "base_model.model.transformer.h.0.attn.c_attn";
            assertArrayEquals(new long[]{4, 16}, sd.get(first + ".lora_A.weight").shape());
            assertArrayEquals(new long[]{bert ? 16 : 48, 4}, sd.get(first + ".lora_B.weight").shape());
            assertTrue(sd.contains(bert ? "base_model.model.classifier.weight" : "base_model.model.score.weight"));
            assertEquals(2 * 2 * (bert ? 2 : 1) + (bert ? 2 : 1), sd.size(), sd.names().toString());
            JsonNode c = new ObjectMapper().readTree(dir.resolve("adapter_config.json").toFile());
            assertEquals("LORA", c.get("peft_type").asText());
            assertEquals("SEQ_CLS", c.get("task_type").asText());
            assertEquals(!bert, c.get("fan_in_fan_out").asBoolean());
            assertEquals("pt", SafeTensors.readMetadata(dir.resolve("adapter_model.safetensors")).get("format"));

            SequenceClassifier fresh = bert ? Tiny.bert(F, 1) : Tiny.gpt2(F, 1);   // same base weights
            PeftModel loaded = LoraFiles.load(fresh, dir);
            assertTrue(expected.equals(loaded.forward(batch)), "logits reproduced exactly");
        }
    }

    @Test
    void loraLoadRejectsAMismatchedBaseOrType() throws IOException {
        var m = Peft.apply(Tiny.bert(F, 2), LoraConfig.bert(4, 8));
        LoraFiles.save(m, LoraConfig.bert(4, 8), tmp, "tiny");
        var other = new BertForSequenceClassification(new BertConfig(40, 32, 2, 2, 24, 16, 2, 1e-12, "gelu", 0, 0, 3), F, 1);
        var e = assertThrows(WeightFormatException.class, () -> LoraFiles.load(other, tmp));
        assertTrue(e.getMessage().contains("lora_A") && e.getMessage().contains("[4, 16]"), e.getMessage());
        Files.writeString(tmp.resolve("adapter_config.json"), Files.readString(tmp.resolve("adapter_config.json")).replace("\"LORA\"", "\"PREFIX_TUNING\""));
        var e2 = assertThrows(WeightFormatException.class, () -> LoraFiles.load(Tiny.bert(F, 2), tmp));
        assertTrue(e2.getMessage().contains("PREFIX_TUNING"), e2.getMessage());
    }

    @Test
    void adapterRoundTripBertAndGpt2() throws IOException {
        for (boolean bert : new boolean[]{true, false}) {
            var cfg = new AdapterConfig("pfeiffer", 4, 1);
            PeftModel m = Peft.apply(bert ? Tiny.bert(F, 4) : Tiny.gpt2(F, 4), cfg);
            pretendTrained(m, 5);
            var batch = Tiny.batch(bert ? 0 : 39);
            INDArray expected = m.forward(batch);
            Path dir = tmp.resolve(bert ? "a-bert" : "a-gpt2");
            AdapterFiles.save(m, cfg, dir);
            StateDict sd = SafeTensors.read(dir.resolve("adapter.safetensors"));
            assertTrue(sd.contains(bert ? "bert.encoder.layer.1.output.adapters.pfeiffer.adapter_down.0.weight"
                    : "transformer.h.1.output_adapters.adapters.pfeiffer.adapter_up.bias"), sd.names().toString());
            PeftModel loaded = AdapterFiles.load(bert ? Tiny.bert(F, 4) : Tiny.gpt2(F, 4), dir);
            assertTrue(expected.equals(loaded.forward(batch)));
        }
    }

    @Test
    void prefixAndPromptRoundTrips() throws IOException {
        for (boolean bert : new boolean[]{true, false}) {
            for (PeftMethod method : List.<PeftMethod>of(new PrefixTuningConfig(3, true, 8, 1), new PrefixTuningConfig(2, false, 0, 2),
                    PromptTuningConfig.random(3))) {
                PeftModel m = Peft.apply(bert ? Tiny.bert(F, 6) : Tiny.gpt2(F, 6), method);
                pretendTrained(m, 7);
                var batch = Tiny.batch(bert ? 0 : 39);
                INDArray expected = m.forward(batch);
                Path dir = tmp.resolve("pl-" + bert + "-" + method.hashCode());
                PromptLearningFiles.save(m, dir, "tiny");
                StateDict sd = SafeTensors.read(dir.resolve("adapter_model.safetensors"));
                long width = method instanceof PrefixTuningConfig ? 2 * 2 * 16 : 16;
                assertEquals(width, sd.get("prompt_embeddings").shape()[1], "L·2·C for a prefix, C for a prompt");
                PeftModel loaded = PromptLearningFiles.load(bert ? Tiny.bert(F, 6) : Tiny.gpt2(F, 6), dir);
                double diff = expected.sub(loaded.forward(batch)).amaxNumber().doubleValue();
                assertTrue(diff == 0, method + ": logits differ by " + diff);
            }
        }
    }

    @Test
    void bertBaseLoraFileIsSmall() throws IOException {
        var base = new BertForSequenceClassification(BertConfig.base(3), F, 1);
        var m = Peft.apply(base, LoraConfig.bert(8, 8));
        LoraFiles.save(m, LoraConfig.bert(8, 8), tmp, "bert-base-uncased");
        long bytes = Files.size(tmp.resolve("adapter_model.safetensors"));
        long expected = (12L * 2 * (8 * 768 + 768 * 8) + 768 * 3 + 3) * 4;   // q,v LoRA + head, F32
        assertTrue(bytes >= expected && bytes < expected + 20_000, bytes + " bytes");
        assertTrue(bytes < 2_000_000, "about 1.2 MB, not 400 MB");
    }
}
