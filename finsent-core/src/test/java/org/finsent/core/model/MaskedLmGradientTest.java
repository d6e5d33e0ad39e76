package org.finsent.core.model;

import org.finsent.core.io.SafeTensors;
import org.finsent.core.io.StateDict;
import org.finsent.core.nn.GradCheck;
import org.finsent.core.nn.Parameter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link BertForMaskedLM}'s loss and every parameter gradient (the tied word embedding included) and
 * {@link Gpt2LMHeadModel}'s causal-LM loss against FP64 central finite differences ({@link GradCheck}), on tiny random
 * models and a padded batch; the labelled-rows forward against the all-rows one; save → load round trips.
 */
class MaskedLmGradientTest {
    static final int I = LanguageModelLoss.IGNORE;
    /** Labels on real tokens only, some rows unlabelled, one label repeated (the tied decoder row gets two terms). */
    static final int[][] MLM_LABELS = {{I, 17, I, 7, 9}, {11, I, 30, I, I}};

    static BertForMaskedLM tinyMlm(long seed) {
        var m = new BertForMaskedLM(TinyModels.bert(0), DataType.DOUBLE, seed);
        TinyModels.randomize(m.parameters(), seed);
        return m;
    }

    @Test
    void everyMlmGradientMatchesFiniteDifferences() {
        var m = tinyMlm(3);
        Batch batch = TinyModels.batch(false, 0);
        m.zeroGrad();
        double loss = m.loss(batch, MLM_LABELS, true, 1).loss();
        assertTrue(loss > 0 && Double.isFinite(loss));
        int checked = 0;
        for (Parameter p : m.parameters()) {
            GradCheck.check(p.name(), p.value(), p.grad(), () -> m.loss(batch, MLM_LABELS, false, 1).loss(), 24, checked);
            checked++;
        }
        assertEquals(m.parameters().size(), checked);
        // the tied decoder: every row of the word embedding, including rows only the decoder uses (label 7 is no input id)
        Parameter w = m.bert.word.weight;
        GradCheck.check("tied word embeddings (all entries)", w.value(), w.grad(), () -> m.loss(batch, MLM_LABELS, false, 1).loss(), 400, 99);
        assertTrue(w.grad().getRow(7).norm2Number().doubleValue() > 1e-6, "the decoder's gradient reaches the embedding");
    }

    @Test
    void lossIsTheMeanCrossEntropyOfTheFullLogitsAtLabelledPositions() {
        var m = tinyMlm(4);
        Batch batch = TinyModels.batch(false, 0);
        m.bert.skipPadding(false);
        INDArray all = m.forward(batch);                    // [B·T, V], every position
        int[] flatLabels = new int[10];
        for (int n = 0; n < 2; n++) for (int i = 0; i < 5; i++) flatLabels[n * 5 + i] = MLM_LABELS[n][i];
        // reference: log-softmax by hand over the full logits
        double sum = 0;
        int count = 0;
        for (int r = 0; r < 10; r++) {
            if (flatLabels[r] == I) continue;
            double max = all.getRow(r).maxNumber().doubleValue(), z = 0;
            for (int v = 0; v < 40; v++) z += Math.exp(all.getDouble(r, v) - max);
            sum += -(all.getDouble(r, flatLabels[r]) - max - Math.log(z));
            count++;
        }
        assertEquals(sum / count, LanguageModelLoss.rows(all, flatLabels).loss(), 1e-12);
        m.bert.skipPadding(true);
        assertEquals(sum / count, m.loss(batch, MLM_LABELS, false, 1).loss(), 1e-12, "labelled rows only, padding skipped");
        int[] rows = {1, 3, 5, 7};
        INDArray some = m.forward(batch, rows);
        for (int i = 0; i < rows.length; i++) {
            assertEquals(0, all.getRow(rows[i]).sub(some.getRow(i)).norm2Number().doubleValue(), 1e-12, "row " + rows[i]);
        }
    }

    @Test
    void scaledBackwardScalesEveryGradient() {
        var m = tinyMlm(5);
        Batch batch = TinyModels.batch(false, 0);
        m.zeroGrad();
        m.loss(batch, MLM_LABELS, true, 1);
        INDArray g1 = m.bert.word.weight.grad().dup();
        m.zeroGrad();
        m.loss(batch, MLM_LABELS, true, 0.25);
        assertEquals(0, g1.mul(0.25).sub(m.bert.word.weight.grad()).norm2Number().doubleValue(), 1e-12);
    }

    @Test
    void noLabelledPositionIsAZeroLossWithoutGradient() {
        var m = tinyMlm(6);
        m.zeroGrad();
        var r = m.loss(TinyModels.batch(false, 0), new int[][]{{I, I, I, I, I}, {I, I, I, I, I}}, true, 1);
        assertEquals(0, r.count());
        assertEquals(0, r.loss());
        for (Parameter p : m.parameters()) assertEquals(0, p.grad().norm2Number().doubleValue());
    }

