package org.finsent.tokenizers.wordpiece;

import org.finsent.tokenizers.CharClass;
import org.finsent.tokenizers.TokenBuffer;
import org.finsent.tokenizers.Tokenizer;
import org.finsent.tokenizers.TokenizerOptions;

import java.util.HashMap;
import java.util.Map;

/**
 * BERT's WordPiece tokenizer, stage by stage as Hugging Face's {@code tokenizers} runs it:
 * <ol>
 *   <li>special tokens ({@code [CLS] [SEP] [PAD] [MASK] [UNK]}) matched whole in the raw text, never split;</li>
 *   <li>{@link BertNormalizer};</li>
 *   <li>pre-tokenisation: split on whitespace (dropped) and around every punctuation character
 *       ({@link CharClass#isBertPunctuation});</li>
 *   <li>WordPiece: greedy longest-match-first from the left, continuation pieces prefixed {@code ##}; a word longer
 *       than {@code maxInputCharsPerWord} code points, or with any position no piece matches, becomes one
 *       {@code [UNK]};</li>
 *   <li>template {@code [CLS] A [SEP]} / {@code [CLS] A [SEP] B [SEP]} with type ids 0 and 1.</li>
 * </ol>
 * Thread-safe.
 */
public final class WordPieceTokenizer extends Tokenizer {

    /** Model settings, with Hugging Face's defaults in {@link #bert}. */
    public record Config(BertNormalizer normalizer, String unkToken, String continuingSubwordPrefix,
                         int maxInputCharsPerWord, String clsToken, String sepToken, String padToken,
                         boolean decoderCleanup) {
        /** bert-base-uncased ({@code lowercase=true}) or bert-base-cased ({@code false}) settings. */
        public static Config bert(boolean lowercase) {
            return new Config(new BertNormalizer(true, true, lowercase, lowercase), "[UNK]", "##", 100,
                    "[CLS]", "[SEP]", "[PAD]", true);
        }
    }

    private final Map<String, Integer> vocab;
    private final String[] idToToken;
    private final Config config;
    private final int unkId, clsId, sepId, padId;
    private final int maxTokenChars;
    private final Template template;

    /**
     * @param vocab         token to id (line numbers of {@code vocab.txt})
     * @param specialTokens added tokens matched whole in the input, token to id
     */
    public WordPieceTokenizer(Map<String, Integer> vocab, Map<String, Integer> specialTokens, Config config,
                              TokenizerOptions options) {
        super(specialTokens, maxId(vocab) + 1, options);
        this.vocab = vocab;
        this.config = config;
        int size = Math.max(maxId(vocab), maxId(specialTokens)) + 1;
        idToToken = new String[size];
        for (var e : vocab.entrySet()) idToToken[e.getValue()] = e.getKey();
        for (var e : specialTokens.entrySet()) if (idToToken[e.getValue()] == null) idToToken[e.getValue()] = e.getKey();
        unkId = requireId(config.unkToken(), "unk_token");
        clsId = lookup(config.clsToken());
        sepId = lookup(config.sepToken());
        padId = lookup(config.padToken());
        int max = 0;
        for (String t : vocab.keySet()) max = Math.max(max, t.length());
        maxTokenChars = max;
        template = clsId >= 0 && sepId >= 0
                ? new Template(new int[]{clsId}, new int[]{sepId}, new int[]{sepId}) : Template.NONE;
    }

    /** The usual BERT setup: specials {@code [PAD] [UNK] [CLS] [SEP] [MASK]} (those in the vocabulary). */
    public static WordPieceTokenizer of(Map<String, Integer> vocab, boolean lowercase) {
        Map<String, Integer> specials = new HashMap<>();
        for (String s : new String[]{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}) {
            if (vocab.containsKey(s)) specials.put(s, vocab.get(s));
        }
        return new WordPieceTokenizer(vocab, specials, Config.bert(lowercase), TokenizerOptions.DEFAULTS);
    }

    private static int maxId(Map<String, Integer> m) {
        int max = -1;
        for (int v : m.values()) max = Math.max(max, v);
        return max;
    }

    private int lookup(String token) {
        if (token == null) return -1;
        Integer id = vocab.get(token);
        if (id == null) id = specialTokens().get(token);
        return id == null ? -1 : id;
    }

