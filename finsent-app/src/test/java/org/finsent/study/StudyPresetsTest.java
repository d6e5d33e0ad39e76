package org.finsent.study;

import org.finsent.core.model.BertConfig;
import org.finsent.core.model.BertForSequenceClassification;
import org.finsent.core.model.Gpt2Config;
import org.finsent.core.model.Gpt2ForSequenceClassification;
import org.finsent.peft.AdapterConfig;
import org.finsent.peft.LoraConfig;
import org.finsent.peft.LoraLinear;
import org.finsent.peft.Peft;
import org.finsent.peft.PeftMethod;
import org.finsent.peft.PrefixTuningConfig;
import org.finsent.study.StudyPresets.Family;
import org.finsent.study.StudyPresets.Gpt2LearningRate;
import org.finsent.study.StudyPresets.Overrides;
import org.finsent.study.StudyPresets.Technique;
import org.finsent.train.TrainingArguments;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The presets against the numbers written in the study (issue 6), value by value. */
class StudyPresetsTest {
    private static final Path OUT = Path.of("out");

    private static TrainingArguments args(Family f, Technique t) {
        return StudyPresets.arguments(f, List.of(t), OUT, Gpt2LearningRate.TABLE, Overrides.NONE);
    }

    @Test
    void bertTrainingArgumentsAreTheStudys() {
        for (Technique t : List.of(Technique.FULL, Technique.LORA, Technique.ADAPTER, Technique.PREFIX)) {
            TrainingArguments a = args(Family.BERT, t);
            assertEquals(5, a.numTrainEpochs(), t + " epochs");
            assertEquals(-1, a.maxSteps());
            assertEquals(8, a.perDeviceTrainBatchSize());
            assertEquals(t == Technique.FULL ? 2e-5 : 2e-4, a.learningRate(), t + " learning rate");
            assertEquals(0.01, a.weightDecay());
            assertEquals(300, a.warmupSteps());
            assertEquals(2, a.gradientAccumulationSteps());
            assertEquals(TrainingArguments.EvalStrategy.STEPS, a.evalStrategy());
            assertEquals(100, a.evalStepsResolved());
            assertEquals(100, a.loggingSteps());
            assertEquals("accuracy", a.metricForBestModel());
            assertTrue(a.loadBestModelAtEnd());
            assertTrue(a.greaterIsBetterResolved());
        }
    }

    @Test
    void gpt2TrainingArgumentsAreTheStudysWithTheLearningRateChoice() {
        for (Technique t : List.of(Technique.FULL, Technique.LORA, Technique.ADAPTER, Technique.PREFIX)) {
            TrainingArguments a = args(Family.GPT2, t);
            assertEquals(3, a.numTrainEpochs());
            assertEquals(8, a.perDeviceTrainBatchSize());
            assertEquals(2e-5, a.learningRate(), "the study's table");
            assertEquals(100, a.warmupSteps());
            assertEquals(2, a.gradientAccumulationSteps());
            assertEquals(2e-4, StudyPresets.arguments(Family.GPT2, List.of(t), OUT, Gpt2LearningRate.TEXT, Overrides.NONE)
                    .learningRate(), "the study's text");
        }
    }

    @Test
    void peftMethodsAreTheStudys() {
        var bertLora = (LoraConfig) StudyPresets.method(Family.BERT, Technique.LORA);
        assertEquals(8, bertLora.r());
        assertEquals(16, bertLora.loraAlpha());
        assertEquals(0.1, bertLora.loraDropout());
        assertEquals(List.of("query", "key", "value"), bertLora.targetModules());
        var gptLora = (LoraConfig) StudyPresets.method(Family.GPT2, Technique.LORA);
        assertEquals(32, gptLora.r());
        assertEquals(64, gptLora.loraAlpha());
        assertEquals(0.1, gptLora.loraDropout());
        assertEquals(List.of("c_attn"), gptLora.targetModules());
        for (Family f : Family.values()) {
            assertEquals(16, ((AdapterConfig) StudyPresets.method(f, Technique.ADAPTER)).reductionFactor());
            var prefix = (PrefixTuningConfig) StudyPresets.method(f, Technique.PREFIX);
            assertEquals(10, prefix.numVirtualTokens());
            assertTrue(prefix.prefixProjection());
            assertEquals(768, prefix.encoderHiddenSize());
            assertEquals(PeftMethod.Baseline.FULL_FINE_TUNING, StudyPresets.method(f, Technique.FULL));
        }
    }

