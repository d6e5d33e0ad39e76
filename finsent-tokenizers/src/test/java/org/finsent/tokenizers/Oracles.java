package org.finsent.tokenizers;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Hugging Face's Rust tokenizers (through DJL) configured as the oracles: from the MiniLM {@code tokenizer.json},
 * and from {@code tokenizer.json} files built here out of {@code vocab.txt} / {@code vocab.json} + {@code merges.txt}
 * with the exact sections Hugging Face writes for bert-base-(un)cased and gpt2.
 */
public final class Oracles {
    static final ObjectMapper JSON = new ObjectMapper();

    static {
        System.setProperty("ai.djl.offline", "true");
    }

    private Oracles() {
    }

    /** A DJL tokenizer from tokenizer.json bytes, with DJL's own truncation and padding switched off. */
    public static HuggingFaceTokenizer djl(byte[] tokenizerJson, boolean addSpecialTokens) throws IOException {
        // Loaded from a stream so that no tokenizer_config.json next to a file can change its behaviour.
        try (InputStream in = new ByteArrayInputStream(tokenizerJson)) {
            return HuggingFaceTokenizer.newInstance(in, Map.of(
                    "addSpecialTokens", String.valueOf(addSpecialTokens),
                    "truncation", "false",
                    "padding", "false",
                    "modelMaxLength", "100000000"));
        }
    }

    /** A DJL tokenizer with explicit DJL options ({@code truncation}, {@code padding}, {@code maxLength}, ...). */
    public static HuggingFaceTokenizer djl(byte[] tokenizerJson, Map<String, String> options) throws IOException {
        try (InputStream in = new ByteArrayInputStream(tokenizerJson)) {
            return HuggingFaceTokenizer.newInstance(in, options);
        }
    }

    public static HuggingFaceTokenizer djl(Path tokenizerJson, boolean addSpecialTokens) throws IOException {
        return djl(Files.readAllBytes(tokenizerJson), addSpecialTokens);
    }

    /** bert-base-(un)cased's tokenizer.json around a vocab.txt. */
    public static byte[] wordPieceTokenizerJson(Path vocabTxt, boolean lowercase) throws IOException {
        Map<String, Integer> vocab = TokenizerLoader.readVocabTxt(vocabTxt);
        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        for (String s : List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")) {
            added.addObject().put("id", vocab.get(s)).put("content", s).put("single_word", false).put("lstrip", false)
                    .put("rstrip", false).put("normalized", false).put("special", true);
        }
        root.putObject("normalizer").put("type", "BertNormalizer").put("clean_text", true)
                .put("handle_chinese_chars", true).putNull("strip_accents").put("lowercase", lowercase);
        root.putObject("pre_tokenizer").put("type", "BertPreTokenizer");
        ObjectNode post = root.putObject("post_processor");
        post.put("type", "TemplateProcessing");
        post.set("single", JSON.readTree("[{\"SpecialToken\":{\"id\":\"[CLS]\",\"type_id\":0}},{\"Sequence\":{\"id\":\"A\",\"type_id\":0}},"
                + "{\"SpecialToken\":{\"id\":\"[SEP]\",\"type_id\":0}}]"));
        post.set("pair", JSON.readTree("[{\"SpecialToken\":{\"id\":\"[CLS]\",\"type_id\":0}},{\"Sequence\":{\"id\":\"A\",\"type_id\":0}},"
                + "{\"SpecialToken\":{\"id\":\"[SEP]\",\"type_id\":0}},{\"Sequence\":{\"id\":\"B\",\"type_id\":1}},"
                + "{\"SpecialToken\":{\"id\":\"[SEP]\",\"type_id\":1}}]"));
        ObjectNode st = post.putObject("special_tokens");
        for (String s : List.of("[CLS]", "[SEP]")) {
            ObjectNode o = st.putObject(s);
            o.put("id", s);
            o.putArray("ids").add(vocab.get(s));
            o.putArray("tokens").add(s);
        }
        root.putObject("decoder").put("type", "WordPiece").put("prefix", "##").put("cleanup", true);
        ObjectNode model = root.putObject("model");
        model.put("type", "WordPiece").put("unk_token", "[UNK]").put("continuing_subword_prefix", "##")
                .put("max_input_chars_per_word", 100);
        ObjectNode v = model.putObject("vocab");
        vocab.entrySet().stream().sorted(Map.Entry.comparingByValue()).forEach(e -> v.put(e.getKey(), e.getValue()));
        return JSON.writeValueAsBytes(root);
    }

    /** gpt2's tokenizer.json around vocab.json + merges.txt. */
    public static byte[] bpeTokenizerJson(Path vocabJson, Path mergesTxt) throws IOException {
        JsonNode vocab = JSON.readTree(vocabJson.toFile());
        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        root.putArray("added_tokens").addObject().put("id", vocab.get("<|endoftext|>").asInt())
                .put("content", "<|endoftext|>").put("single_word", false).put("lstrip", false).put("rstrip", false)
                .put("normalized", true).put("special", true);
        root.putNull("normalizer");
        root.putObject("pre_tokenizer").put("type", "ByteLevel").put("add_prefix_space", false)
                .put("trim_offsets", true).put("use_regex", true);
        root.putObject("post_processor").put("type", "ByteLevel").put("add_prefix_space", true)
                .put("trim_offsets", false).put("use_regex", true);
        root.putObject("decoder").put("type", "ByteLevel").put("add_prefix_space", true)
                .put("trim_offsets", true).put("use_regex", true);
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE").putNull("dropout").putNull("unk_token").put("continuing_subword_prefix", "")
                .put("end_of_word_suffix", "").put("fuse_unk", false).put("byte_fallback", false);
        model.set("vocab", vocab);
        ArrayNode merges = model.putArray("merges");
        List<String> lines = new ArrayList<>(Files.readAllLines(mergesTxt));
        for (String l : lines) if (!l.startsWith("#version") && !l.isEmpty()) merges.add(l);
        return JSON.writeValueAsBytes(root);
    }

    /** Ids as ints (DJL returns longs). */
    public static int[] ints(long[] ids) {
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) out[i] = Math.toIntExact(ids[i]);
        return out;
    }

}
