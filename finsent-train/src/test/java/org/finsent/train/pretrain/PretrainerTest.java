package org.finsent.train.pretrain;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.finsent.core.io.SafeTensors;
import org.finsent.core.io.StateDict;
import org.finsent.core.io.TensorData;
import org.finsent.core.model.BertConfig;
import org.finsent.core.model.BertForMaskedLM;
import org.finsent.core.model.BertForSequenceClassification;
import org.finsent.core.model.Gpt2Config;
import org.finsent.core.model.Gpt2LMHeadModel;
import org.finsent.core.model.Pretrained;
import org.finsent.tokenizers.Tokenizer;
import org.finsent.tokenizers.TokenizerLoader;
import org.finsent.train.Checkpoint;
import org.finsent.train.ModelSources;
import org.finsent.train.Trainer;
import org.finsent.train.TrainingArguments;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Pretraining runs end to end on a tiny random BERT over the MiniLM vocabulary (dropout on): log, checkpoints, an
 * exact resume (weights bit-identical to the uninterrupted run), and an output directory that loads as a classifier
 * base; and a causal-LM run of a tiny GPT-2.
 */
class PretrainerTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final List<String> TEXTS = List.of(
            "Operating profit rose to EUR 13.1 mn from EUR 8.7 mn in the corresponding period in 2007.",
            "The company's net sales decreased by 5 % compared with the previous year.",
            "Finnish shipyard group reported a loss for the third quarter.",
            "Shares of the bank climbed after the quarterly results beat expectations.",
            "The board proposes a dividend of EUR 0.50 per share.",
            "Sales in the Nordic countries were unchanged.",
            "Unemployment rose sharply, hitting consumer confidence.",
            "The merger is expected to be completed in the second half of the year.");

    /** A tiny random BertForMaskedLM directory with the MiniLM tokenizer (bert-base-uncased's vocabulary). */
    static Path tinyBertDir(Path dir) throws IOException {
        var cfg = new BertConfig(30522, 16, 2, 2, 24, 64, 2, 1e-12, "gelu", 0.1, 0.1, 2);
        Pretrained.save(new BertForMaskedLM(cfg, DataType.FLOAT, 3), dir);
        try (InputStream in = PretrainerTest.class.getClassLoader().getResourceAsStream("all-minilm-l6-v2-tokenizer.json")) {
            Files.copy(in, dir.resolve("tokenizer.json"));
        }
        return dir;
    }

    static TrainingArguments args(Path out, long maxSteps, Path resume) {
        return TrainingArguments.builder(out).maxSteps(maxSteps).perDeviceTrainBatchSize(3).gradientAccumulationSteps(2)
                .learningRate(1e-3).loggingSteps(1).saveSteps(2).maxSeqLength(32).seed(7).resumeFromCheckpoint(resume).build();
    }

    @Test
    void maskedLmRunLogsCheckpointsResumesExactlyAndLoadsAsBase(@TempDir Path tmp) throws Exception {
        Path model = tinyBertDir(tmp.resolve("model"));
        Path a = tmp.resolve("a"), b = tmp.resolve("b");
        // 4 steps of 2 batches of 3 over 8 texts: epochs 0 and 1 (2 steps per epoch), so the masks change with the epoch
        var ra = Pretraining.run(model.toString(), TEXTS, args(a, 4, null), 0.15, true);
        assertEquals(4, ra.globalStep());
        List<JsonNode> logA = log(a);
        assertEquals(4, logA.size());
        for (JsonNode e : logA) assertTrue(e.has("train_loss") && e.has("lr") && e.has("grad_norm"), e.toString());
        assertTrue(Files.isDirectory(a.resolve("checkpoint-2")) && Files.isDirectory(a.resolve("checkpoint-4")));
        assertTrue(Files.readString(a.resolve("config.json")).contains("BertForMaskedLM"));
        assertTrue(Files.isRegularFile(a.resolve("tokenizer.json")));

        // interrupted after step 2: continue from its checkpoint in another directory
        Files.createDirectories(b);
        copyTree(a.resolve("checkpoint-2"), b.resolve("checkpoint-2"));
        List<String> firstTwo = Files.readAllLines(a.resolve(Trainer.LOG_FILE), StandardCharsets.UTF_8).subList(0, 2);
        Files.write(b.resolve(Trainer.LOG_FILE), firstTwo, StandardCharsets.UTF_8);
        var rb = Pretraining.run(model.toString(), TEXTS, args(b, 4, b.resolve("checkpoint-2")), 0.15, true);
        assertEquals(4, rb.globalStep());
        List<JsonNode> logB = log(b);
        assertEquals(4, logB.size());
        for (int i = 0; i < 4; i++) assertEquals(logA.get(i).get("train_loss").asDouble(), logB.get(i).get("train_loss").asDouble(), 0, "step " + (i + 1));
        StateDict wa = SafeTensors.load(a.resolve("model.safetensors")), wb = SafeTensors.load(b.resolve("model.safetensors"));
        assertEquals(wa.names(), wb.names());
        boolean changed = false;
        StateDict w0 = SafeTensors.load(model.resolve("model.safetensors"));
        for (TensorData t : wa) {
            assertArrayEquals(t.toINDArray(DataType.FLOAT).data().asFloat(), wb.get(t.name()).toINDArray(DataType.FLOAT).data().asFloat(), 0f, t.name());
            if (!java.util.Arrays.equals(t.toINDArray(DataType.FLOAT).data().asFloat(), w0.get(t.name()).toINDArray(DataType.FLOAT).data().asFloat())) changed = true;
        }
        assertTrue(changed, "training changed the weights");
        assertEquals(a.resolve("checkpoint-4").getFileName(), Checkpoint.latest(b).getFileName());

        // the output is a base for `train`: the encoder loads, the MLM head is unused, the classifier is new
        ModelSources.Source src = ModelSources.directory(a.toString(), a, 3, 1);
        var cls = (BertForSequenceClassification) src.model();
        float[] emb = cls.bert.word.weight.value().data().asFloat();
        assertArrayEquals(wa.get("bert.embeddings.word_embeddings.weight").toINDArray(DataType.FLOAT).data().asFloat(), emb, 0f);
    }

    @Test
    void loraTrainsOnlyTheFactorsAndSavesAPlainMergedModel(@TempDir Path tmp) throws Exception {
        Path model = tinyBertDir(tmp.resolve("model"));
        Path out = tmp.resolve("lora");
        var lora = new org.finsent.peft.LoraConfig(4, 8, 0.0, org.finsent.peft.LoraConfig.Bias.NONE, List.of("query", "value"), null, false, 1);
        var args = TrainingArguments.builder(out).maxSteps(3).perDeviceTrainBatchSize(4).learningRate(1e-2).loggingSteps(1)
                .saveSteps(3).maxSeqLength(32).seed(2).build();
        Pretraining.run(model.toString(), TEXTS, args, 0.3, false, lora);
        StateDict before = SafeTensors.load(model.resolve("model.safetensors")), after = SafeTensors.load(out.resolve("model.safetensors"));
        assertEquals(before.names(), after.names(), "a plain BertForMaskedLM: no lora_ tensors, nothing missing");
        for (String n : before.names()) {
            boolean same = java.util.Arrays.equals(before.get(n).toINDArray(DataType.FLOAT).data().asFloat(), after.get(n).toINDArray(DataType.FLOAT).data().asFloat());
            boolean merged = n.matches(".*attention\\.self\\.(query|value)\\.weight");
            assertEquals(!merged, same, n + (merged ? " should hold the merged LoRA update" : " is frozen and should be unchanged"));
        }
        // the checkpoint holds the factors only
        StateDict ck = SafeTensors.load(out.resolve("checkpoint-3").resolve(Checkpoint.WEIGHTS));
        assertTrue(ck.names().stream().allMatch(n -> n.contains(".lora_A.") || n.contains(".lora_B.")), ck.names().toString());
        assertEquals(2 * 2 * 2, ck.size(), "A and B of query and value in 2 layers");
    }

    @Test
    void causalLmRunOfATinyGpt2(@TempDir Path tmp) throws Exception {
        Tokenizer tok;
        try (InputStream in = PretrainerTest.class.getClassLoader().getResourceAsStream("all-minilm-l6-v2-tokenizer.json")) {
            tok = TokenizerLoader.fromTokenizerJson(in, Path.of("tokenizer.json"));
        }
        var cfg = new Gpt2Config(30522, 64, 16, 2, 2, 32, "gelu_new", 0.1, 0.1, 0.1, 1e-5, 2, 0);
        var lm = new LanguageModel.Causal(new Gpt2LMHeadModel(cfg, DataType.FLOAT, 5));
        var args = TrainingArguments.builder(tmp).maxSteps(6).perDeviceTrainBatchSize(4).learningRate(3e-3).loggingSteps(1)
                .maxSeqLength(32).seed(1).build();
        var r = new Pretrainer(lm, tok, args, null).train(new ArrayList<>(TEXTS));
        assertEquals(6, r.globalStep());
        List<JsonNode> log = log(tmp);
        double first = log.get(0).get("train_loss").asDouble(), last = log.get(5).get("train_loss").asDouble();
        assertTrue(Math.abs(first - Math.log(30522)) < 1, "a random model starts near ln V: " + first);
        assertTrue(last < first, "the loss falls on text seen again: " + first + " → " + last);
        lm.save(tmp.resolve("out"));
        assertTrue(Files.readString(tmp.resolve("out/config.json")).contains("GPT2LMHeadModel"));
    }

    @Test
    void gpt2SpecPretrainsToAGpt2LmHeadDirectoryThatLoadsAsAClassifierBase(@TempDir Path tmp) throws Exception {
        String env = System.getenv("FINSENT_SHARED");
        Path shared = env != null && !env.isBlank() ? Path.of(env)
                : Path.of(System.getProperty("finsent.repo.root", System.getProperty("user.dir"))).toAbsolutePath().normalize().resolveSibling("shared");
        Path vocab = shared.resolve("models/gpt2");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isRegularFile(vocab.resolve("vocab.json")),
                "GPT-2 tokenizer files not found in " + vocab + " (set FINSENT_SHARED)");
        Path out = tmp.resolve("gpt2");
        var args = TrainingArguments.builder(out).maxSteps(2).perDeviceTrainBatchSize(4).learningRate(1e-3).loggingSteps(1)
                .maxSeqLength(32).seed(3).build();
        var r = Pretraining.run(ModelSources.RANDOM_GPT2 + ":" + vocab, TEXTS, args, 0.15, false);
        assertEquals(2, r.globalStep());
        assertTrue(Files.readString(out.resolve("config.json")).contains("\"GPT2LMHeadModel\""));
        assertTrue(Files.isRegularFile(out.resolve("vocab.json")) && Files.isRegularFile(out.resolve("merges.txt")));
        StateDict w = SafeTensors.load(out.resolve("model.safetensors"));
        assertTrue(w.contains("transformer.wte.weight") && !w.contains("lm_head.weight") && !w.contains("score.weight"), w.names().toString());
        ModelSources.Source src = ModelSources.directory(out.toString(), out, 3, 1);
        var cls = (org.finsent.core.model.Gpt2ForSequenceClassification) src.model();
        assertArrayEquals(w.get("transformer.wte.weight").toINDArray(DataType.FLOAT).data().asFloat(),
                cls.transformer.wte.weight.value().data().asFloat(), 0f);
    }

    /**
     * A step's temporaries (activations, ~300 rows of 30,522 logits and their gradients: ~100 MB a step here) live in
     * the reused step workspace ({@link org.finsent.train.StepMemory}), so the resident size does not grow with the
     * steps. Without it ND4J frees them only when the garbage collector happens to run: about 2 GB more after these
     * 20 steps, and BERT-Base pretraining was killed by the OOM killer at 24 GB within a minute.
     */
    @Test
    void residentMemoryDoesNotGrowWithTheSteps(@TempDir Path tmp) throws Exception {
        Path model = tinyBertDir(tmp.resolve("model"));
        LanguageModel.Loaded l = LanguageModel.load(model.toString(), 7);
        MlmMasking masking = MlmMasking.forTokenizer(l.tokenizer(), 0.3, false);
        String longText = String.join(" ", TEXTS);  // > 64 tokens: every batch is 16 × 64
        List<String> texts = java.util.Collections.nCopies(16 * 20, longText);
        TrainingArguments args = TrainingArguments.builder(tmp.resolve("out")).maxSteps(20).perDeviceTrainBatchSize(16)
                .learningRate(1e-3).loggingSteps(100).saveSteps(0).maxSeqLength(64).seed(7).build();
        System.gc();
        long before = org.bytedeco.javacpp.Pointer.physicalBytes();
        new Pretrainer(l.model(), l.tokenizer(), args, masking).train(texts);
        long grown = org.bytedeco.javacpp.Pointer.physicalBytes() - before;
        assertTrue(grown < 600L << 20, "resident size grew by " + (grown >> 20) + " MB over 20 steps");
    }

    static List<JsonNode> log(Path dir) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String l : Files.readAllLines(dir.resolve(Trainer.LOG_FILE), StandardCharsets.UTF_8)) if (!l.isBlank()) out.add(JSON.readTree(l));
        return out;
    }

    static void copyTree(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (var s = Files.list(from)) {
            for (Path p : s.toList()) Files.copy(p, to.resolve(p.getFileName()), StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
