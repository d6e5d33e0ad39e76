package org.finsent.train.pretrain;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.finsent.core.io.SafeTensors;
import org.finsent.core.io.StateDict;
import org.finsent.core.io.TensorData;
import org.finsent.core.model.Batch;
import org.finsent.core.model.BertConfig;
import org.finsent.core.model.BertForMaskedLM;
import org.finsent.core.model.Gpt2Config;
import org.finsent.core.model.Gpt2LMHeadModel;
import org.finsent.peft.LoraConfig;
import org.finsent.peft.LoraLinear;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * What {@code finsent pretrain} saves, for {@code tools/interop/check_java_exports.py}: tiny FP64 language models
 * (BERT masked LM, GPT-2 causal LM), with full weights and with LoRA merged before saving, written by
 * {@link LanguageModel#save} as the pretraining run writes its output directory (F32 safetensors + config.json),
 * with the inputs and FinSent's logits computed before saving (LoRA unmerged). Python loads each directory with
 * {@code BertForMaskedLM} / {@code GPT2LMHeadModel.from_pretrained} and compares logits at the real tokens.
 * docs/INTEROP.md has the command and the result.
 */
public final class PretrainInteropExport {
    static final int B = 3, T = 12, V = 1000;

    public static void main(String[] args) throws IOException {
        Path out = Path.of(args.length > 0 ? args[0] : "target/interop");
        Files.createDirectories(out);
        masked(out.resolve("mlm_bert"), 51, false);
        masked(out.resolve("mlm_bert_lora"), 52, true);
        causal(out.resolve("clm_gpt2"), 53, false);
        causal(out.resolve("clm_gpt2_lora"), 54, true);
        System.out.println("wrote " + out.toAbsolutePath());
    }

    static void masked(Path dir, long seed, boolean lora) throws IOException {
        BertForMaskedLM m = new BertForMaskedLM(new BertConfig(V, 32, 2, 4, 64, 64, 2, 1e-12, "gelu", 0, 0, 2), DataType.DOUBLE, seed);
        m.bert.skipPadding(false);
        write(dir, new LanguageModel.Masked(m), lora ? LoraConfig.bert(4, 8).withTargets("query", "value").withDropout(0) : null,
                0, "mlm_f32", seed);
    }

    static void causal(Path dir, long seed, boolean lora) throws IOException {
        Gpt2LMHeadModel m = new Gpt2LMHeadModel(new Gpt2Config(V, 64, 32, 2, 4, 128, "gelu_new", 0, 0, 0, 1e-5, 2, V - 1), DataType.DOUBLE, seed);
        write(dir, new LanguageModel.Causal(m), lora ? LoraConfig.gpt2(4, 8).withDropout(0) : null, V - 1, "clm_f32", seed);
    }

    /** Logits before saving (LoRA active, unmerged), then merge and save as {@code finsent pretrain} does. */
    static void write(Path dir, LanguageModel lm, LoraConfig lora, int pad, String kind, long seed) throws IOException {
        List<LoraLinear> loras = lora == null ? List.of() : LanguageModel.applyLora(lm, lora);
        Random r = new Random(seed);
        for (LoraLinear l : loras) {   // B is zero at initialisation: give the adapters an effect to merge
            INDArray b = l.loraB.value();
            double[] v = new double[(int) b.length()];
            for (int i = 0; i < v.length; i++) v[i] = 0.5 * r.nextGaussian();
            b.assign(Nd4j.create(v, b.shape(), DataType.DOUBLE));
        }
        lm.train(false);
        Batch batch = batch(pad);
        INDArray logits = lm instanceof LanguageModel.Masked mk ? mk.model().forward(batch) : ((LanguageModel.Causal) lm).model().forward(batch);
        for (LoraLinear l : loras) l.merge();
        Files.createDirectories(dir);
        lm.save(dir);
        StateDict sd = new StateDict();
        long[] shape = {B, T};
        sd.put(TensorData.of("input_ids", flat(batch.inputIds()), shape));
        sd.put(TensorData.of("attention_mask", flat(batch.attentionMask()), shape));
        sd.put(TensorData.of("logits", logits.dup('c').data().asDouble(), B, T, V));
        SafeTensors.write(dir.resolve("io.safetensors"), sd, Map.of("format", "pt"));
        new ObjectMapper().writeValue(dir.resolve("case.json").toFile(),
                Map.of("kind", kind, "extra", lora == null ? "full weights" : "LoRA " + lora.targetModules() + " merged before saving"));
    }

    /** Lengths 12/8/5, right padding with {@code pad}. */
    static Batch batch(int pad) {
        Random r = new Random(7);
        int[] lengths = {T, T - 4, T - 7};
        int[][] ids = new int[B][T], mask = new int[B][T], types = new int[B][T];
        for (int b = 0; b < B; b++) {
            for (int t = 0; t < T; t++) {
                boolean real = t < lengths[b];
                ids[b][t] = real ? r.nextInt(V - 1) : pad;
                mask[b][t] = real ? 1 : 0;
            }
        }
        return new Batch(ids, types, mask);
    }

    static long[] flat(int[][] a) {
        long[] f = new long[a.length * a[0].length];
        for (int i = 0; i < a.length; i++) for (int j = 0; j < a[0].length; j++) f[i * a[0].length + j] = a[i][j];
        return f;
    }
}
