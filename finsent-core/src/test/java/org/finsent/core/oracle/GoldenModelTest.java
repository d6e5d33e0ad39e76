package org.finsent.core.oracle;

import org.finsent.core.io.StateDict;
import org.finsent.core.io.TensorData;
import org.finsent.core.model.Batch;
import org.finsent.core.model.BertForSequenceClassification;
import org.finsent.core.model.CrossEntropyLoss;
import org.finsent.core.model.Gpt2ForSequenceClassification;
import org.finsent.core.model.Gpt2LMHeadModel;
import org.finsent.core.model.Gpt2Model;
import org.finsent.core.model.Pretrained;
import org.finsent.core.model.SequenceClassifier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tiny random FP64 BERT / GPT-2 models against PyTorch + Transformers 5.17 (golden/, eager attention, dropout 0):
 * loaded from {@code config.json} + {@code model.safetensors} through {@link Pretrained} as users do, every hidden
 * state, the logits, the loss, and the gradient of every parameter (names matched both ways).
 *
 * <p>FP64 comparisons use {@link Golden#FP64} (1e-10 of each tensor's scale); measured errors are ~1e-15 (BERT's
 * analytically zero key-bias gradient: see {@link Golden#assertGradients}).
 */
class GoldenModelTest {
    private static final List<String> CLASSIFIERS = List.of("bert_seqcls", "gpt2_seqcls_rightpad", "gpt2_seqcls_leftpad");

    @TempDir
    Path tmp;

    /** One golden classification case: the batch, the model loaded from its directory, the golden tensors. */
    record Case(String name, Path dir, Batch batch, int[] labels, StateDict io, StateDict grads) {
        static Case of(String name) {
            Path dir = Golden.dir(name);
            StateDict io = Golden.read(dir.resolve("io.safetensors"));
            int[][] ids = Golden.intRows(io.require("input_ids"));
            // BERT's token types default to zeros in Hugging Face, as here
            Batch batch = new Batch(ids, new int[ids.length][ids[0].length], Golden.intRows(io.require("attention_mask")));
            return new Case(name, dir, batch, Golden.ints(io.require("labels")), io, Golden.read(dir.resolve("grads.safetensors")));
        }

        boolean bert() {
            return name.startsWith("bert");
        }

        SequenceClassifier load(Path from, DataType type) throws IOException {
            return bert() ? Pretrained.bert(from, 3, type, 0) : Pretrained.gpt2(from, 3, type, 0);
        }

        /** Forward as Transformers does it: GPT-2 with its default positions 0..T-1 (left padding included). */
        INDArray forward(SequenceClassifier m) {
            if (m instanceof Gpt2ForSequenceClassification g) {
                return g.forward(batch, Gpt2Model.sequentialPositions(batch.batchSize(), batch.seqLen()));
            }
            return m.forward(batch);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"bert_seqcls", "gpt2_seqcls_rightpad", "gpt2_seqcls_leftpad"})
    void forwardAndBackwardMatchTransformers(String name) throws IOException {
        Case c = Case.of(name);
        // BERT three ways: every row as Transformers computes it (padding positions included); padding positions
        // skipped (RowPacking); and the classifier's default, which also computes only the [CLS] rows of the last
        // layer (BertModel.poolerRowsOnly) — the same logits, loss and gradients each time, the same computed rows
        // GPT-2 two ways: every row, and the classifier's default, whose last block computes only each example's
        // last real token (Gpt2Model.lastTokenOnly)
        if (!c.bert()) {
            matchTransformers(c, name + " (every row)", false, false);
            matchTransformers(c, name + " (last block: last token only)", false, true);
            return;
        }
        matchTransformers(c, name, false, false);
        matchTransformers(c, name + " (padding skipped)", true, false);
        matchTransformers(c, name + " (padding skipped, last layer [CLS] only)", true, true);
    }

    /** {@code poolerRowsOnly}: BERT's last layer on [CLS] rows only, GPT-2's last block on the last real tokens. */
    private static void matchTransformers(Case c, String name, boolean skipPadding, boolean poolerRowsOnly) throws IOException {
        SequenceClassifier m = c.load(c.dir, DataType.DOUBLE);
        if (m instanceof BertForSequenceClassification b) {
            assertTrue(b.bert.skipsPadding(), "the classifier skips padding by default");
            assertTrue(b.bert.poolerRowsOnly(), "the classifier's last layer computes [CLS] rows only by default");
            b.bert.skipPadding(skipPadding);
            b.bert.poolerRowsOnly(poolerRowsOnly);
        }
        java.util.Set<Long> readRows = new java.util.HashSet<>();   // the rows the head reads: the last layer computes them
        if (m instanceof Gpt2ForSequenceClassification g) {
            assertTrue(g.transformer.lastTokenOnly(), "the classifier's last block computes the last tokens only by default");
            g.transformer.lastTokenOnly(poolerRowsOnly);
            for (int r : Gpt2Model.lastTokenRows(c.batch.attentionMask())) readRows.add((long) r);
        } else {
            for (int n = 0; n < c.batch.batchSize(); n++) readRows.add((long) n * c.batch.seqLen());
        }
        m.train(true); // every dropout is 0, as in the golden run (which also ran in train mode)
        INDArray logits = c.forward(m);

        List<INDArray> hidden = m instanceof BertForSequenceClassification b ? b.bert.hiddenStates()
                : ((Gpt2ForSequenceClassification) m).transformer.hiddenStates();
        assertEquals(m.numLayers() + 1, hidden.size(), "hidden states: embeddings + one per layer");
        double worst = 0;
        int t = c.batch.seqLen(), padding = 0, notRead = 0;
        for (int i = 0; i < hidden.size(); i++) {
            TensorData golden = c.io.require("hidden_states." + i);
            boolean last = i == hidden.size() - 1;
            if ((skipPadding || poolerRowsOnly && last) && i > 0) {  // computed rows as Transformers, the others zero
                INDArray h = hidden.get(i);
                double[] g = golden.toDoubles();
                int width = (int) h.columns();
                for (int n = 0; n < c.batch.batchSize(); n++) {
                    for (int j = 0; j < t; j++) {
                        long row = (long) n * t + j;
                        boolean pad = c.batch.attentionMask()[n][j] == 0;
                        boolean skipped = !readRows.contains(row) && (skipPadding && pad || poolerRowsOnly && last);
                        if (!skipped) {
                            worst = Math.max(worst, Golden.assertClose(name + " hidden_states." + i + " row " + row,
                                    java.util.Arrays.copyOfRange(g, (int) row * width, (int) (row + 1) * width),
                                    h.getRow(row).dup().data().asDouble(), Golden.FP64));
                        } else {
                            assertEquals(0.0, h.getRow(row).norm1Number().doubleValue(), name + " skipped row " + row);
                            if (pad) padding++;
                            else notRead++;
                        }
                    }
                }
            } else {
                worst = Math.max(worst, Golden.assertClose(name + " hidden_states." + i, golden, hidden.get(i), Golden.FP64));
            }
        }
        if (poolerRowsOnly) assertTrue(notRead > 0, "the last layer must have skipped real rows");
        if (skipPadding) assertTrue(padding > 0, "the golden batch must have padding for this check to mean anything");
        assertNull(c.io.get("hidden_states." + hidden.size()), "golden has more hidden states than we produce");
        worst = Math.max(worst, Golden.assertClose(name + " logits", c.io.require("logits"), logits, Golden.FP64));

        CrossEntropyLoss.Result loss = new CrossEntropyLoss(null).compute(logits, c.labels);
        double goldenLoss = c.io.require("loss").toDoubles()[0];
        assertEquals(goldenLoss, loss.loss(), Golden.FP64 * goldenLoss, name + " loss");

        m.zeroGrad();
        m.backward(loss.dLogits());
        worst = Math.max(worst, Golden.assertGradients(name, m.parameters(), c.grads, Golden.FP64));
        System.out.printf("golden %s: forward+backward max error %.2e of scale (loss %.17g vs %.17g)%n", name, worst, loss.loss(), goldenLoss);
    }

    /**
     * FinSent's own GPT-2 positions (real tokens counted, {@code cumsum(mask) − 1}) are Hugging Face's on a
     * right-padded batch: padding rows take other positions, but nothing reads them, so logits and every gradient
     * agree.
     */
    @Test
    void gpt2DefaultPositionsAgreeWithTransformersOnRightPadding() throws IOException {
        Case c = Case.of("gpt2_seqcls_rightpad");
        SequenceClassifier m = c.load(c.dir, DataType.DOUBLE);
        ((Gpt2ForSequenceClassification) m).transformer.lastTokenOnly(false);   // every real row of the last block
        INDArray logits = m.forward(c.batch);
        Golden.assertClose("logits", c.io.require("logits"), logits, Golden.FP64);
        // the last hidden state agrees on the real tokens
        INDArray last = ((Gpt2ForSequenceClassification) m).transformer.hiddenStates().get(2);
        double[] g = c.io.require("hidden_states.2").toDoubles();
        int t = c.batch.seqLen(), width = (int) last.columns();
        for (int n = 0; n < c.batch.batchSize(); n++) {
            for (int i = 0; i < t; i++) {
                if (c.batch.attentionMask()[n][i] == 0) continue;
                int row = n * t + i;
                double[] want = java.util.Arrays.copyOfRange(g, row * width, (row + 1) * width);
                Golden.assertClose("hidden row " + row, want, last.getRow(row).dup().data().asDouble(), Golden.FP64);
            }
        }
        CrossEntropyLoss.Result loss = new CrossEntropyLoss(null).compute(logits, c.labels);
        m.zeroGrad();
        m.backward(loss.dLogits());
        Golden.assertGradients("gpt2_seqcls_rightpad (FinSent positions)", m.parameters(), c.grads, Golden.FP64);
    }

    /**
     * GPT-2 LM head (tied to wte) with the shifted next-token loss. Logits are FP64 on both sides; the golden loss and
     * gradients are FP32-precision because Transformers' {@code ForCausalLMLoss} casts the logits with
     * {@code .float()}: the loss is compared to FP32's unit round-off scale (2⁻²⁴ ≈ 6e-8, times a small factor for
     * the log-sum-exp over 1000 classes), the gradients (which start from the FP32 {@code softmax − onehot}) to 1e-6
     * ≈ 16 u of their scale (measured 5e-8).
     */
    @Test
    void gpt2LanguageModelMatchesTransformers() throws IOException {
        Path dir = Golden.dir("gpt2_lm");
        StateDict io = Golden.read(dir.resolve("io.safetensors"));
        StateDict grads = Golden.read(dir.resolve("grads.safetensors"));
        int[][] ids = Golden.intRows(io.require("input_ids"));
        Gpt2LMHeadModel m = Pretrained.gpt2LmHead(dir, DataType.DOUBLE, 0);
        INDArray logits = m.forward(Batch.of(ids));                              // [T, V]
        Golden.assertClose("gpt2_lm logits", io.require("logits"), logits, Golden.FP64);

        int t = ids[0].length;
        int[] next = java.util.Arrays.copyOfRange(ids[0], 1, t);                 // position i predicts token i+1
        INDArray shifted = logits.get(NDArrayIndex.interval(0, t - 1), NDArrayIndex.all());
        CrossEntropyLoss.Result loss = new CrossEntropyLoss(null).compute(shifted, next);
        TensorData goldenLoss = io.require("loss");
        assertEquals(org.finsent.core.io.DType.F32, goldenLoss.dtype(), "the golden LM loss is FP32 (logits.float())");
        double gl = goldenLoss.toDoubles()[0];
        assertEquals(gl, loss.loss(), 8 * 0x1p-24 * gl, "gpt2_lm loss (FP32 oracle)");

        INDArray dLogits = Nd4j.zeros(DataType.DOUBLE, logits.rows(), logits.columns());
        dLogits.get(NDArrayIndex.interval(0, t - 1), NDArrayIndex.all()).assign(loss.dLogits());
        for (var p : m.parameters()) p.zeroGrad();
        m.backward(dLogits);
        double worst = Golden.assertGradients("gpt2_lm", m.parameters(), grads, 1e-6);
        System.out.printf("golden gpt2_lm: loss %.17g vs FP32 %.9g, gradients max error %.2e of scale%n", loss.loss(), gl, worst);
    }

    /**
     * The same weights as {@code torch.save} pickles (FP64, FP32) and FP16 / BF16 safetensors, each loaded through
     * {@link Pretrained} from a directory holding only that file (under the name users have). The FP64 pickle must
     * give bit-identical logits; the others are compared with the FP64 golden logits to a bound from the weights'
     * unit round-off u (FP32 2⁻²⁴, FP16 2⁻¹¹, BF16 2⁻⁸): {@code 16·u} of the logits' scale (measured: FP32 3–4.6 u,
     * FP16/BF16 0.7–1 u). FP32 files load into an
     * FP32 model (how they are used); the half-precision ones into FP32 too, since ND4J trains in FP32.
     */
    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({
            "bert_seqcls, pytorch_model.bin", "bert_seqcls, pytorch_model_f32.bin", "bert_seqcls, model_f16.safetensors", "bert_seqcls, model_bf16.safetensors",
            "gpt2_seqcls_rightpad, pytorch_model.bin", "gpt2_seqcls_rightpad, pytorch_model_f32.bin", "gpt2_seqcls_rightpad, model_f16.safetensors", "gpt2_seqcls_rightpad, model_bf16.safetensors",
            "gpt2_seqcls_leftpad, pytorch_model.bin", "gpt2_seqcls_leftpad, pytorch_model_f32.bin", "gpt2_seqcls_leftpad, model_f16.safetensors", "gpt2_seqcls_leftpad, model_bf16.safetensors"})
    void otherWeightFilesGiveTheSameLogits(String name, String file) throws IOException {
        Case c = Case.of(name);
        Path user = Files.createDirectories(tmp.resolve(name));
        Files.copy(c.dir.resolve("config.json"), user.resolve("config.json"));
        Files.copy(c.dir.resolve(file), user.resolve(file.endsWith(".bin") ? "pytorch_model.bin" : "model.safetensors"));
        TensorData golden = c.io.require("logits");
        if (file.equals("pytorch_model.bin")) {
            INDArray a = c.forward(c.load(user, DataType.DOUBLE)), b = c.forward(c.load(c.dir, DataType.DOUBLE));
            assertArrayEquals(b.data().asDouble(), a.data().asDouble(), 0, "FP64 pickle and safetensors: the same model");
            Golden.assertClose(name + " " + file, golden, a, Golden.FP64);
            return;
        }
        double u = file.contains("f32") ? 0x1p-24 : file.contains("bf16") ? 0x1p-8 : 0x1p-11;
        double err = Golden.assertClose(name + " " + file, golden, c.forward(c.load(user, DataType.FLOAT)), 16 * u);
        System.out.printf("golden %s %s: logits error %.2e of scale = %.1f u%n", name, file, err, err / u);
    }
}
