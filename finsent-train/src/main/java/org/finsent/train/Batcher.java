package org.finsent.train;

import org.finsent.core.data.Example;
import org.finsent.core.model.Batch;
import org.finsent.tokenizers.Encoding;
import org.finsent.tokenizers.Tokenizer;
import org.finsent.tokenizers.TokenizerOptions;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Random;

/**
 * Turns examples into model {@link Batch}es: tokenize once, pad per batch.
 *
 * <p><b>Why no padding at tokenization.</b> Padding every text to {@code maxSeqLength} makes every step pay for
 * the longest possible sentence; attention is quadratic in the padded length and every other layer linear. Texts
 * are therefore tokenized once, truncated but unpadded, and each batch is padded only to its own longest text
 * (dynamic padding, Hugging Face's {@code DataCollatorWithPadding}). Padding uses the tokenizer's pad id and side:
 * GPT-2 has no pad token, so the caller sets {@code withPadId(<|endoftext|> id)} (usually with left padding).
 *
 * <p><b>Why group by length.</b> With random batches a 60-token sentence still pads seven 20-token neighbours.
 * Hugging Face's {@code LengthGroupedSampler} idea keeps most of the randomness and removes most of the padding:
 * shuffle all indices, cut them into mega-batches of {@code k·batchSize}, sort each mega-batch by length
 * (longest first), cut it into batches. {@code k} is Hugging Face's {@code min(n / (4·batchSize), 50)} (at least
 * 1), so a small data set still has several mega-batches and batches keep varying between epochs. The batch
 * order is then shuffled too, so the loss curve does not see long-to-short sweeps inside each mega-batch.
 *
 * <p>Everything random comes from one {@link Random} seeded by {@code (seed, epoch)}: the same arguments give the
 * same batches on every machine, which is what lets a checkpoint store only {@code (seed, epoch, batch index)}
 * as its "RNG state". Instances are immutable and thread-safe.
 */
public final class Batcher {
    private final Tokenizer tokenizer;

    /** Examples after tokenization (unpadded encodings), in input order; {@code labels} is null for unlabeled text. */
    public record Tokenized(List<Encoding> encodings, int[] labels) {
        public Tokenized {
            encodings = List.copyOf(encodings);
            if (labels != null && labels.length != encodings.size()) throw new IllegalArgumentException("labels and encodings differ in size");
        }

        public int size() {
            return encodings.size();
        }

        /** Number of tokens of example {@code i} (special tokens included). */
        public int length(int i) {
            return encodings.get(i).length();
        }

        /** Total number of (real) tokens. */
        public long tokens() {
            long n = 0;
            for (Encoding e : encodings) n += e.length();
            return n;
        }
    }

    /**
     * One padded batch with its labels and the indices of its examples in the {@link Tokenized} input.
     *
     * @param realTokens the unpadded tokens in the batch ({@code Σ mask})
     */
    public record LabeledBatch(Batch batch, int[] labels, int[] indices, long realTokens) {
        public int size() {
            return indices.length;
        }

        /** {@code B·T}: the tokens the model computes on, padding included. */
        public long paddedTokens() {
            return (long) batch.batchSize() * batch.seqLen();
        }
    }

    /**
     * @param tokenizer    any tokenizer; its special-token, truncation-side, pad-id and padding-side options are
     *                     kept, its padding option is ignored (padding is done per batch here)
     * @param maxSeqLength truncation length in tokens, special tokens included
     * @throws IllegalArgumentException when the tokenizer has no pad id (GPT-2 without {@code withPadId})
     */
    public Batcher(Tokenizer tokenizer, int maxSeqLength) {
        if (maxSeqLength < 1) throw new IllegalArgumentException("maxSeqLength must be >= 1: " + maxSeqLength);
        TokenizerOptions o = tokenizer.options();
        TokenizerOptions.Truncation strategy = o.truncation() == TokenizerOptions.Truncation.NONE
                ? TokenizerOptions.Truncation.LONGEST_FIRST : o.truncation();
        this.tokenizer = tokenizer.withOptions(o.withTruncation(maxSeqLength, strategy).withPadding(TokenizerOptions.Padding.NONE));
        if (this.tokenizer.padId() < 0) {
            throw new IllegalArgumentException("the tokenizer has no pad token (GPT-2 has none): set one with "
                    + "tokenizer.withOptions(tokenizer.options().withPadId(eosId)), usually <|endoftext|> = 50256");
        }
    }

    /** The truncating, non-padding tokenizer this batcher encodes with. */
    public Tokenizer tokenizer() {
        return tokenizer;
    }

