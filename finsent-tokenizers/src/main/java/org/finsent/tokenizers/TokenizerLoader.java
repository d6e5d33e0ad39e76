package org.finsent.tokenizers;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.finsent.tokenizers.bpe.BpeModel;
import org.finsent.tokenizers.bpe.ByteLevelBpeTokenizer;
import org.finsent.tokenizers.wordpiece.BertNormalizer;
import org.finsent.tokenizers.wordpiece.WordPieceTokenizer;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the tokenizer files users have: Hugging Face {@code tokenizer.json}, GPT-2's {@code vocab.json} +
 * {@code merges.txt}, BERT's {@code vocab.txt} (+ {@code tokenizer_config.json}). Every problem becomes a
 * {@link TokenizerLoadException} naming the file (and the line for text files).
 */
public final class TokenizerLoader {
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Largest truncation or padding length a tokenizer file may ask for. Arrays of that length are allocated per
     * encoding, so a file must not be able to ask for billions; the longest-context models stay below it.
     */
    public static final int MAX_LENGTH = TokenizerOptions.MAX_LENGTH;

    private TokenizerLoader() {
    }

    /** Picks the kind from the files in {@code dir}; see {@link Tokenizer#load(Path)}. */
    public static Tokenizer load(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            if (Files.isRegularFile(dir) && dir.getFileName().toString().endsWith(".json")) return fromTokenizerJson(dir);
            throw new TokenizerLoadException(dir + ": not a directory with tokenizer files");
        }
        Path tj = dir.resolve("tokenizer.json");
        if (Files.isRegularFile(tj)) return fromTokenizerJson(tj);
        Path vj = dir.resolve("vocab.json"), mt = dir.resolve("merges.txt");
        if (Files.isRegularFile(vj) && Files.isRegularFile(mt)) return gpt2(vj, mt);
        Path vt = dir.resolve("vocab.txt");
        if (Files.isRegularFile(vt)) {
            Path cfg = dir.resolve("tokenizer_config.json");
            return bert(vt, Files.isRegularFile(cfg) ? cfg : null);
        }
        throw new TokenizerLoadException(dir + ": no tokenizer files found (looked for tokenizer.json, "
                + "vocab.json + merges.txt, vocab.txt)");
    }

    // ------------------------------------------------------------------------------------------ GPT-2

    /** GPT-2 byte-level BPE from {@code vocab.json} and {@code merges.txt}. */
    public static ByteLevelBpeTokenizer gpt2(Path vocabJson, Path mergesTxt) throws IOException {
        Map<String, Integer> vocab = readVocabJson(vocabJson, readJson(vocabJson));
        String[][] merges = readMergesTxt(mergesTxt);
        try {
            return ByteLevelBpeTokenizer.of(vocab, merges);
        } catch (IllegalArgumentException e) {
            throw new TokenizerLoadException(vocabJson + " / " + mergesTxt + ": " + e.getMessage(), e);
        }
    }

    static Map<String, Integer> readVocabJson(Path file, JsonNode node) throws TokenizerLoadException {
        return readVocabJson(file, node, 0);
    }

    /**
     * Token to id; every id must lie in [0, vocabulary size), the size counting {@code extra} added tokens that may
     * lie outside the vocabulary. Tables are indexed by id, so an id far beyond the vocabulary would allocate for it.
     */
    static Map<String, Integer> readVocabJson(Path file, JsonNode node, int extra) throws TokenizerLoadException {
        if (node == null || !node.isObject()) throw TokenizerLoadException.in(file, "vocabulary must be a JSON object of token -> id");
        long bound = (long) node.size() + extra;
        Map<String, Integer> vocab = new HashMap<>(node.size() * 2);
        Map<Integer, String> seen = new HashMap<>(node.size() * 2);
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            var e = it.next();
            JsonNode v = e.getValue();
            if (!v.canConvertToInt() || !v.isIntegralNumber() || v.intValue() < 0) {
                throw TokenizerLoadException.in(file, "token '" + abbreviate(e.getKey()) + "' has id " + abbreviate(v.toString())
                        + ", expected a non-negative integer");
            }
            if (v.intValue() >= bound) {
                throw TokenizerLoadException.in(file, "token '" + abbreviate(e.getKey()) + "' has id " + v.intValue()
                        + ", outside the vocabulary of " + bound + " tokens (ids are 0 to " + (bound - 1) + ")");
            }
            String prev = seen.put(v.intValue(), e.getKey());
            if (prev != null) {
                throw TokenizerLoadException.in(file, "id " + v.intValue() + " is used by both '" + abbreviate(prev)
                        + "' and '" + abbreviate(e.getKey()) + "'");
            }
            vocab.put(e.getKey(), v.intValue());
        }
        if (vocab.isEmpty()) throw TokenizerLoadException.in(file, "vocabulary is empty");
        return vocab;
    }

    static String[][] readMergesTxt(Path file) throws IOException {
        List<String[]> merges = new ArrayList<>(50_000);
        try (BufferedReader r = utf8Reader(file)) {
            String line;
            int no = 0;
            while ((line = r.readLine()) != null) {
                no++;
                if (no == 1 && line.startsWith("#version")) continue;
                if (line.isEmpty() && peekEof(r)) break; // a final newline
                String[] parts = line.split(" ", -1);
                if (parts.length != 2 || parts[0].isEmpty() || parts[1].isEmpty()) {
                    throw TokenizerLoadException.at(file, no, "expected a merge rule 'left right' (two tokens separated by one space), got '"
                            + abbreviate(line) + "'");
                }
                merges.add(parts);
            }
        } catch (CharacterCodingException e) {
            throw TokenizerLoadException.in(file, "not valid UTF-8");
        }
        if (merges.isEmpty()) throw TokenizerLoadException.in(file, "no merge rules");
        return merges.toArray(new String[0][]);
    }

    private static boolean peekEof(BufferedReader r) throws IOException {
        // room for two chars: after a line ending in CR, read() first skips the LF that may follow it
        r.mark(8);
        int c = r.read();
        r.reset();
        return c < 0;
    }

    // ------------------------------------------------------------------------------------------ BERT

    /** BERT WordPiece from {@code vocab.txt} and an optional {@code tokenizer_config.json}. */
    public static WordPieceTokenizer bert(Path vocabTxt, Path tokenizerConfig) throws IOException {
        boolean lower = true;
        Boolean strip = null;
        boolean chinese = true;
        String unk = "[UNK]", cls = "[CLS]", sep = "[SEP]", pad = "[PAD]", mask = "[MASK]";
        if (tokenizerConfig != null) {
            JsonNode c = readJson(tokenizerConfig);
            if (!c.isObject()) throw TokenizerLoadException.in(tokenizerConfig, "expected a JSON object");
            lower = bool(c, "do_lower_case", true, tokenizerConfig);
            if (c.hasNonNull("strip_accents")) strip = bool(c, "strip_accents", lower, tokenizerConfig);
            chinese = bool(c, "tokenize_chinese_chars", true, tokenizerConfig);
            unk = tokenName(c, "unk_token", unk);
            cls = tokenName(c, "cls_token", cls);
            sep = tokenName(c, "sep_token", sep);
            pad = tokenName(c, "pad_token", pad);
            mask = tokenName(c, "mask_token", mask);
        }
        return bert(readVocabTxt(vocabTxt), vocabTxt, lower, strip == null ? lower : strip, chinese, unk, cls, sep, pad, mask);
    }

    /** BERT WordPiece from {@code vocab.txt} with explicit casing (accents stripped exactly when lower-casing). */
    public static WordPieceTokenizer bert(Path vocabTxt, boolean lowercase) throws IOException {
        return bert(readVocabTxt(vocabTxt), vocabTxt, lowercase, lowercase, true, "[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]");
    }

    private static WordPieceTokenizer bert(Map<String, Integer> vocab, Path file, boolean lower, boolean strip,
                                           boolean chinese, String unk, String cls, String sep, String pad, String mask)
            throws TokenizerLoadException {
        Map<String, Integer> specials = new LinkedHashMap<>();
        for (String s : new String[]{pad, unk, cls, sep, mask}) if (vocab.containsKey(s)) specials.put(s, vocab.get(s));
        if (!vocab.containsKey(unk)) throw TokenizerLoadException.in(file, "the unknown token '" + unk + "' is not in the vocabulary");
        var config = new WordPieceTokenizer.Config(new BertNormalizer(true, chinese, strip, lower), unk, "##", 100,
                cls, sep, pad, true);
        return new WordPieceTokenizer(vocab, specials, config, TokenizerOptions.DEFAULTS);
    }

    /** Reads {@code vocab.txt}: one token per line, id = line number - 1. */
    public static Map<String, Integer> readVocabTxt(Path file) throws IOException {
        try (InputStream in = open(file)) {
            return readVocabTxt(in, file.toString());
        }
    }

    /** Reads a {@code vocab.txt} stream; {@code name} appears in error messages. */
    public static Map<String, Integer> readVocabTxt(InputStream in, String name) throws IOException {
        Map<String, Integer> vocab = new HashMap<>(65_536);
        var dec = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        try (BufferedReader r = new BufferedReader(new java.io.InputStreamReader(in, dec))) {
            String line;
            int no = 0;
            while ((line = r.readLine()) != null) {
                // HF strips trailing whitespace/newline only; a duplicate keeps the later line's id, as HF's does.
                String token = line.stripTrailing();
                if (token.isEmpty()) {
                    if (peekEof(r)) break;
                    throw new TokenizerLoadException(name + ":" + (no + 1) + ": empty line in vocabulary");
                }
                vocab.put(token, no++);
            }
        } catch (CharacterCodingException e) {
            throw new TokenizerLoadException(name + ": not valid UTF-8");
        }
        if (vocab.isEmpty()) throw new TokenizerLoadException(name + ": vocabulary is empty");
        return vocab;
    }

    // ------------------------------------------------------------------------------------------ tokenizer.json

    /**
     * A Hugging Face {@code tokenizer.json} with a {@code BPE} model and {@code ByteLevel} pre-tokenizer (GPT-2,
     * RoBERTa style) or a {@code WordPiece} model with {@code BertNormalizer} / {@code BertPreTokenizer} (BERT).
     * Its {@code truncation} and {@code padding} sections become the tokenizer's {@link TokenizerOptions}.
     */
    public static Tokenizer fromTokenizerJson(Path file) throws IOException {
        return fromTokenizerJson(readJson(file), file);
    }

    /** Parses a {@code tokenizer.json} stream; {@code name} appears in error messages. */
    public static Tokenizer fromTokenizerJson(InputStream in, Path name) throws IOException {
        try {
            return fromTokenizerJson(JSON.readTree(utf8(in.readAllBytes(), name)), name);
        } catch (JsonProcessingException e) {
            throw TokenizerLoadException.in(name, "malformed JSON: " + e.getOriginalMessage() + where(e));
        }
    }

    private static Tokenizer fromTokenizerJson(JsonNode root, Path file) throws IOException {
        if (root == null || !root.isObject()) throw TokenizerLoadException.in(file, "expected a JSON object");
        JsonNode model = root.get("model");
        if (model == null || !model.isObject()) throw TokenizerLoadException.in(file, "no \"model\" section");
        String type = model.path("type").asText("");
        Map<String, Integer> added = new LinkedHashMap<>();
        JsonNode at = root.path("added_tokens");
        if (!at.isMissingNode() && !at.isNull() && !at.isArray()) throw TokenizerLoadException.in(file, "added_tokens must be an array");
        JsonNode vocabNode = model.path("vocab");
        long vocabSize = (long) (vocabNode.isObject() ? vocabNode.size() : 0) + at.size();
        for (JsonNode t : at) {
            if (!t.path("content").isTextual() || t.path("content").asText().isEmpty() || !t.path("id").isIntegralNumber()
                    || !t.path("id").canConvertToInt()) {
                throw TokenizerLoadException.in(file, "added_tokens entry without content/id: " + abbreviate(t.toString()));
            }
            int id = t.get("id").asInt();
            if (id < 0 || id >= vocabSize) {
                throw TokenizerLoadException.in(file, "added_tokens entry '" + abbreviate(t.get("content").asText())
                        + "' has id " + id + ", outside the vocabulary of " + vocabSize + " tokens");
            }
            added.put(t.get("content").asText(), id);
        }
        Tokenizer tok;
        if (type.equals("BPE") || (type.isEmpty() && model.has("merges"))) {
            tok = bpeFromJson(root, model, added, file);
        } else if (type.equals("WordPiece") || (type.isEmpty() && model.has("continuing_subword_prefix"))) {
            tok = wordPieceFromJson(root, model, added, file);
        } else {
            throw TokenizerLoadException.in(file, "model type '" + type + "' is not supported (FinSent reads BPE and WordPiece)");
        }
        TokenizerOptions options = optionsFromJson(root, file, tok.vocabSize());
        int specials = tok.template().count(false);
        if (options.truncation() != TokenizerOptions.Truncation.NONE && options.maxLength() <= specials) {
            // every single text would be cut away entirely (the only-first/second strategies then fail to encode)
            throw TokenizerLoadException.in(file, "truncation.max_length " + options.maxLength() + " leaves no room for"
                    + " text next to the " + specials + " special token(s) the post_processor adds");
        }
        if (root.path("padding").isObject()) {
            // padding writes this id and its token into encodings: it must be a token (ids may have gaps)
            String padToken;
            try {
                padToken = tok.idToToken(options.padId());
            } catch (IllegalArgumentException e) {
                padToken = null;
            }
            if (padToken == null) {
                throw TokenizerLoadException.in(file, "padding.pad_id " + options.padId() + " is not the id of any token");
            }
        }
        return tok.withOptions(options);
    }

    private static Tokenizer bpeFromJson(JsonNode root, JsonNode model, Map<String, Integer> added, Path file)
            throws IOException {
        Map<String, Integer> vocab = readVocabJson(file, model.get("vocab"), added.size());
        JsonNode m = model.get("merges");
        if (m == null || !m.isArray()) throw TokenizerLoadException.in(file, "model.merges must be an array");
        String[][] merges = new String[m.size()][];
        for (int i = 0; i < m.size(); i++) {
            JsonNode r = m.get(i);
            String[] parts;
            if (r.isTextual()) parts = r.asText().split(" ", -1);
            else if (r.isArray() && r.size() == 2) parts = new String[]{r.get(0).asText(), r.get(1).asText()};
            else parts = new String[0];
            if (parts.length != 2) {
                throw TokenizerLoadException.in(file, "model.merges[" + i + "] is not a pair: " + abbreviate(r.toString()));
            }
            merges[i] = parts;
        }
        for (String unsupported : new String[]{"continuing_subword_prefix", "end_of_word_suffix"}) {
            if (model.hasNonNull(unsupported) && !model.get(unsupported).asText().isEmpty()) {
                throw TokenizerLoadException.in(file, "BPE option " + unsupported + " is not supported");
            }
        }
        if (model.path("byte_fallback").asBoolean(false)) throw TokenizerLoadException.in(file, "BPE byte_fallback is not supported");
        if (model.hasNonNull("dropout") && model.get("dropout").asDouble() > 0) {
            throw TokenizerLoadException.in(file, "BPE dropout is not supported");
        }
        JsonNode pre = root.path("pre_tokenizer");
        if (!pre.path("type").asText().equals("ByteLevel")) {
            throw TokenizerLoadException.in(file, "BPE needs a ByteLevel pre_tokenizer (GPT-2 style), found " + pre.path("type"));
        }
        if (!pre.path("use_regex").asBoolean(true)) throw TokenizerLoadException.in(file, "ByteLevel use_regex=false is not supported");
        if (!root.path("normalizer").isNull() && !root.path("normalizer").isMissingNode()) {
            throw TokenizerLoadException.in(file, "a normalizer before byte-level BPE is not supported");
        }
        boolean prefixSpace = pre.path("add_prefix_space").asBoolean(false);
        try {
            return new ByteLevelBpeTokenizer(new BpeModel(vocab, merges, added), added, prefixSpace, TokenizerOptions.DEFAULTS);
        } catch (IllegalArgumentException e) {
            throw TokenizerLoadException.in(file, e.getMessage());
        }
    }

    private static Tokenizer wordPieceFromJson(JsonNode root, JsonNode model, Map<String, Integer> added, Path file)
            throws IOException {
        Map<String, Integer> vocab = readVocabJson(file, model.get("vocab"), added.size());
        JsonNode norm = root.path("normalizer");
        BertNormalizer normalizer;
        if (norm.path("type").asText().equals("BertNormalizer")) {
            boolean lower = norm.path("lowercase").asBoolean(true);
            boolean strip = norm.hasNonNull("strip_accents") ? norm.get("strip_accents").asBoolean() : lower;
            normalizer = new BertNormalizer(norm.path("clean_text").asBoolean(true),
                    norm.path("handle_chinese_chars").asBoolean(true), strip, lower);
        } else if (norm.isNull() || norm.isMissingNode()) {
            normalizer = new BertNormalizer(false, false, false, false);
        } else {
            throw TokenizerLoadException.in(file, "normalizer " + norm.path("type") + " is not supported with WordPiece (BertNormalizer is)");
        }
        String preType = root.path("pre_tokenizer").path("type").asText("");
        if (!preType.equals("BertPreTokenizer")) {
            throw TokenizerLoadException.in(file, "WordPiece needs the BertPreTokenizer, found '" + preType + "'");
        }
        String cls = null, sep = null;
        JsonNode post = root.path("post_processor");
        switch (post.path("type").asText("")) {
            case "BertProcessing" -> {
                cls = post.path("cls").path(0).asText(null);
                sep = post.path("sep").path(0).asText(null);
            }
            case "TemplateProcessing" -> {
                List<String> single = new ArrayList<>();
                for (JsonNode piece : post.path("single")) {
                    if (piece.has("SpecialToken")) single.add(piece.get("SpecialToken").path("id").asText());
                    else single.add("$" + piece.path("Sequence").path("id").asText());
                }
                if (single.size() != 3 || !single.get(1).equals("$A")) {
                    throw TokenizerLoadException.in(file, "only the template '[CLS] $A [SEP]' is supported, found " + single);
                }
                cls = single.get(0);
                sep = single.get(2);
            }
            case "" -> { }
            default -> throw TokenizerLoadException.in(file, "post_processor " + post.path("type") + " is not supported");
        }
        JsonNode dec = root.path("decoder");
        String prefix = model.path("continuing_subword_prefix").asText("##");
        String pad = root.path("padding").path("pad_token").asText("[PAD]");
        int maxChars = 100;
        if (model.hasNonNull("max_input_chars_per_word")) {
            maxChars = length(model.get("max_input_chars_per_word"), "model.max_input_chars_per_word", file);
        }
        var config = new WordPieceTokenizer.Config(normalizer, model.path("unk_token").asText("[UNK]"), prefix,
                maxChars, cls, sep, pad, dec.path("cleanup").asBoolean(true));
        try {
            return new WordPieceTokenizer(vocab, added, config, TokenizerOptions.DEFAULTS);
        } catch (IllegalArgumentException e) {
            throw TokenizerLoadException.in(file, e.getMessage());
        }
    }

    /**
     * A length field: an integer in [1, {@link #MAX_LENGTH}]. Anything else is an error naming the field, never a
     * silent default (a {@code max_length} of -1 must not switch truncation off).
     */
    private static int length(JsonNode v, String field, Path file) throws TokenizerLoadException {
        if (v == null || !v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() < 1 || v.asLong() > MAX_LENGTH) {
            throw TokenizerLoadException.in(file, field + " is " + (v == null ? "missing" : abbreviate(v.toString()))
                    + "; it must be an integer from 1 to " + MAX_LENGTH);
        }
        return v.intValue();
    }

    /** An id field: an integer in [0, bound). */
    private static int id(JsonNode v, String field, int bound, Path file) throws TokenizerLoadException {
        if (v == null || !v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() < 0 || v.asLong() >= bound) {
            throw TokenizerLoadException.in(file, field + " is " + (v == null ? "missing" : abbreviate(v.toString()))
                    + "; it must be an integer from 0 to " + (bound - 1));
        }
        return v.intValue();
    }

    /** Most token-type ids a padding section may name (BERT has 2). */
    static final int MAX_TYPE_IDS = 1024;

    private static TokenizerOptions optionsFromJson(JsonNode root, Path file, int vocabSize) throws TokenizerLoadException {
        TokenizerOptions o = TokenizerOptions.DEFAULTS;
        JsonNode tr = root.path("truncation");
        if (!tr.isObject() && !tr.isNull() && !tr.isMissingNode()) throw TokenizerLoadException.in(file, "truncation must be an object or null");
        if (tr.isObject()) {
            int max = length(tr.get("max_length"), "truncation.max_length", file);
            TokenizerOptions.Truncation strategy = switch (tr.path("strategy").asText("LongestFirst")) {
                case "LongestFirst" -> TokenizerOptions.Truncation.LONGEST_FIRST;
                case "OnlyFirst" -> TokenizerOptions.Truncation.ONLY_FIRST;
                case "OnlySecond" -> TokenizerOptions.Truncation.ONLY_SECOND;
                default -> throw TokenizerLoadException.in(file, "unknown truncation strategy " + tr.path("strategy"));
            };
            o = o.withTruncation(max, strategy);
            if (tr.path("direction").asText("Right").equals("Left")) o = o.withTruncationSide(TokenizerOptions.Side.LEFT);
        }
        JsonNode pd = root.path("padding");
        if (!pd.isObject() && !pd.isNull() && !pd.isMissingNode()) throw TokenizerLoadException.in(file, "padding must be an object or null");
        if (pd.isObject()) {
            JsonNode st = pd.path("strategy");
            if (st.has("Fixed")) {
                int n = length(st.get("Fixed"), "padding.strategy.Fixed", file);
                if (o.truncation() != TokenizerOptions.Truncation.NONE && o.maxLength() != n) {
                    // TokenizerOptions has one length for both; silently using one of them would change the other
                    throw TokenizerLoadException.in(file, "truncation.max_length " + o.maxLength()
                            + " and padding.strategy.Fixed " + n + " differ; FinSent pads and truncates to one length");
                }
                o = new TokenizerOptions(o.addSpecialTokens(), n, o.truncation(), o.truncationSide(),
                        TokenizerOptions.Padding.MAX_LENGTH, o.paddingSide(), o.padId(), o.padTypeId());
            } else {
                o = o.withPadding(TokenizerOptions.Padding.LONGEST);
            }
            if (pd.path("direction").asText("Right").equals("Left")) o = o.withPaddingSide(TokenizerOptions.Side.LEFT);
            int padId = pd.hasNonNull("pad_id") ? id(pd.get("pad_id"), "padding.pad_id", vocabSize, file) : 0;
            int padTypeId = pd.hasNonNull("pad_type_id") ? id(pd.get("pad_type_id"), "padding.pad_type_id", MAX_TYPE_IDS, file) : 0;
            if (pd.hasNonNull("pad_to_multiple_of")) length(pd.get("pad_to_multiple_of"), "padding.pad_to_multiple_of", file);
            o = o.withPadId(padId).withPadTypeId(padTypeId);
        }
        return o;
    }

    // ------------------------------------------------------------------------------------------ helpers

    private static JsonNode readJson(Path file) throws IOException {
        try (InputStream in = open(file)) {
            JsonNode n = JSON.readTree(utf8(in.readAllBytes(), file));
            if (n == null) throw TokenizerLoadException.in(file, "empty file");
            return n;
        } catch (JsonParseException e) {
            throw TokenizerLoadException.in(file, "malformed JSON: " + e.getOriginalMessage() + where(e));
        } catch (JsonProcessingException e) {
            throw TokenizerLoadException.in(file, "malformed JSON: " + e.getOriginalMessage());
        }
    }

    /**
     * JSON files are UTF-8 (as Hugging Face writes them). Decoding here, strictly, also keeps Jackson from guessing
     * UTF-16/32 from stray zero bytes and failing with a plain CharConversionException.
     */
    private static String utf8(byte[] bytes, Path file) throws TokenizerLoadException {
        try {
            String s = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(java.nio.ByteBuffer.wrap(bytes)).toString();
            return s.startsWith("\uFEFF") ? s.substring(1) : s; // a byte-order mark, as Jackson's own decoding skipped
        } catch (CharacterCodingException e) {
            throw TokenizerLoadException.in(file, "not valid UTF-8");
        }
    }

    /** " at line L, column C" where Jackson knows it (some errors, e.g. exceeded limits, carry no location). */
    private static String where(JsonProcessingException e) {
        var loc = e.getLocation();
        return loc == null ? "" : " at line " + loc.getLineNr() + ", column " + loc.getColumnNr();
    }

    private static InputStream open(Path file) throws IOException {
        try {
            return Files.newInputStream(file);
        } catch (NoSuchFileException e) {
            throw TokenizerLoadException.in(file, "file not found");
        }
    }

    private static BufferedReader utf8Reader(Path file) throws IOException {
        var dec = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        return new BufferedReader(new java.io.InputStreamReader(open(file), dec));
    }

    private static boolean bool(JsonNode c, String field, boolean dflt, Path file) throws TokenizerLoadException {
        JsonNode v = c.get(field);
        if (v == null || v.isNull()) return dflt;
        if (!v.isBoolean()) throw TokenizerLoadException.in(file, field + " must be true or false, got " + v);
        return v.booleanValue();
    }

    private static String tokenName(JsonNode c, String field, String dflt) {
        JsonNode v = c.get(field);
        if (v == null || v.isNull()) return dflt;
        if (v.isTextual()) return v.asText();
        return v.path("content").asText(dflt); // AddedToken form {"content": "[UNK]", ...}
    }

    private static String abbreviate(String s) {
        return s.length() <= 60 ? s : s.substring(0, 57) + "...";
    }
}
