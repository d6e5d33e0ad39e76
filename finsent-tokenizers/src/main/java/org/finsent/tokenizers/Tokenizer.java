package org.finsent.tokenizers;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A tokenizer with Hugging Face semantics: the one API for GPT-2 byte-level BPE ({@link
 * org.finsent.tokenizers.bpe.ByteLevelBpeTokenizer}) and BERT WordPiece ({@link
 * org.finsent.tokenizers.wordpiece.WordPieceTokenizer}).
 *
 * <p>One text goes through: (1) special ("added") tokens such as {@code <|endoftext|>} or {@code [SEP]} are
 * matched whole in the raw text, leftmost-longest; (2) every stretch between them goes through the model's own
 * normalisation, pre-tokenisation and subword model ({@link #tokenizeSegment}); (3) truncation to
 * {@code maxLength} minus the special tokens still to be added; (4) the template adds special tokens and type ids;
 * (5) padding. This is the order of Hugging Face {@code tokenizers}' {@code encode}.
 *
 * <p>Instances are immutable and thread-safe; {@link #withOptions} derives a tokenizer that shares the vocabulary.
 * Load one with {@link #load(Path)}, which picks the kind from the files in a directory.
 */
public abstract class Tokenizer {

    /**
     * Special tokens the post-processor adds: a single text becomes {@code start A mid}, a pair becomes
     * {@code start A mid B end}; {@code B} and {@code end} get type id 1. BERT: {@code [CLS]}, {@code [SEP]},
     * {@code [SEP]}; GPT-2: none.
     */
    public record Template(int[] start, int[] mid, int[] end) {
        public static final Template NONE = new Template(new int[0], new int[0], new int[0]);

        public int count(boolean pair) {
            return start.length + mid.length + (pair ? end.length : 0);
        }
    }

    private final Map<String, Integer> specialTokens; // content -> id, matched whole in the input
    private final String[] specialsByLength;          // longest first, for leftmost-longest matching
    private final boolean[] specialFirstChar = new boolean[128];
    private final boolean specialNonAsciiStart;
    private final boolean[] isSpecialId;
    protected final TokenizerOptions options;

    protected Tokenizer(Map<String, Integer> specialTokens, int vocabSize, TokenizerOptions options) {
        this.specialTokens = Map.copyOf(specialTokens);
        this.options = options;
        this.specialsByLength = specialTokens.keySet().stream()
                .sorted((a, b) -> b.length() != a.length() ? b.length() - a.length() : a.compareTo(b))
                .toArray(String[]::new);
        boolean nonAscii = false;
        int maxId = vocabSize - 1;
        for (var e : specialTokens.entrySet()) {
            if (e.getKey().isEmpty()) throw new IllegalArgumentException("empty special token");
            char c = e.getKey().charAt(0);
            if (c < 128) specialFirstChar[c] = true; else nonAscii = true;
            maxId = Math.max(maxId, e.getValue());
        }
        this.specialNonAsciiStart = nonAscii;
        this.isSpecialId = new boolean[maxId + 1];
        for (int id : specialTokens.values()) isSpecialId[id] = true;
    }

    // ---------------------------------------------------------------- what each model provides

    /**
     * Tokenizes {@code text[start, end)}, a stretch with no special token in it, appending ids and UTF-16
     * offsets into {@code text} to {@code out}.
     */
    protected abstract void tokenizeSegment(String text, int start, int end, TokenBuffer out);

    /** The special tokens the post-processor adds. */
    public abstract Template template();

    /** A copy of this tokenizer with other options (sharing the vocabulary and caches). */
    public abstract Tokenizer withOptions(TokenizerOptions options);

    /** Vocabulary string of {@code id}. */
    public abstract String idToToken(int id);

    /** Id of a vocabulary string, or -1. */
    public abstract int tokenToId(String token);

    /** Size of the vocabulary, special tokens included. */
    public abstract int vocabSize();

    /** The id padding uses when {@link TokenizerOptions#padId()} is -1, or -1 if the model has none. */
    protected abstract int defaultPadId();

    /** Turns ids back into text, as Hugging Face's {@code decode}. */
    public abstract String decode(int[] ids, boolean skipSpecialTokens);

    // ---------------------------------------------------------------- the shared pipeline

    public TokenizerOptions options() {
        return options;
    }

    /** Decode keeping special tokens. */
    public String decode(int[] ids) {
        return decode(ids, false);
    }

    /** The special ("added") tokens matched whole in the input, content to id. */
    public Map<String, Integer> specialTokens() {
        return specialTokens;
    }

    public boolean isSpecialId(int id) {
        return id >= 0 && id < isSpecialId.length && isSpecialId[id];
    }

    /** The pad id in effect: the option's, else the model's; -1 when there is none. */
    public int padId() {
        return options.padId() >= 0 ? options.padId() : defaultPadId();
    }

    /** Ids only, no special tokens added, no truncation or padding. */
    public int[] encodeIds(String text) {
        TokenBuffer buf = new TokenBuffer(Math.max(16, text.length() / 3));
        tokenizeWithSpecials(text, buf);
        return Arrays.copyOf(buf.ids, buf.size);
    }

    /** Encodes one text. A single text is padded only with {@link TokenizerOptions.Padding#MAX_LENGTH}. */
    public Encoding encode(String text) {
        return encode(text, null);
    }

    /** Encodes a text pair ({@code pair} may be null for a single text). */
    public Encoding encode(String text, String pair) {
        Encoding e = encodeUnpadded(text, pair);
        return options.padding() == TokenizerOptions.Padding.MAX_LENGTH ? pad(e, options.maxLength()) : e;
    }

    /** Encodes texts; with {@link TokenizerOptions.Padding#LONGEST} all are padded to the longest. */
    public List<Encoding> encodeBatch(List<String> texts) {
        return encodeBatch(texts, null);
    }

    /** Encodes text pairs; {@code pairs} may be null, else it must have the same size as {@code texts}. */
    public List<Encoding> encodeBatch(List<String> texts, List<String> pairs) {
        if (pairs != null && pairs.size() != texts.size()) {
            throw new IllegalArgumentException("texts and pairs differ in size: " + texts.size() + " vs " + pairs.size());
        }
        List<Encoding> out = new ArrayList<>(texts.size());
        int longest = 0;
        for (int i = 0; i < texts.size(); i++) {
            Encoding e = encodeUnpadded(texts.get(i), pairs == null ? null : pairs.get(i));
            longest = Math.max(longest, e.length());
            out.add(e);
        }
        int target = switch (options.padding()) {
            case NONE -> -1;
            case LONGEST -> longest;
            case MAX_LENGTH -> options.maxLength();
        };
        if (target >= 0) out.replaceAll(e -> pad(e, target));
        return out;
    }

    private Encoding encodeUnpadded(String text, String pair) {
        if (text == null) throw new IllegalArgumentException("text must not be null");
        TokenBuffer a = new TokenBuffer(Math.max(16, text.length() / 3));
        tokenizeWithSpecials(text, a);
        TokenBuffer b = null;
        if (pair != null) {
            b = new TokenBuffer(Math.max(16, pair.length() / 3));
            tokenizeWithSpecials(pair, b);
        }
        Template t = options.addSpecialTokens() ? template() : Template.NONE;
        if (options.truncation() != TokenizerOptions.Truncation.NONE) {
            truncate(a, b, options.maxLength() - t.count(b != null));
        }
        return assemble(a, b, t);
    }

    /** Splits out special tokens (leftmost, longest first) and hands the stretches between to the model. */
    private void tokenizeWithSpecials(String text, int from, TokenBuffer out) {
        int segStart = from;
        int n = text.length();
        for (int i = from; i < n; i++) {
            char c = text.charAt(i);
            if (c < 128 ? !specialFirstChar[c] : !specialNonAsciiStart) continue;
            for (String s : specialsByLength) {
                if (text.startsWith(s, i)) {
                    if (segStart < i) tokenizeSegment(text, segStart, i, out);
                    out.add(specialTokens.get(s), i, i + s.length());
                    segStart = i + s.length();
                    i = segStart - 1;
                    break;
                }
            }
        }
        if (segStart < n) tokenizeSegment(text, segStart, n, out);
    }

    private void tokenizeWithSpecials(String text, TokenBuffer out) {
        if (specialsByLength.length == 0) {
            if (!text.isEmpty()) tokenizeSegment(text, 0, text.length(), out);
        } else {
            tokenizeWithSpecials(text, 0, out);
        }
    }

    /** Hugging Face's truncation ({@code utils/truncation.rs}): {@code max} is the budget for text tokens. */
    private void truncate(TokenBuffer a, TokenBuffer b, int max) {
        if (max < 0) max = 0;
        boolean left = options.truncationSide() == TokenizerOptions.Side.LEFT;
        int total = a.size + (b == null ? 0 : b.size);
        if (total <= max) return;
        switch (options.truncation()) {
            case LONGEST_FIRST -> {
                if (b == null) {
                    a.truncate(max, left);
                    return;
                }
                int n1 = a.size, n2 = b.size;
                boolean swap = n1 > n2;
                if (swap) { int t = n1; n1 = n2; n2 = t; }
                n2 = n1 > max ? n1 : Math.max(n1, max - n1);
                if (n1 + n2 > max) {
                    n1 = max / 2;
                    n2 = n1 + max % 2;
                }
                if (swap) { int t = n1; n1 = n2; n2 = t; }
                a.truncate(n1, left);
                b.truncate(n2, left);
            }
            case ONLY_FIRST, ONLY_SECOND -> {
                TokenBuffer target = options.truncation() == TokenizerOptions.Truncation.ONLY_FIRST || b == null ? a : b;
                int other = total - target.size;
                if (max - other <= 0) { // as Hugging Face: cutting the sequence away entirely is an error
                    throw new IllegalArgumentException("truncation " + options.truncation() + " cannot fit "
                            + total + " tokens into maxLength " + options.maxLength() + ": the other sequence alone is "
                            + other + " tokens");
                }
                target.truncate(max - other, left);
            }
            case NONE -> { }
        }
    }

    private Encoding assemble(TokenBuffer a, TokenBuffer b, Template t) {
        int n = t.count(b != null) + a.size + (b == null ? 0 : b.size);
        int[] ids = new int[n], types = new int[n], starts = new int[n], ends = new int[n];
        int[] mask = new int[n], special = new int[n], seq = new int[n];
        Arrays.fill(mask, 1);
        int p = 0;
        for (int id : t.start()) { ids[p] = id; special[p] = 1; seq[p++] = -1; }
        p = copy(a, 0, ids, types, starts, ends, seq, p);
        for (int id : t.mid()) { ids[p] = id; special[p] = 1; seq[p++] = -1; }
        if (b != null) {
            p = copy(b, 1, ids, types, starts, ends, seq, p);
            for (int id : t.end()) { ids[p] = id; types[p] = 1; special[p] = 1; seq[p++] = -1; }
        }
        String[] tokens = new String[n];
        for (int i = 0; i < n; i++) tokens[i] = idToToken(ids[i]);
        return new Encoding(ids, types, tokens, starts, ends, mask, special, seq);
    }

    private static int copy(TokenBuffer src, int type, int[] ids, int[] types, int[] starts, int[] ends, int[] seq, int p) {
        System.arraycopy(src.ids, 0, ids, p, src.size);
        System.arraycopy(src.starts, 0, starts, p, src.size);
        System.arraycopy(src.ends, 0, ends, p, src.size);
        Arrays.fill(types, p, p + src.size, type);
        Arrays.fill(seq, p, p + src.size, type);
        return p + src.size;
    }

    /** Pads {@code e} to {@code length} tokens on the configured side (no-op if already that long). */
    public Encoding pad(Encoding e, int length) {
        int n = e.length();
        if (n >= length) return e;
        int padId = padId();
        if (padId < 0) {
            throw new IllegalStateException("padding needs a pad id: this tokenizer has no pad token "
                    + "(GPT-2 has none); set one with options().withPadId(...), usually the <|endoftext|> id");
        }
        int k = length - n;
        int off = options.paddingSide() == TokenizerOptions.Side.LEFT ? k : 0;
        int padAt = off == 0 ? n : 0;
        int[] ids = new int[length], types = new int[length], starts = new int[length], ends = new int[length];
        int[] mask = new int[length], special = new int[length], seq = new int[length];
        String[] tokens = new String[length];
        System.arraycopy(e.ids(), 0, ids, off, n);
        System.arraycopy(e.typeIds(), 0, types, off, n);
        System.arraycopy(e.tokens(), 0, tokens, off, n);
        System.arraycopy(e.startOffsets(), 0, starts, off, n);
        System.arraycopy(e.endOffsets(), 0, ends, off, n);
        System.arraycopy(e.attentionMask(), 0, mask, off, n);
        System.arraycopy(e.specialTokensMask(), 0, special, off, n);
        System.arraycopy(e.sequenceIds(), 0, seq, off, n);
        String padToken = idToToken(padId);
        Arrays.fill(ids, padAt, padAt + k, padId);
        Arrays.fill(types, padAt, padAt + k, options.padTypeId());
        Arrays.fill(tokens, padAt, padAt + k, padToken);
        Arrays.fill(special, padAt, padAt + k, 1);
        Arrays.fill(seq, padAt, padAt + k, -1);
        return new Encoding(ids, types, tokens, starts, ends, mask, special, seq);
    }

    /** Sorted copy of a special-token map, for stable toString/debug output. */
    protected static Map<String, Integer> sorted(Map<String, Integer> m) {
        return new TreeMap<>(m);
    }

    /**
     * Loads the tokenizer in {@code dir}, picking the kind by the files present: {@code tokenizer.json} (either
     * kind), else {@code vocab.json} + {@code merges.txt} (GPT-2 BPE), else {@code vocab.txt} (+ optional
     * {@code tokenizer_config.json}; BERT WordPiece).
     */
    public static Tokenizer load(Path dir) throws IOException {
        return TokenizerLoader.load(dir);
    }
}