    /** Tokenizes labelled examples (truncated, unpadded). */
    public Tokenized tokenize(List<Example> examples) {
        List<String> texts = new ArrayList<>(examples.size());
        int[] labels = new int[examples.size()];
        for (int i = 0; i < examples.size(); i++) {
            texts.add(examples.get(i).text());
            labels[i] = examples.get(i).label();
        }
        return new Tokenized(tokenizer.encodeBatch(texts), labels);
    }

    /** Tokenizes texts without labels (for prediction). */
    public Tokenized tokenizeTexts(List<String> texts) {
        return new Tokenized(tokenizer.encodeBatch(texts), null);
    }

    /**
     * The training batches of one epoch, deterministic in {@code (seed, epoch)}: shuffled, and with
     * {@code groupByLength} length-grouped as described in the class comment. The last batch may be smaller.
     */
    public List<LabeledBatch> trainBatches(Tokenized data, int batchSize, boolean groupByLength, long seed, int epoch) {
        checkBatchSize(batchSize);
        Random rng = new Random(epochSeed(seed, epoch));
        int n = data.size();
        List<Integer> order = new ArrayList<>(n);
        for (int i = 0; i < n; i++) order.add(i);
        Collections.shuffle(order, rng);
        List<List<Integer>> batches = new ArrayList<>();
        if (!groupByLength) {
            for (int from = 0; from < n; from += batchSize) batches.add(order.subList(from, Math.min(n, from + batchSize)));
            return materialize(data, batches);
        }
        int megaBatch = Math.max(1, Math.min(n / (4 * batchSize), 50)) * batchSize;
        Comparator<Integer> longestFirst = Comparator.comparingInt((Integer i) -> data.length(i)).reversed();
        for (int from = 0; from < n; from += megaBatch) {
            List<Integer> mega = new ArrayList<>(order.subList(from, Math.min(n, from + megaBatch)));
            mega.sort(longestFirst); // stable: equal lengths keep their shuffled order
            for (int b = 0; b < mega.size(); b += batchSize) batches.add(mega.subList(b, Math.min(mega.size(), b + batchSize)));
        }
        Collections.shuffle(batches, rng);
        return materialize(data, batches);
    }

    /** Batches in a fixed order for evaluation or prediction: longest first (least padding), no randomness. */
    public List<LabeledBatch> evalBatches(Tokenized data, int batchSize) {
        checkBatchSize(batchSize);
        List<Integer> order = new ArrayList<>(data.size());
        for (int i = 0; i < data.size(); i++) order.add(i);
        order.sort(Comparator.comparingInt((Integer i) -> data.length(i)).reversed());
        List<List<Integer>> batches = new ArrayList<>();
        for (int from = 0; from < order.size(); from += batchSize) batches.add(order.subList(from, Math.min(order.size(), from + batchSize)));
        return materialize(data, batches);
    }

    /** Real tokens / computed tokens over the batches: 1.0 means no padding at all. */
    public static double paddingEfficiency(List<LabeledBatch> batches) {
        long real = 0, padded = 0;
        for (LabeledBatch b : batches) {
            real += b.realTokens();
            padded += b.paddedTokens();
        }
        return padded == 0 ? 1.0 : (double) real / padded;
    }

    /** The {@link Random} seed of an epoch: a fixed mix of the two, so epochs get unrelated permutations. */
    static long epochSeed(long seed, int epoch) {
        return seed * 0x9E3779B97F4A7C15L + epoch * 0xBF58476D1CE4E5B9L + 1;
    }

    private List<LabeledBatch> materialize(Tokenized data, List<List<Integer>> batches) {
        List<LabeledBatch> out = new ArrayList<>(batches.size());
        for (List<Integer> idx : batches) out.add(pad(data, idx));
        return out;
    }

    /** Dynamic padding: every example of the batch padded to the batch's longest, with the tokenizer's id and side. */
    private LabeledBatch pad(Tokenized data, List<Integer> idx) {
        int b = idx.size(), longest = 0;
        long real = 0;
        for (int i : idx) {
            longest = Math.max(longest, data.length(i));
            real += data.length(i);
        }
        int[][] ids = new int[b][], types = new int[b][], mask = new int[b][];
        int[] labels = data.labels() == null ? null : new int[b];
        int[] indices = new int[b];
        for (int r = 0; r < b; r++) {
            int i = idx.get(r);
            Encoding e = tokenizer.pad(data.encodings().get(i), longest);
            ids[r] = e.ids();
            types[r] = e.typeIds();
            mask[r] = e.attentionMask();
            indices[r] = i;
            if (labels != null) labels[r] = data.labels()[i];
        }
        return new LabeledBatch(new Batch(ids, types, mask), labels, indices, real);
    }

    private static void checkBatchSize(int batchSize) {
        if (batchSize < 1) throw new IllegalArgumentException("batch size must be >= 1: " + batchSize);
    }
}
