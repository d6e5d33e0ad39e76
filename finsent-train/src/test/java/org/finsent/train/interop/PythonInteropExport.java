package org.finsent.train.interop;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.finsent.core.io.DType;
import org.finsent.core.io.SafeTensors;
import org.finsent.core.io.StateDict;
import org.finsent.core.io.TensorData;
import org.finsent.core.model.Batch;
import org.finsent.core.model.BertConfig;
import org.finsent.core.model.BertForMaskedLM;
import org.finsent.core.model.BertForSequenceClassification;
import org.finsent.core.model.Gpt2Config;
import org.finsent.core.model.Gpt2ForSequenceClassification;
import org.finsent.core.model.Gpt2LMHeadModel;
import org.finsent.core.model.ModelWeights;
import org.finsent.core.model.Pretrained;
import org.finsent.core.model.SequenceClassifier;
import org.finsent.peft.LoraConfig;
import org.finsent.peft.LoraFiles;
import org.finsent.peft.LoraLinear;
import org.finsent.peft.Peft;
import org.finsent.peft.PeftModel;
import org.finsent.peft.PrefixTuningConfig;
import org.finsent.peft.PromptLearningFiles;
import org.finsent.peft.PromptTuningConfig;
import org.finsent.train.pretrain.LanguageModel;
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
 * The reverse direction of {@code golden/}: files FinSent writes, for Python to read. Writes tiny FP64 models
 * (the base in Hugging Face layout), PEFT adapters saved by our writers, the inputs and OUR logits; the script
 * {@code tools/interop/check_java_exports.py} loads them with transformers + PEFT and compares logits. Also what
 * {@code finsent pretrain} saves ({@link LanguageModel#save}: F32 safetensors, config.json naming
 * {@code BertForMaskedLM} / {@code GPT2LMHeadModel}), full weights and LoRA merged before saving, with the logits
 * computed before the save (LoRA unmerged).
 * Run: {@code java -cp <finsent-train test classpath> org.finsent.train.interop.PythonInteropExport OUT_DIR}
 * (docs/INTEROP.md).
 */
public final class PythonInteropExport {
    static final int B = 3, T = 12, V = 1000, C = 3;

    public static void main(String[] args) throws IOException {
        Path out = Path.of(args.length > 0 ? args[0] : "target/interop");
        Files.createDirectories(out);
        full(out.resolve("bert_full"), bert(11), 0);
        full(out.resolve("gpt2_full"), gpt2(12), V - 1);
        full32(out.resolve("bert_full_f32save"), bert(13));
        lora(out.resolve("lora_bert"), bert(21), LoraConfig.bert(4, 8).withTargets("query", "key", "value").withDropout(0), 0);
        lora(out.resolve("lora_gpt2"), gpt2(22), LoraConfig.gpt2(4, 8).withDropout(0), V - 1);
        prompt(out.resolve("prefix_bert"), bert(31), new PrefixTuningConfig(5, true, 16, 3), 0);
        prompt(out.resolve("prefix_gpt2"), gpt2(32), new PrefixTuningConfig(5, true, 16, 4), V - 1);
        prompt(out.resolve("prefix_bert_noproj"), bert(33), new PrefixTuningConfig(5, false, 0, 5), 0);
        prompt(out.resolve("prompt_bert"), bert(41), PromptTuningConfig.random(5), 0);
        masked(out.resolve("mlm_bert"), 51, false);
        masked(out.resolve("mlm_bert_lora"), 52, true);
        causal(out.resolve("clm_gpt2"), 53, false);
        causal(out.resolve("clm_gpt2_lora"), 54, true);
        System.out.println("wrote " + out.toAbsolutePath());
    }

    static BertForSequenceClassification bert(long seed) {
        return new BertForSequenceClassification(new BertConfig(V, 32, 2, 4, 64, 64, 2, 1e-12, "gelu", 0, 0, C), DataType.DOUBLE, seed);
    }

    static Gpt2ForSequenceClassification gpt2(long seed) {
        return new Gpt2ForSequenceClassification(new Gpt2Config(V, 64, 32, 2, 4, 128, "gelu_new", 0, 0, 0, 1e-5, C, V - 1), DataType.DOUBLE, seed);
    }

    /** The batch hf_golden.py uses in spirit: lengths 12/8/5, right padding with {@code pad}. */
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

    /** Base weights in FP64 under Hugging Face names, plus config.json. */
    static void saveBase(SequenceClassifier m, Path dir) throws IOException {
        Files.createDirectories(dir);
        SafeTensors.write(dir.resolve("model.safetensors"), ModelWeights.stateDict(m.namedParameters(), DType.F64), Map.of("format", "pt"));
        if (m instanceof BertForSequenceClassification b) b.bert.config.write(dir.resolve("config.json"));
        else ((Gpt2ForSequenceClassification) m).transformer.config.write(dir.resolve("config.json"));
    }

    static void io(Path dir, SequenceClassifier m, Batch batch, String kind, Object extra) throws IOException {
        m.train(false);
        INDArray logits = m.forward(batch);
        StateDict sd = new StateDict();
        long[] shape = {B, T};
        sd.put(TensorData.of("input_ids", flat(batch.inputIds()), shape));
        sd.put(TensorData.of("attention_mask", flat(batch.attentionMask()), shape));
        sd.put(TensorData.of("logits", logits.dup('c').data().asDouble(), logits.shape()));
        SafeTensors.write(dir.resolve("io.safetensors"), sd, Map.of("format", "pt"));
        ObjectNode meta = new ObjectMapper().createObjectNode().put("kind", kind).put("extra", String.valueOf(extra));
        new ObjectMapper().writeValue(dir.resolve("case.json").toFile(), meta);
    }

    static long[] flat(int[][] a) {
        long[] f = new long[a.length * a[0].length];
        for (int i = 0; i < a.length; i++) for (int j = 0; j < a[0].length; j++) f[i * a[0].length + j] = a[i][j];
        return f;
    }

    static void full(Path dir, SequenceClassifier m, int pad) throws IOException {
        saveBase(m, dir);
        io(dir, m, batch(pad), "full", "");
    }

    /** What users get from Pretrained.save (F32 safetensors): Python must load it with no missing/unexpected keys. */
    static void full32(Path dir, BertForSequenceClassification m) throws IOException {
        Pretrained.save(m, dir);
        io(dir, m, batch(0), "full_f32", "");
    }

    static void lora(Path dir, SequenceClassifier base, LoraConfig cfg, int pad) throws IOException {
        saveBase(base, dir.resolve("base"));
        PeftModel pm = Peft.apply(base, cfg);
        Nd4j.getRandom().setSeed(99);
        for (LoraLinear l : pm.loraModules()) { // B starts at zero; make the adapter matter
            INDArray b = l.loraB.value();
            b.assign(Nd4j.randn(DataType.DOUBLE, b.shape()).muli(0.05));
        }
        LoraFiles.save(pm, cfg, dir.resolve("adapter"), "base");
        io(dir, pm, batch(pad), "peft", "lora");
    }

    static void prompt(Path dir, SequenceClassifier base, org.finsent.peft.PeftMethod method, int pad) throws IOException {
        saveBase(base, dir.resolve("base"));
        PeftModel pm = Peft.apply(base, method);
        PromptLearningFiles.save(pm, dir.resolve("adapter"), "base");
        io(dir, pm, batch(pad), "peft", method.getClass().getSimpleName());
    }

    static void masked(Path dir, long seed, boolean lora) throws IOException {
        BertForMaskedLM m = new BertForMaskedLM(new BertConfig(V, 32, 2, 4, 64, 64, 2, 1e-12, "gelu", 0, 0, 2), DataType.DOUBLE, seed);
        m.bert.skipPadding(false);
        languageModel(dir, new LanguageModel.Masked(m), lora ? LoraConfig.bert(4, 8).withTargets("query", "value").withDropout(0) : null,
                0, "mlm_f32", seed);
    }

    static void causal(Path dir, long seed, boolean lora) throws IOException {
        Gpt2LMHeadModel m = new Gpt2LMHeadModel(new Gpt2Config(V, 64, 32, 2, 4, 128, "gelu_new", 0, 0, 0, 1e-5, 2, V - 1), DataType.DOUBLE, seed);
        languageModel(dir, new LanguageModel.Causal(m), lora ? LoraConfig.gpt2(4, 8).withDropout(0) : null, V - 1, "clm_f32", seed);
    }

    /** Logits before saving (LoRA active, unmerged), then merge and save as {@code finsent pretrain} does. */
    static void languageModel(Path dir, LanguageModel lm, LoraConfig lora, int pad, String kind, long seed) throws IOException {
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
}
