package org.finsent.core.model;

import org.finsent.core.io.DType;
import org.finsent.core.io.SafeTensors;
import org.finsent.core.io.StateDict;
import org.finsent.core.io.TensorData;
import org.finsent.core.io.WeightFormatException;
import org.finsent.core.nn.Parameter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Saving and loading model directories in Hugging Face's layout. */
class PretrainedTest {
    @TempDir
    Path tmp;

    static BertConfig tinyBert() {
        return new BertConfig(40, 8, 2, 2, 12, 16, 2, 1e-12, "gelu", 0.1, 0.1, 3);
    }

    static Gpt2Config tinyGpt2() {
        return new Gpt2Config(40, 16, 8, 2, 2, 12, "gelu_new", 0.1, 0.1, 0.1, 1e-5, 3, 39);
    }

    @Test
    void bertRoundTripIsBitIdenticalAndUsesHuggingFaceNames() throws IOException {
        var m = new BertForSequenceClassification(tinyBert(), DataType.FLOAT, 5);
        Pretrained.save(m, tmp);
        StateDict saved = SafeTensors.read(tmp.resolve("model.safetensors"));
        assertEquals("pt", SafeTensors.readMetadata(tmp.resolve("model.safetensors")).get("format"));
        List<String> expected = new ArrayList<>(List.of("bert.embeddings.word_embeddings.weight",
                "bert.embeddings.position_embeddings.weight", "bert.embeddings.token_type_embeddings.weight",
                "bert.embeddings.LayerNorm.weight", "bert.embeddings.LayerNorm.bias"));
        for (int i = 0; i < 2; i++) {
            for (String s : List.of("attention.self.query", "attention.self.key", "attention.self.value",
                    "attention.output.dense", "attention.output.LayerNorm", "intermediate.dense", "output.dense", "output.LayerNorm")) {
                expected.add("bert.encoder.layer." + i + "." + s + ".weight");
                expected.add("bert.encoder.layer." + i + "." + s + ".bias");
            }
        }
        expected.addAll(List.of("bert.pooler.dense.weight", "bert.pooler.dense.bias", "classifier.weight", "classifier.bias"));
        assertEquals(expected.stream().sorted().toList(), saved.names().stream().sorted().toList());
        assertArrayEquals(new long[]{12, 8}, saved.get("bert.encoder.layer.0.intermediate.dense.weight").shape(), "[out, in] like nn.Linear");
        for (TensorData t : saved) assertEquals(DType.F32, t.dtype());

        var loaded = Pretrained.bert(tmp, 3, DataType.FLOAT, 99);
        for (Map.Entry<String, Parameter> e : m.namedParameters().entrySet()) {
            INDArray a = e.getValue().value(), b = loaded.namedParameters().get(e.getKey()).value();
            assertTrue(a.equals(b), e.getKey() + " bit-identical");
        }
        assertEquals(tinyBert(), BertConfig.read(tmp.resolve("config.json")));
    }

    @Test
    void gpt2HubLayoutWithoutPrefixAndWithBuffersLoads() throws IOException {
        var src = new Gpt2ForSequenceClassification(tinyGpt2(), DataType.FLOAT, 6);
        // the hub's gpt2 model.safetensors: no "transformer." prefix, causal-mask buffers, no score head
        StateDict hub = new StateDict();
        for (TensorData t : ModelWeights.stateDict(src.transformer.parameters().stream()
                .collect(java.util.stream.Collectors.toMap(Parameter::name, p -> p, (a, b) -> a, java.util.LinkedHashMap::new)), DType.F32)) {
            hub.put(t.withName(t.name().substring("transformer.".length())));
        }
        hub.put(TensorData.of("h.0.attn.bias", new float[16 * 16], 1, 1, 16, 16));
        Files.createDirectories(tmp.resolve("gpt2"));
        SafeTensors.write(tmp.resolve("gpt2/model.safetensors"), hub);
        tinyGpt2().write(tmp.resolve("gpt2/config.json"));
        var m = new Gpt2ForSequenceClassification(tinyGpt2(), DataType.FLOAT, 77);
        var report = ModelWeights.load(m.namedParameters(), SafeTensors.read(tmp.resolve("gpt2/model.safetensors")), "hub");
        assertEquals(List.of("score.weight"), report.missing());
        assertEquals(List.of(), report.unexpected(), "buffers are not reported");
        assertTrue(src.transformer.wte.weight.value().equals(m.transformer.wte.weight.value()));
        assertArrayEquals(new long[]{8, 24}, m.namedParameters().get("transformer.h.1.attn.c_attn.weight").value().shape(),
                "Conv1D [in, out] kept as stored");
        Pretrained.gpt2(tmp.resolve("gpt2"), 3, DataType.FLOAT, 1);
    }

