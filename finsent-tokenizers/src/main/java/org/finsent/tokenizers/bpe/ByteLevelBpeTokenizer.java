package org.finsent.tokenizers.bpe;

import org.finsent.tokenizers.TokenBuffer;
import org.finsent.tokenizers.Tokenizer;
import org.finsent.tokenizers.TokenizerOptions;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * GPT-2's byte-level BPE tokenizer: {@code <|endoftext|>} (and any other added token) matched whole in the text,
 * GPT-2 pre-tokenisation ({@link Gpt2PreTokenizer}), each piece's UTF-8 bytes mapped through {@link ByteLevel},
 * then {@link BpeModel} merges. Adds no special tokens (GPT-2 has no BOS/EOS template) and has no pad token, so
 * padding needs {@link TokenizerOptions#withPadId}. Decoding joins all tokens' bytes before UTF-8 decoding, so
 * characters split across tokens come back whole; {@code decode(encodeIds(s)).equals(s)} for every well-formed
 * string. Lone surrogates (not valid Unicode) are encoded as U+FFFD.
 *
 * <p>Thread-safe. Pieces already seen are cached (up to {@value #CACHE_LIMIT} distinct pieces).
 */
public final class ByteLevelBpeTokenizer extends Tokenizer {
    static final int CACHE_LIMIT = 200_000;

    private final BpeModel model;
    private final boolean addPrefixSpace;
    private final Map<String, int[]> cache;
    private final int cacheLimit;

    public ByteLevelBpeTokenizer(BpeModel model, Map<String, Integer> specialTokens, boolean addPrefixSpace,
                                 TokenizerOptions options) {
        this(model, specialTokens, addPrefixSpace, options, new ConcurrentHashMap<>(), CACHE_LIMIT);
    }

    private ByteLevelBpeTokenizer(BpeModel model, Map<String, Integer> specialTokens, boolean addPrefixSpace,
                                  TokenizerOptions options, Map<String, int[]> cache, int cacheLimit) {
        super(specialTokens, model.size(), options);
        this.model = model;
        this.addPrefixSpace = addPrefixSpace;
        this.cache = cache;
        this.cacheLimit = cacheLimit;
    }

    /** A copy that never caches pieces (every piece is merged afresh): for measuring the merge loop itself. */
    public ByteLevelBpeTokenizer withoutCache() {
        return new ByteLevelBpeTokenizer(model, specialTokens(), addPrefixSpace, options, new ConcurrentHashMap<>(), 0);
    }

    /**
     * Builds a tokenizer from a vocabulary and merge rules (rank order), with {@code <|endoftext|>} as special
     * token when the vocabulary has it.
     */
    public static ByteLevelBpeTokenizer of(Map<String, Integer> vocab, String[][] merges) {
        Map<String, Integer> specials = vocab.containsKey(ENDOFTEXT) ? Map.of(ENDOFTEXT, vocab.get(ENDOFTEXT)) : Map.of();
        return new ByteLevelBpeTokenizer(new BpeModel(vocab, merges, specials), specials, false, TokenizerOptions.DEFAULTS);
    }

    /** GPT-2's end-of-text token. */
    public static final String ENDOFTEXT = "<|endoftext|>";

    @Override
    public ByteLevelBpeTokenizer withOptions(TokenizerOptions options) {
        return new ByteLevelBpeTokenizer(model, specialTokens(), addPrefixSpace, options, cache, cacheLimit);
    }

    public boolean addPrefixSpace() {
        return addPrefixSpace;
    }

    @Override
    protected void tokenizeSegment(String text, int start, int end, TokenBuffer out) {
        if (addPrefixSpace && text.charAt(start) != ' ') {
            // Hugging Face prepends a space to each stretch; it belongs to the first character's span.
            String t = " " + text.substring(start, end);
            TokenBuffer tmp = new TokenBuffer();
            tokenizeSegment(t, 0, t.length(), tmp);
            for (int k = 0; k < tmp.size(); k++) {
                out.add(tmp.id(k), start + Math.max(0, tmp.start(k) - 1), start + Math.max(1, tmp.end(k) - 1));
            }
            return;
        }
        for (int i = start; i < end; ) {
            int j = Gpt2PreTokenizer.nextEnd(text, i, end);
            emitPiece(text, i, j, out);
            i = j;
        }
    }

    private void emitPiece(String text, int i, int j, TokenBuffer out) {
        String piece = text.substring(i, j);
        int[] ids = cache.get(piece);
        if (ids == null) {
            byte[] bytes = utf8(text, i, j);
            ids = model.encodeWord(bytes, bytes.length);
            if (cache.size() < cacheLimit) cache.put(piece, ids);
        }
        boolean ascii = true;
        for (int k = i; k < j && ascii; k++) ascii = text.charAt(k) < 0x80;
        if (ascii) {
            int pos = i;
            for (int id : ids) {
                int len = model.tokenBytes(id);
                out.add(id, pos, pos + len);
                pos += len;
            }
            return;
        }
        // A token may cover part of a multi-byte character: it gets the whole character's span.
        int[] charStart = new int[(j - i) * 3 + 1], charEnd = new int[charStart.length];
        int nb = 0;
        for (int k = i; k < j; ) {
            int cp = text.codePointAt(k);
            int cc = Character.isSupplementaryCodePoint(cp) && k + 1 < j ? 2 : 1;
            int bytes = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
            for (int b = 0; b < bytes; b++) {
                charStart[nb] = k;
                charEnd[nb++] = k + cc;
            }
            k += cc;
        }
        int pos = 0;
        for (int id : ids) {
            int len = model.tokenBytes(id);
            out.add(id, charStart[pos], charEnd[pos + len - 1]);
            pos += len;
        }
    }

    /** UTF-8 bytes of {@code text[i, j)}, with lone surrogates as U+FFFD. */
    static byte[] utf8(String text, int i, int j) {
        byte[] b = new byte[(j - i) * 3];
        int n = 0;
        for (int k = i; k < j; k++) {
            int c = text.charAt(k);
            if (c < 0x80) {
                b[n++] = (byte) c;
                continue;
            }
            if (Character.isHighSurrogate((char) c) && k + 1 < j && Character.isLowSurrogate(text.charAt(k + 1))) {
                c = Character.toCodePoint((char) c, text.charAt(++k));
            } else if (Character.isSurrogate((char) c)) {
                c = 0xFFFD;
            }
            if (c < 0x800) {
                b[n++] = (byte) (0xC0 | (c >> 6));
            } else if (c < 0x10000) {
                b[n++] = (byte) (0xE0 | (c >> 12));
                b[n++] = (byte) (0x80 | ((c >> 6) & 0x3F));
            } else {
                b[n++] = (byte) (0xF0 | (c >> 18));
                b[n++] = (byte) (0x80 | ((c >> 12) & 0x3F));
                b[n++] = (byte) (0x80 | ((c >> 6) & 0x3F));
            }
            b[n++] = (byte) (0x80 | (c & 0x3F));
        }
        return n == b.length ? b : java.util.Arrays.copyOf(b, n);
    }

    @Override
    public Template template() {
        return Template.NONE;
    }

    @Override
    public String idToToken(int id) {
        String t = model.token(id);
        if (t == null) throw new IllegalArgumentException("id " + id + " is not in the vocabulary (size " + vocabSize() + ")");
        return t;
    }

    @Override
    public int tokenToId(String token) {
        Integer id = model.vocab().get(token);
        if (id == null) id = specialTokens().get(token);
        return id == null ? -1 : id;
    }

    @Override
    public int vocabSize() {
        return model.size();
    }

    @Override
    protected int defaultPadId() {
        return -1;
    }

    @Override
    public String decode(int[] ids, boolean skipSpecialTokens) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(ids.length * 4);
        for (int id : ids) {
            if (skipSpecialTokens && isSpecialId(id)) continue;
            ByteLevel.decodeInto(idToToken(id), bytes);
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }
}