    private int requireId(String token, String what) {
        int id = lookup(token);
        if (id < 0) throw new IllegalArgumentException(what + " '" + token + "' is not in the vocabulary");
        return id;
    }

    public Config config() {
        return config;
    }

    @Override
    public WordPieceTokenizer withOptions(TokenizerOptions options) {
        return new WordPieceTokenizer(vocab, specialTokens(), config, options);
    }

    @Override
    protected void tokenizeSegment(String text, int start, int end, TokenBuffer out) {
        BertNormalizer.Normalized norm = config.normalizer().normalize(text, start, end);
        String s = norm.text();
        int n = s.length();
        int wordStart = -1;
        for (int i = 0; i < n; ) {
            int cp = s.codePointAt(i);
            int next = i + Character.charCount(cp);
            if (CharClass.isWhiteSpace(cp)) {
                if (wordStart >= 0) wordPiece(s, wordStart, i, norm, out);
                wordStart = -1;
            } else if (CharClass.isBertPunctuation(cp)) {
                if (wordStart >= 0) wordPiece(s, wordStart, i, norm, out);
                wordStart = -1;
                wordPiece(s, i, next, norm, out);
            } else if (wordStart < 0) {
                wordStart = i;
            }
            i = next;
        }
        if (wordStart >= 0) wordPiece(s, wordStart, n, norm, out);
    }

    /** Greedy longest-match-first WordPiece of the word {@code s[ws, we)}. */
    private void wordPiece(String s, int ws, int we, BertNormalizer.Normalized norm, TokenBuffer out) {
        int[] os = norm.origStart(), oe = norm.origEnd();
        if (s.codePointCount(ws, we) > config.maxInputCharsPerWord()) {
            out.add(unkId, os[ws], oe[we - 1]);
            return;
        }
        int mark = out.size();
        String prefix = config.continuingSubwordPrefix();
        for (int start = ws; start < we; ) {
            int limit = Math.min(we, start + maxTokenChars);
            if (limit < we && Character.isLowSurrogate(s.charAt(limit)) && Character.isHighSurrogate(s.charAt(limit - 1))) {
                limit--;
            }
            int found = -1, end = limit;
            while (end > start) {
                String sub = s.substring(start, end);
                Integer id = vocab.get(start > ws ? prefix + sub : sub);
                if (id != null) {
                    found = id;
                    break;
                }
                end -= (end - 2 >= start && Character.isLowSurrogate(s.charAt(end - 1))
                        && Character.isHighSurrogate(s.charAt(end - 2))) ? 2 : 1;
            }
            if (found < 0) {
                out.shrinkTo(mark); // pieces of an unknown word are discarded
                out.add(unkId, os[ws], oe[we - 1]);
                return;
            }
            out.add(found, os[start], oe[end - 1]);
            start = end;
        }
    }

    @Override
    public Template template() {
        return template;
    }

    @Override
    public String idToToken(int id) {
        String t = id >= 0 && id < idToToken.length ? idToToken[id] : null;
        if (t == null) throw new IllegalArgumentException("id " + id + " is not in the vocabulary (size " + vocabSize() + ")");
        return t;
    }

    @Override
    public int tokenToId(String token) {
        return lookup(token);
    }

    @Override
    public int vocabSize() {
        return idToToken.length;
    }

    @Override
    protected int defaultPadId() {
        return padId;
    }

    /** Hugging Face's WordPiece decoder: glue {@code ##} pieces, spaces elsewhere, then (per token) the cleanup rules. */
    @Override
    public String decode(int[] ids, boolean skipSpecialTokens) {
        StringBuilder b = new StringBuilder(ids.length * 6);
        String prefix = config.continuingSubwordPrefix();
        int k = 0;
        for (int id : ids) {
            if (skipSpecialTokens && isSpecialId(id)) continue;
            String t = idToToken(id);
            if (k++ != 0) t = t.startsWith(prefix) ? t.substring(prefix.length()) : " " + t;
            b.append(config.decoderCleanup() ? cleanup(t) : t);
        }
        return b.toString();
    }

    static String cleanup(String t) {
        return t.replace(" .", ".").replace(" ?", "?").replace(" !", "!").replace(" ,", ",").replace(" ' ", "'")
                .replace(" n't", "n't").replace(" 'm", "'m").replace(" do not", " don't").replace(" 's", "'s")
                .replace(" 've", "'ve").replace(" 're", "'re");
    }
}
