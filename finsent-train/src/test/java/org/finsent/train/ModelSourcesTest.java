package org.finsent.train;

import org.finsent.core.io.DType;
import org.finsent.core.io.SafeTensors;
import org.finsent.core.io.StateDict;
import org.finsent.core.io.TensorData;
import org.finsent.core.io.WeightFormatException;
import org.finsent.core.model.BertForSequenceClassification;
import org.finsent.core.model.ModelWeights;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Model directories load as Transformers' from_pretrained loads them: missing parts initialised, with its warnings. */
class ModelSourcesTest {
    @TempDir
    Path tmp;

    /** A tiny BERT directory holding the tensors {@code keep} selects, plus {@code extra}, with the MiniLM tokenizer. */
    private Path checkpoint(String name, BertForSequenceClassification src, Predicate<String> keep, TensorData... extra) throws Exception {
        StateDict sd = new StateDict();
        for (TensorData t : ModelWeights.stateDict(src.namedParameters(), DType.F32)) {
            if (keep.test(t.name())) sd.put(t);
        }
        for (TensorData t : extra) sd.put(t);
        Path dir = Files.createDirectories(tmp.resolve(name));
        SafeTensors.write(dir.resolve("model.safetensors"), sd, Map.of("format", "pt"));
        src.bert.config.write(dir.resolve("config.json"));
        try (InputStream in = getClass().getClassLoader().getResourceAsStream("all-minilm-l6-v2-tokenizer.json")) {
            Files.copy(in, dir.resolve("tokenizer.json"));
        }
        return dir;
    }

    @Test
    void bareEncoderWithoutPoolerLoadsWithOneWarningNamingTheNewWeights() throws Throwable {
        var src = Fixtures.tinyBert(DataType.FLOAT, 1);
        // a bare BertModel export: no "bert." prefix, no pooler, no head
        StateDict bare = new StateDict();
        for (TensorData t : ModelWeights.stateDict(src.bert.namedParameters(), DType.F32)) {
            if (!t.name().contains("pooler")) bare.put(TensorData.ofFloats(t.name().substring("bert.".length()), DType.F32, t.toFloats(), t.shape()));
        }
        Path dir = Files.createDirectories(tmp.resolve("bare"));
        SafeTensors.write(dir.resolve("model.safetensors"), bare, Map.of("format", "pt"));
        src.bert.config.write(dir.resolve("config.json"));
        try (InputStream in = getClass().getClassLoader().getResourceAsStream("all-minilm-l6-v2-tokenizer.json")) {
            Files.copy(in, dir.resolve("tokenizer.json"));
        }
        ModelSources.Source[] s = new ModelSources.Source[1];
        String err = DataSourcesTest.withEnv(Map.of(), () -> s[0] = ModelSources.load(dir.toString(), 3, 7));
        String q = "bert.encoder.layer.0.attention.self.query.weight";
        assertEquals(src.namedParameters().get(q).value(), s[0].model().namedParameters().get(q).value());
        assertTrue(err.contains("Some weights of BertForSequenceClassification were not initialized from the model checkpoint at "
                + dir + " and are newly initialized: [bert.pooler.dense.weight, bert.pooler.dense.bias, classifier.weight, "
                + "classifier.bias]"), err);
        assertEquals(1, err.split("newly initialized", -1).length - 1, err);
        assertTrue(!err.contains("were not used"), "nothing unexpected: " + err);
    }

    @Test
    void anotherHeadIsListedAndAHeadOfAnotherSizeIsReplaced() throws Throwable {
        var src = Fixtures.tinyBert(DataType.FLOAT, 1);
        // BertForMaskedLM's cls.* head instead of a classifier
        Path mlm = checkpoint("mlm", src, n -> !n.startsWith("classifier"), TensorData.of("cls.predictions.bias", new float[30522], 30522));
        String err = DataSourcesTest.withEnv(Map.of(), () -> ModelSources.load(mlm.toString(), 3, 7));
        assertTrue(err.contains("Some weights of the model checkpoint at " + mlm
                + " were not used when initializing BertForSequenceClassification: [cls.predictions.bias]"), err);
        assertTrue(err.contains("newly initialized: [classifier.weight, classifier.bias]"), err);

        // a 3-class checkpoint for a 2-class task: Transformers' ignore_mismatched_sizes wording, in the same one warning
        Path three = checkpoint("three", src, n -> true);
        String err2 = DataSourcesTest.withEnv(Map.of(), () -> ModelSources.load(three.toString(), 2, 7));
        assertTrue(err2.contains("newly initialized because the shapes did not match:\n- classifier.weight: found shape [3, 16] "
                + "in the checkpoint and [2, 16] in the model instantiated"), err2);
        assertEquals(1, err2.split("newly initialized", -1).length - 1, err2);
    }

    @Test
    void aWeightOfTheWrongShapeStillFailsNamingIt() throws Exception {
        var src = Fixtures.tinyBert(DataType.FLOAT, 1);
        Path bad = checkpoint("bad", src, n -> !n.equals("bert.pooler.dense.weight"),
                TensorData.of("bert.pooler.dense.weight", new float[16 * 8], 16, 8));
        var e = assertThrows(WeightFormatException.class, () -> ModelSources.load(bad.toString(), 3, 7));
        assertTrue(e.getMessage().contains("bert.pooler.dense.weight") && e.getMessage().contains("[16, 8]"), e.getMessage());
    }
}
