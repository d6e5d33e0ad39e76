package org.finsent.core.model;

import org.finsent.core.io.DType;
import org.finsent.core.io.SafeTensors;
import org.finsent.core.io.StateDict;
import org.finsent.core.io.TorchCheckpoint;
import org.finsent.core.nn.Parameter;
import org.nd4j.linalg.api.buffer.DataType;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Hugging Face model directories as users have them: {@code config.json} plus {@code model.safetensors},
 * a sharded {@code model.safetensors.index.json}, or {@code pytorch_model.bin} (also sharded). Saving writes
 * {@code config.json} + {@code model.safetensors} (F32, metadata {@code format=pt}) that Python's
 * {@code from_pretrained} opens. Loading is as lenient as {@code from_pretrained}: weights the checkpoint lacks (a
 * new head, the pooler of a bare encoder) keep their initialisation with one warning naming them, tensors the
 * model has no place for are listed; a weight of the wrong shape is an error.
 */
public final class Pretrained {
    private Pretrained() {
    }

    /** The weights of a model directory, preferring safetensors like Hugging Face does. */
    public static StateDict readWeights(Path dir) throws IOException {
        for (String f : new String[]{SafeTensors.SINGLE_FILE, SafeTensors.INDEX_FILE}) {
            if (Files.isRegularFile(dir.resolve(f))) return SafeTensors.load(dir.resolve(f));
        }
        for (String f : new String[]{TorchCheckpoint.SINGLE_FILE, TorchCheckpoint.INDEX_FILE}) {
            if (Files.isRegularFile(dir.resolve(f))) return TorchCheckpoint.load(dir.resolve(f));
        }
        throw new NoSuchFileException(dir + ": no model.safetensors, model.safetensors.index.json, pytorch_model.bin "
                + "or pytorch_model.bin.index.json");
    }

    /** A BERT classifier from a directory ({@code bert-base-uncased}, {@code ProsusAI/finbert}, ...). */
    public static BertForSequenceClassification bert(Path dir, int numLabels, DataType type, long seed) throws IOException {
        BertConfig cfg = BertConfig.read(dir.resolve("config.json")).withNumLabels(numLabels);
        var model = new BertForSequenceClassification(cfg, type, seed);
        ModelWeights.load(model.namedParameters(), readWeights(dir), dir.toString())
                .log("BertForSequenceClassification", dir.toString(), List.of());
        return model;
    }

    /** A GPT-2 classifier from a directory ({@code openai-community/gpt2}, ...). */
    public static Gpt2ForSequenceClassification gpt2(Path dir, int numLabels, DataType type, long seed) throws IOException {
        Gpt2Config c = Gpt2Config.read(dir.resolve("config.json"));
        Gpt2Config cfg = new Gpt2Config(c.vocabSize(), c.nPositions(), c.nEmbd(), c.nLayer(), c.nHead(), c.nInner(),
                c.activationFunction(), c.residPdrop(), c.embdPdrop(), c.attnPdrop(), c.layerNormEpsilon(), numLabels, c.padTokenId());
        var model = new Gpt2ForSequenceClassification(cfg, type, seed);
        ModelWeights.load(model.namedParameters(), readWeights(dir), dir.toString())
                .log("GPT2ForSequenceClassification", dir.toString(), List.of());
        return model;
    }

    /**
     * A GPT-2 language model from a directory: {@code lm_head.weight}, when present, is {@code wte} itself (tied), as
     * in Hugging Face's files (the hub's {@code gpt2} safetensors has no prefix and no {@code lm_head}).
     */
    public static Gpt2LMHeadModel gpt2LmHead(Path dir, DataType type, long seed) throws IOException {
        var model = new Gpt2LMHeadModel(Gpt2Config.read(dir.resolve("config.json")), type, seed);
        Map<String, Parameter> named = new java.util.LinkedHashMap<>();
        for (Parameter p : model.parameters()) named.put(p.name(), p);
        ModelWeights.load(named, readWeights(dir), dir.toString()).log("GPT2LMHeadModel", dir.toString(), List.of());
        return model;
    }

    /** Writes {@code model.safetensors} (F32) with the parameters under their Hugging Face names. */
    public static void saveWeights(Map<String, Parameter> params, Path dir) throws IOException {
        Files.createDirectories(dir);
        SafeTensors.write(dir.resolve(SafeTensors.SINGLE_FILE), ModelWeights.stateDict(params, DType.F32), Map.of("format", "pt"));
    }

    public static void save(BertForSequenceClassification m, Path dir) throws IOException {
        saveWeights(m.namedParameters(), dir);
        m.bert.config.write(dir.resolve("config.json"));
    }

    public static void save(Gpt2ForSequenceClassification m, Path dir) throws IOException {
        saveWeights(m.namedParameters(), dir);
        m.transformer.config.write(dir.resolve("config.json"));
    }
}
