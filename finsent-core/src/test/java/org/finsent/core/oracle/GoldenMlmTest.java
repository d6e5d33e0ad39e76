package org.finsent.core.oracle;

import org.finsent.core.io.StateDict;
import org.finsent.core.io.TensorData;
import org.finsent.core.model.Batch;
import org.finsent.core.model.BertForMaskedLM;
import org.finsent.core.model.LanguageModelLoss;
import org.finsent.core.model.Pretrained;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@link BertForMaskedLM} against Transformers' {@code BertForMaskedLM} on a tiny random FP64 model
 * ({@code golden/bert_mlm}, written by {@code golden/hf_golden_mlm.py}): logits at every position, the loss over the
 * labelled positions, and every parameter's gradient, the tied word embedding included. Skips, naming the missing
 * file, until that script's output has been committed.
 */
class GoldenMlmTest {

    @Test
    void bertForMaskedLMMatchesTransformers() throws IOException {
        Path dir = Golden.root().resolve("bert_mlm");
        for (String f : List.of("config.json", "model.safetensors", "io.safetensors", "grads.safetensors")) {
            assumeTrue(Files.isRegularFile(dir.resolve(f)), "golden/bert_mlm/" + f + " is missing: run golden/hf_golden_mlm.py "
                    + "on a machine with torch and transformers and commit golden/bert_mlm/");
        }
        StateDict io = Golden.read(dir.resolve("io.safetensors"));
        StateDict grads = Golden.read(dir.resolve("grads.safetensors"));
        int[][] ids = Golden.intRows(io.require("input_ids"));
        Batch batch = new Batch(ids, Golden.intRows(io.require("token_type_ids")), Golden.intRows(io.require("attention_mask")));
        int[][] labels = Golden.intRows(io.require("labels"));

        BertForMaskedLM m = Pretrained.bertForMaskedLM(dir, DataType.DOUBLE, 0);
        m.bert.skipPadding(false);                         // Transformers' logits at padding positions too
        INDArray logits = m.forward(batch);                // [B·T, V]
        Golden.assertClose("bert_mlm logits", io.require("logits"), logits, Golden.FP64);

        TensorData goldenLoss = io.require("loss");
        m.zeroGrad();
        LanguageModelLoss.Result r = m.loss(batch, labels, true, 1);
        double gl = goldenLoss.toDoubles()[0];
        assertEquals(gl, r.loss(), Golden.FP64 * Math.abs(gl), "bert_mlm loss");
        double worst = Golden.assertGradients("bert_mlm", m.parameters(), grads, Golden.FP64);

        // the same with padding skipped, as training runs: labelled positions are real tokens, so nothing changes
        m.bert.skipPadding(true);
        m.zeroGrad();
        assertEquals(gl, m.loss(batch, labels, true, 1).loss(), Golden.FP64 * Math.abs(gl), "bert_mlm loss, padding skipped");
        Golden.assertGradients("bert_mlm (padding skipped)", m.parameters(), grads, Golden.FP64);
        System.out.printf("golden bert_mlm: loss %.17g vs %.17g, gradients max error %.2e of scale%n", r.loss(), gl, worst);
    }
}