    @Test
    void causalLmGradientsMatchFiniteDifferencesRightAndLeftPadding() {
        for (boolean left : new boolean[]{false, true}) {
            var m = new Gpt2LMHeadModel(TinyModels.gpt2(0), DataType.DOUBLE, 8);
            TinyModels.randomize(m.parameters(), 8);
            Batch batch = TinyModels.batch(left, 39);
            int[][] labels = new int[2][5];
            for (int n = 0; n < 2; n++) for (int i = 0; i < 5; i++) {
                labels[n][i] = batch.attentionMask()[n][i] == 1 ? batch.inputIds()[n][i] : I;
            }
            m.zeroGrad();
            var r = m.loss(batch, labels, true, 1);
            // T−1 predictions per example's real tokens: none into padding, none from a padding position
            assertEquals(4 + 2, r.count());
            int k = 0;
            for (Parameter p : m.parameters()) {
                GradCheck.check((left ? "left " : "right ") + p.name(), p.value(), p.grad(), () -> m.loss(batch, labels, false, 1).loss(), 20, k++);
            }
        }
    }

    @Test
    void causalLossShiftsLabelsByOne() {
        INDArray logits = Nd4j.rand(DataType.DOUBLE, 6, 4);
        int[][] labels = {{1, 2, 3}, {0, I, 2}};
        var r = LanguageModelLoss.causal(logits, labels);
        // row t predicts label t+1: rows 0,1 of example 0 (labels 2,3) and row 4 of example 1 (label 2); row 3 → -100
        var ref = LanguageModelLoss.rows(logits, new int[]{2, 3, I, I, 2, I});
        assertEquals(ref.loss(), r.loss(), 0);
        assertEquals(3, r.count());
    }

    @Test
    void saveAndLoadRoundTripGivesEqualLogits(@TempDir Path dir) throws Exception {
        var m = tinyMlm(9);
        Batch batch = TinyModels.batch(false, 0);
        INDArray before = m.forward(batch);
        Pretrained.save(m, dir);
        String config = Files.readString(dir.resolve("config.json"));
        assertTrue(config.contains("\"BertForMaskedLM\""), config);
        StateDict saved = SafeTensors.load(dir.resolve(SafeTensors.SINGLE_FILE));
        assertTrue(saved.contains("cls.predictions.bias") && saved.contains("cls.predictions.transform.dense.weight")
                && saved.contains("cls.predictions.transform.LayerNorm.weight") && saved.contains("bert.embeddings.word_embeddings.weight"));
        assertFalse(saved.contains("cls.predictions.decoder.weight"), "tied: saved once, as the word embedding");
        assertFalse(saved.names().stream().anyMatch(n -> n.contains("pooler")));
        var back = Pretrained.bertForMaskedLM(dir, DataType.DOUBLE, 1);
        // F32 on disk: equal to float rounding of the weights
        INDArray after = back.forward(batch);
        double rel = before.sub(after).norm2Number().doubleValue() / before.norm2Number().doubleValue();
        assertTrue(rel < 1e-6, "relative difference " + rel);

        var gpt = new Gpt2LMHeadModel(TinyModels.gpt2(0), DataType.DOUBLE, 2);
        TinyModels.randomize(gpt.parameters(), 2);
        Path g = dir.resolve("gpt2");
        Pretrained.save(gpt, g);
        assertTrue(Files.readString(g.resolve("config.json")).contains("\"GPT2LMHeadModel\""));
        assertFalse(SafeTensors.load(g.resolve(SafeTensors.SINGLE_FILE)).contains("lm_head.weight"));
        INDArray gb = gpt.forward(TinyModels.batch(false, 39)), ga = Pretrained.gpt2LmHead(g, DataType.DOUBLE, 5).forward(TinyModels.batch(false, 39));
        assertTrue(gb.sub(ga).norm2Number().doubleValue() / gb.norm2Number().doubleValue() < 1e-6);
    }

    @Test
    void checkpointWithoutHeadInitialisesItTiedAndAliasesAreAccepted(@TempDir Path dir) throws Exception {
        var cls = TinyModels.bertClassifier(11);
        Pretrained.save(cls, dir);                           // bert.* + pooler + classifier: no MLM head
        var m = Pretrained.bertForMaskedLM(dir, DataType.DOUBLE, 12);
        assertEquals(0, m.bias.value().norm2Number().doubleValue(), "new bias is zero, as Transformers initialises it");
        assertEquals(1.0, m.transformLn.weight.value().meanNumber().doubleValue(), 0);
        assertTrue(m.bert.pooler != null && !m.bert.pooler.weight.trainable(), "the checkpoint's pooler is carried, frozen");
        assertEquals(0, m.bert.word.weight.value().sub(cls.bert.word.weight.value().castTo(DataType.FLOAT).castTo(DataType.DOUBLE))
                .norm2Number().doubleValue(), 0, "the decoder is the loaded word embedding");

        // a Transformers file with the aliases: decoder.bias stands for cls.predictions.bias, decoder.weight is ignored
        var src = tinyMlm(13);
        StateDict sd = ModelWeights.stateDict(src.namedParameters(), org.finsent.core.io.DType.F64);
        var bias = sd.remove("cls.predictions.bias");
        sd.put(bias.withName("cls.predictions.decoder.bias"));
        sd.put(sd.get("bert.embeddings.word_embeddings.weight").withName("cls.predictions.decoder.weight"));
        var loaded = Pretrained.bertForMaskedLM(src.bert.config, sd, "aliases", DataType.DOUBLE, 1);
        assertEquals(0, loaded.bias.value().sub(src.bias.value()).norm2Number().doubleValue(), 0);
        List<String> names = List.copyOf(loaded.namedParameters().keySet());
        assertFalse(names.contains("cls.predictions.decoder.weight"));
    }
}