    @Test
    void tfStyleLayerNormNamesAndBareBertModelKeysLoad() throws IOException {
        var m = new BertForSequenceClassification(tinyBert(), DataType.FLOAT, 8);
        StateDict sd = new StateDict();
        for (TensorData t : ModelWeights.stateDict(m.bert.namedParameters(), DType.F32)) {
            String name = t.name().substring("bert.".length()).replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta");
            sd.put(t.withName(name));
        }
        var fresh = new BertForSequenceClassification(tinyBert(), DataType.FLOAT, 9);
        var report = ModelWeights.load(fresh.namedParameters(), sd, "tf-style");
        assertEquals(List.of("classifier.weight", "classifier.bias"), report.missing());
        assertTrue(m.bert.embLn.weight.value().equals(fresh.bert.embLn.weight.value()));
    }

    @Test
    void shapeMismatchNamesTheTensorAndBothShapes() {
        var m = new BertForSequenceClassification(tinyBert(), DataType.FLOAT, 10);
        StateDict sd = new StateDict();
        sd.put(TensorData.of("bert.pooler.dense.weight", new float[8 * 4], 8, 4));
        var e = assertThrows(WeightFormatException.class, () -> ModelWeights.load(m.namedParameters(), sd, "bad.safetensors"));
        assertTrue(e.getMessage().contains("bad.safetensors") && e.getMessage().contains("bert.pooler.dense.weight")
                && e.getMessage().contains("[8, 4]") && e.getMessage().contains("[8, 8]"), e.getMessage());
    }

    @Test
    void missingWeightsFileIsAClearError() {
        var e = assertThrows(java.nio.file.NoSuchFileException.class, () -> Pretrained.readWeights(tmp));
        assertTrue(e.getMessage().contains("model.safetensors"), e.getMessage());
    }

    @Test
    void huggingFaceInitialisation() {
        var m = new BertForSequenceClassification(BertConfig.base(3).withNumLabels(3), DataType.FLOAT, 1);
        double std = m.bert.word.weight.value().stdNumber().doubleValue();
        assertEquals(0.02, std, 0.001);
        assertEquals(0, m.classifier.bias.value().sumNumber().doubleValue(), 0);
        assertEquals(768, m.bert.embLn.weight.value().sumNumber().doubleValue(), 1e-6);
        var g = new Gpt2ForSequenceClassification(Gpt2Config.small(3), DataType.FLOAT, 1);
        double projStd = g.namedParameters().get("transformer.h.0.attn.c_proj.weight").value().stdNumber().doubleValue();
        assertEquals(0.02 / Math.sqrt(24), projStd, 0.0005);
    }

    static String stderrOf(org.junit.jupiter.api.function.Executable body) throws Throwable {
        java.io.PrintStream old = System.err;
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        System.setErr(new java.io.PrintStream(err, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            body.execute();
        } finally {
            System.setErr(old);
        }
        String s = err.toString(java.nio.charset.StandardCharsets.UTF_8);
        old.print(s);
        return s;
    }

    @Test
    void checkpointWithoutPoolerAndWithAnotherHeadLoadsAsFromPretrainedWithItsWarnings() throws Throwable {
        // a BertForMaskedLM-like checkpoint: the encoder, no pooler, no classifier, a cls.* head
        var src = new BertForSequenceClassification(tinyBert(), DataType.FLOAT, 1);
        StateDict sd = new StateDict();
        for (TensorData t : ModelWeights.stateDict(src.namedParameters(), DType.F32)) {
            if (!t.name().contains("pooler") && !t.name().startsWith("classifier")) sd.put(t);
        }
        sd.put(TensorData.of("cls.predictions.bias", new float[40], 40));
        Path dir = Files.createDirectories(tmp.resolve("mlm"));
        SafeTensors.write(dir.resolve("model.safetensors"), sd, Map.of("format", "pt"));
        src.bert.config.write(dir.resolve("config.json"));

        BertForSequenceClassification[] loaded = new BertForSequenceClassification[1];
        String err = stderrOf(() -> loaded[0] = Pretrained.bert(dir, 3, DataType.FLOAT, 2));
        String name = "bert.encoder.layer.1.attention.self.query.weight";
        assertEquals(src.namedParameters().get(name).value(), loaded[0].namedParameters().get(name).value());
        assertTrue(err.contains("Some weights of BertForSequenceClassification were not initialized from the model checkpoint at "
                + dir + " and are newly initialized: [bert.pooler.dense.weight, bert.pooler.dense.bias, classifier.weight, "
                + "classifier.bias]"), err);
        assertEquals(1, err.split("newly initialized", -1).length - 1, "one warning names every missing weight: " + err);
        assertTrue(err.contains("Some weights of the model checkpoint at " + dir
                + " were not used when initializing BertForSequenceClassification: [cls.predictions.bias]"), err);
        // the newly initialised pooler is the seeded initialisation (not zeros, not the source's)
        var fresh = new BertForSequenceClassification(tinyBert(), DataType.FLOAT, 2);
        assertEquals(fresh.namedParameters().get("bert.pooler.dense.weight").value(),
                loaded[0].namedParameters().get("bert.pooler.dense.weight").value());
    }
}