    /** The LoRA targets hit exactly what the study names: q, k, v in every BERT layer; the fused c_attn in GPT-2. */
    @Test
    void loraTargetsMatchTheModelsModules() {
        var bert = new BertForSequenceClassification(new BertConfig(100, 16, 3, 2, 24, 32, 2, 1e-12, "gelu", 0, 0, 3), DataType.FLOAT, 1);
        List<String> hit = Peft.apply(bert, StudyPresets.method(Family.BERT, Technique.LORA)).loraModules().stream()
                .map(LoraLinear::module).map(m -> m.substring(m.lastIndexOf('.') + 1)).toList();
        assertEquals(9, hit.size(), "3 layers x q,k,v: " + hit);
        assertEquals(Map.of("query", 3L, "key", 3L, "value", 3L),
                hit.stream().collect(java.util.stream.Collectors.groupingBy(s -> s, java.util.stream.Collectors.counting())));
        var gpt2 = new Gpt2ForSequenceClassification(new Gpt2Config(100, 32, 16, 2, 2, 64, "gelu_new", 0, 0, 0, 1e-5, 3, 99), DataType.FLOAT, 1);
        List<String> g = Peft.apply(gpt2, StudyPresets.method(Family.GPT2, Technique.LORA)).loraModules().stream().map(LoraLinear::module).toList();
        assertEquals(2, g.size());
        assertTrue(g.stream().allMatch(m -> m.endsWith(".attn.c_attn")), g.toString());
    }

    /** What FineTuning is given (Techniques) resolves to exactly the presets' PEFT methods, for both families. */
    @Test
    void techniquesForFineTuningEqualThePresets() {
        var bert = new BertForSequenceClassification(new BertConfig(100, 16, 1, 2, 24, 32, 2, 1e-12, "gelu", 0, 0, 3), DataType.FLOAT, 1);
        var gpt2 = new Gpt2ForSequenceClassification(new Gpt2Config(100, 32, 16, 1, 2, 64, "gelu_new", 0, 0, 0, 1e-5, 3, 99), DataType.FLOAT, 1);
        List<Technique> all = List.of(Technique.LORA, Technique.ADAPTER, Technique.PREFIX);
        assertEquals(List.of(StudyPresets.methods(Family.BERT, all)), StudyPresets.techniques(Family.BERT, all).methods(bert, null));
        assertEquals(List.of(StudyPresets.methods(Family.GPT2, all)), StudyPresets.techniques(Family.GPT2, all).methods(gpt2, null));
        assertEquals(List.of(PeftMethod.Baseline.FULL_FINE_TUNING),
                StudyPresets.techniques(Family.BERT, List.of(Technique.FULL)).methods(bert, null));
    }

    @Test
    void overridesApplyAndAreRecorded() {
        var o = new Overrides(1, 7L, 300, 64, 5L);
        TrainingArguments a = StudyPresets.arguments(Family.BERT, List.of(Technique.LORA), OUT, Gpt2LearningRate.TABLE, o);
        assertEquals(1, a.numTrainEpochs());
        assertEquals(7, a.maxSteps());
        assertEquals(64, a.maxSeqLength());
        assertEquals(5, a.evalStepsResolved());
        assertEquals(5, a.loggingSteps());
        assertEquals(2e-4, a.learningRate(), "overrides leave the study's other settings alone");
        assertEquals(Map.of("epochs", 1, "max_steps", 7L, "sample_size", 300, "max_length", 64, "eval_steps", 5L), o.asMap());
        assertTrue(Overrides.NONE.isEmpty());
        assertThrows(IllegalArgumentException.class, () -> new Overrides(0, null, null, null, null));
    }

    @Test
    void techniqueCombinations() {
        assertEquals(List.of(Technique.LORA, Technique.ADAPTER), Technique.parseCombination("lora+adapter"));
        assertThrows(IllegalArgumentException.class, () -> Technique.parseCombination("full+lora"));
        assertThrows(IllegalArgumentException.class, () -> Technique.parseCombination("lora+lora"));
        var e = assertThrows(IllegalArgumentException.class, () -> Technique.parse("ia3"));
        assertTrue(e.getMessage().contains("full, lora, adapter, prefix, prompt"), e.getMessage());
        assertEquals(Family.GPT2, Family.of("gpt2"));
        assertThrows(IllegalArgumentException.class, () -> Family.of("t5"));
    }
}
