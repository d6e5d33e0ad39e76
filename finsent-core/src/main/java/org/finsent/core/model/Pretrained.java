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

    /**
     * A {@code BertForMaskedLM} from a directory (safetensors or {@code pytorch_model.bin}, {@code cls.predictions.*}
     * under Hugging Face's names; the aliases {@code cls.predictions.decoder.weight}, the word embedding itself, and
     * {@code cls.predictions.decoder.bias}, {@code cls.predictions.bias} itself, are accepted). A checkpoint without the
     * head (a bare {@code BertModel}, a classifier) initialises it with Transformers' warning; the decoder stays tied.
     * A pooler the checkpoint has is carried along frozen (see {@link BertForMaskedLM#BertForMaskedLM(BertConfig,
     * DataType, long, boolean)}).
     */
    public static BertForMaskedLM bertForMaskedLM(Path dir, DataType type, long seed) throws IOException {
        BertConfig cfg = BertConfig.read(dir.resolve("config.json"));
        return bertForMaskedLM(cfg, readWeights(dir), dir.toString(), type, seed);
    }

    /** A {@code BertForMaskedLM} from Hugging Face-named weights (e.g. a TF bundle mapped with its MLM head). */
    public static BertForMaskedLM bertForMaskedLM(BertConfig cfg, StateDict weights, String source, DataType type, long seed)
            throws IOException {
        StateDict w = StateDict.of(weights.tensors());
        var decoderBias = w.remove("cls.predictions.decoder.bias");
        if (decoderBias != null && !w.contains(BertForMaskedLM.BIAS)) w.put(decoderBias.withName(BertForMaskedLM.BIAS));
        w.remove("cls.predictions.decoder.weight");  // tied: the word embedding is the decoder
        boolean pooler = w.contains("bert.pooler.dense.weight") || w.contains("pooler.dense.weight");
        var model = new BertForMaskedLM(cfg, type, seed, pooler);
        ModelWeights.LoadReport r = ModelWeights.load(model.namedParameters(), w, source);
        if (r.loaded().isEmpty()) {
            throw new IOException(source + ": the checkpoint has none of BertForMaskedLM's weights; its tensors are named like "
                    + w.names().stream().limit(3).toList() + " (another architecture?)");
        }
        r.log("BertForMaskedLM", source, List.of());
        return model;
    }

    /**
     * A {@code BertForMaskedLM} from a TensorFlow BERT checkpoint ({@code variables} prefix of a SavedModel or
     * {@code bert_model.ckpt}): the encoder, the pooler (carried frozen) and the {@code cls/predictions/*} head
     * ({@link org.finsent.core.io.BertTfNames#toHuggingFace(StateDict, boolean)}).
     */
    public static BertForMaskedLM bertForMaskedLMFromTf(Path variablesPrefix, BertConfig cfg, DataType type, long seed) throws IOException {
        var mapped = org.finsent.core.io.BertTfNames.toHuggingFace(org.finsent.core.io.TfTensorBundle.open(variablesPrefix).toStateDict(), true);
        return bertForMaskedLM(cfg, mapped.weights(), variablesPrefix.toString(), type, seed);
    }

    /**
     * Writes a directory Transformers opens as {@code BertForMaskedLM}: {@code config.json} (architectures
     * {@code ["BertForMaskedLM"]}) and {@code model.safetensors} with {@code bert.*} (a carried pooler included),
     * {@code cls.predictions.transform.*} and {@code cls.predictions.bias}. The tied aliases
     * {@code cls.predictions.decoder.weight} and {@code .decoder.bias} are left out, as Transformers' own
     * {@code save_pretrained} leaves out tied duplicates: they are in the class's {@code _tied_weights_keys}, so
     * loading ties them to the word embedding and to {@code cls.predictions.bias} without a missing-key warning.
     */
    public static void save(BertForMaskedLM m, Path dir) throws IOException {
        saveWeights(m.namedParameters(), dir);
        m.bert.config.write(dir.resolve("config.json"), "BertForMaskedLM");
    }

    /**
     * Writes a directory Transformers opens as {@code GPT2LMHeadModel}: {@code transformer.*} weights, without
     * {@code lm_head.weight}, which is tied to {@code transformer.wte.weight} (Transformers' own files omit it too).
     */
    public static void save(Gpt2LMHeadModel m, Path dir) throws IOException {
        saveWeights(m.namedParameters(), dir);
        m.transformer.config.write(dir.resolve("config.json"), "GPT2LMHeadModel");
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
