package org.finsent.core.oracle;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import org.finsent.core.io.OnnxInitializers;
import org.finsent.core.io.WeightMapping;
import org.finsent.core.model.Batch;
import org.finsent.core.model.BertConfig;
import org.finsent.core.model.BertModel;
import org.finsent.core.model.ModelWeights;
import org.finsent.tokenizers.Encoding;
import org.finsent.tokenizers.Tokenizer;
import org.finsent.tokenizers.TokenizerLoader;
import org.finsent.tokenizers.TokenizerOptions;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The acceptance test of the BERT forward pass: the real all-MiniLM-L6-v2 (6 layers, hidden 384, 12 heads), its
 * weights read from the ONNX file's initializers into FinSent's {@link BertModel}, against ONNX Runtime running
 * the same file (graph optimisations off), on FinancialPhraseBank sentences in padded batches with masks and one
 * at a time (BertModel's single-sequence path):
 * {@code last_hidden_state} and the pooler output agree to ≤ 1e-4 at every unpadded position.
 */
class MiniLmOnnxRuntimeOracleTest {
    static final double TOL = 1e-4;

    @Test
    void lastHiddenStateMatchesOnnxRuntime() throws Exception {
        BertConfig cfg = new BertConfig(30522, 384, 6, 12, 1536, 512, 2, 1e-12, "gelu", 0.1, 0.1, 2);
        BertModel bert = new BertModel(cfg, "", true, DataType.FLOAT, 1);
        bert.train(false);
        byte[] onnx;
        try (InputStream in = getClass().getClassLoader().getResourceAsStream("all-minilm-l6-v2.onnx")) {
            onnx = in.readAllBytes();
        }
        WeightMapping mapped = OnnxInitializers.read(new java.io.ByteArrayInputStream(onnx), "all-minilm-l6-v2.onnx").toHuggingFaceBert();
        ModelWeights.LoadReport report = ModelWeights.load(bert.namedParameters(), mapped.weights(), "all-minilm-l6-v2.onnx");
        assertEquals(List.of(), report.missing(), "every BertModel parameter comes from the ONNX file");
        assertEquals(List.of(), report.unexpected());

        Tokenizer tok;
        try (InputStream in = getClass().getClassLoader().getResourceAsStream("all-minilm-l6-v2-tokenizer.json")) {
            tok = TokenizerLoader.fromTokenizerJson(in, Path.of("all-minilm-l6-v2-tokenizer.json"))
                    .withOptions(TokenizerOptions.DEFAULTS.withPadding(TokenizerOptions.Padding.LONGEST).withTruncation(128));
        }
        List<String> sentences = FinancialSentences.load(96);
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        OrtSession.SessionOptions opts = new OrtSession.SessionOptions();
        opts.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.NO_OPT);
        opts.setIntraOpNumThreads(2);
        // batches of 16, both ways of running the layers: every row (padding positions too), and the real tokens'
        // rows only; then one sentence at a time (no padding: the single-sequence path, when the fast paths are on)
        for (int size : new int[]{16, 1})
        for (boolean skipPadding : size == 1 ? new boolean[]{true} : new boolean[]{false, true}) {
            bert.skipPadding(skipPadding);
            double worst = 0;
            int positions = 0, paddingRows = 0;
            List<String> texts = size == 1 ? sentences.subList(0, 32) : sentences;
            try (OrtSession session = env.createSession(onnx, opts)) {
                for (int from = 0; from < texts.size(); from += size) {
                    List<Encoding> enc = tok.encodeBatch(texts.subList(from, Math.min(texts.size(), from + size)));
                    Batch batch = Batch.of(enc);
                    int b = batch.batchSize(), t = batch.seqLen();
                    INDArray ours = bert.forward(batch);                       // [B*T, 384]
                    if (size == 1) assertEquals(org.finsent.core.nn.FastPaths.enabled(), bert.singleSequenceRan(), "single-sequence path");
                    INDArray pooled = bert.pool(ours);
                    try (OnnxTensor ids = OnnxTensor.createTensor(env, longs(batch.inputIds()));
                         OnnxTensor mask = OnnxTensor.createTensor(env, longs(batch.attentionMask()));
                         OnnxTensor types = OnnxTensor.createTensor(env, longs(batch.tokenTypeIds()));
                         OrtSession.Result r = session.run(Map.of("input_ids", ids, "attention_mask", mask, "token_type_ids", types))) {
                        float[][][] hidden = (float[][][]) r.get("output_0").get().getValue();
                        float[][] pool = (float[][]) r.get("882").get().getValue();
                        for (int n = 0; n < b; n++) {
                            for (int i = 0; i < t; i++) {
                                if (batch.attentionMask()[n][i] == 0) {
                                    if (skipPadding) assertEquals(0.0, ours.getRow((long) n * t + i).norm1Number().doubleValue(), "padding row");
                                    paddingRows++;
                                    continue;
                                }
                                positions++;
                                for (int c = 0; c < cfg.hiddenSize(); c++) {
                                    worst = Math.max(worst, Math.abs(ours.getDouble((long) n * t + i, c) - hidden[n][i][c]));
                                }
                            }
                            for (int c = 0; c < cfg.hiddenSize(); c++) {
                                assertEquals(pool[n][c], pooled.getDouble(n, c), TOL, "pooler output, sentence " + (from + n));
                            }
                        }
                    }
                }
            }
            System.out.printf("MiniLM vs ONNX Runtime, batches of %d%s: %d sentences, %d positions, max |diff| %.3e%n",
                    size, skipPadding ? " (padding skipped)" : "", texts.size(), positions, worst);
            assertTrue(positions > 100);
            if (size > 1) assertTrue(paddingRows > 100, "the batches must hold padding for the skipped-padding run to mean anything");
            assertTrue(worst <= TOL, "max abs difference " + worst);
        }
    }

    static long[][] longs(int[][] a) {
        long[][] out = new long[a.length][];
        for (int i = 0; i < a.length; i++) out[i] = java.util.Arrays.stream(a[i]).asLongStream().toArray();
        return out;
    }
}
