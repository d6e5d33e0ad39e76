package org.finsent.tokenizers;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.finsent.tokenizers.bpe.ByteLevelBpeTokenizer;
import org.finsent.tokenizers.wordpiece.WordPieceTokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Loading from every file layout users have, and clear errors (file name, line) for bad files. */
class TokenizerLoaderTest {
    @TempDir
    Path tmp;

    static final String TEXT = "Operating profit rose to EUR 13.1 mn, İstanbul café 😀 <|endoftext|> [SEP] end";

    @Test
    void directoryLayoutsPickTheRightKind() throws IOException {
        Path bert = Files.createDirectories(tmp.resolve("bert"));
        Files.copy(TestData.bertVocabTxt(), bert.resolve("vocab.txt"));
        assertInstanceOf(WordPieceTokenizer.class, Tokenizer.load(bert));

        Path minilm = Files.createDirectories(tmp.resolve("minilm"));
        Files.copy(TestData.miniLmTokenizerJson(), minilm.resolve("tokenizer.json"));
        Files.copy(TestData.bertVocabTxt(), minilm.resolve("vocab.txt"));
        assertInstanceOf(WordPieceTokenizer.class, Tokenizer.load(minilm), "tokenizer.json wins over vocab.txt");

        Path gpt2 = Files.createDirectories(tmp.resolve("gpt2"));
        Files.copy(TestData.gpt2Vocab(), gpt2.resolve("vocab.json"));
        Files.copy(TestData.gpt2Merges(), gpt2.resolve("merges.txt"));
        assertInstanceOf(ByteLevelBpeTokenizer.class, Tokenizer.load(gpt2));

        var e = assertThrows(TokenizerLoadException.class, () -> Tokenizer.load(Files.createDirectories(tmp.resolve("empty"))));
        assertTrue(e.getMessage().contains("no tokenizer files"), e.getMessage());
    }

    @Test
    void gpt2TokenizerJsonEqualsVocabAndMerges() throws IOException {
        Path json = tmp.resolve("tokenizer.json");
        Files.write(json, Oracles.bpeTokenizerJson(TestData.gpt2Vocab(), TestData.gpt2Merges()));
        Tokenizer fromJson = Tokenizer.load(json);
        Tokenizer fromFiles = TokenizerLoader.gpt2(TestData.gpt2Vocab(), TestData.gpt2Merges());
        for (String s : StressCorpus.generate(300, 1)) assertArrayEquals(fromFiles.encodeIds(s), fromJson.encodeIds(s), s);
    }

    @Test
    void addPrefixSpaceMatchesHuggingFace() throws IOException {
        ObjectNode root = (ObjectNode) Oracles.JSON.readTree(Oracles.bpeTokenizerJson(TestData.gpt2Vocab(), TestData.gpt2Merges()));
        ((ObjectNode) root.get("pre_tokenizer")).put("add_prefix_space", true);
        byte[] json = Oracles.JSON.writeValueAsBytes(root);
        Path file = tmp.resolve("tokenizer.json");
        Files.write(file, json);
        Tokenizer ours = Tokenizer.load(file);
        var hf = Oracles.djl(json, false);
        List<String> texts = StressCorpus.generate(500, 8).stream().filter(StressCorpus::wellFormed).toList();
        OracleComparison.compare("add_prefix_space ids", texts, ours::encodeIds, t -> Oracles.ints(hf.encode(t, false, false).getIds()));
        OracleComparison.compare("add_prefix_space offsets", texts, t -> {
            Encoding e = ours.encode(t);
            int[] o = new int[2 * e.length()];
            for (int i = 0; i < e.length(); i++) {
                o[2 * i] = t.codePointCount(0, e.startOffsets()[i]);
                o[2 * i + 1] = t.codePointCount(0, e.endOffsets()[i]);
            }
            return o;
        }, t -> {
            var sp = hf.encode(t, false, false).getCharTokenSpans();
            int[] o = new int[2 * sp.length];
            for (int i = 0; i < sp.length; i++) {
                o[2 * i] = sp[i].getStart();
                o[2 * i + 1] = sp[i].getEnd();
            }
            return o;
        });
    }

    @Test
    void tokenizerJsonTruncationAndPaddingBecomeOptions() throws IOException {
        Tokenizer minilm = Tokenizer.load(TestData.miniLmTokenizerJson()); // the file says: truncate and pad to 128
        assertEquals(128, minilm.encode("short").length());
        assertEquals(2 + 1, minilm.encode("short").unpaddedLength());
        Encoding longOne = minilm.encode("word ".repeat(300));
        assertEquals(128, longOne.length());
        assertEquals(minilm.tokenToId("[SEP]"), longOne.ids()[127]);
    }

    @Test
    void tokenizerConfigSetsCasing() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("cased"));
        Files.copy(TestData.bertVocabTxt(), dir.resolve("vocab.txt"));
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"do_lower_case\": false, \"model_max_length\": 512}");
        Tokenizer cased = Tokenizer.load(dir);
        Tokenizer expected = TokenizerLoader.bert(TestData.bertVocabTxt(), false);
        assertArrayEquals(expected.encodeIds("Café NOKIA"), cased.encodeIds("Café NOKIA"));
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"do_lower_case\": \"yes\"}");
        var e = assertThrows(TokenizerLoadException.class, () -> Tokenizer.load(dir));
        assertTrue(e.getMessage().contains("tokenizer_config.json") && e.getMessage().contains("do_lower_case"), e.getMessage());
    }

    // ------------------------------------------------------------------ bad files

    static void assertMessage(TokenizerLoadException e, String... parts) {
        for (String p : parts) assertTrue(e.getMessage().contains(p), "message '" + e.getMessage() + "' lacks '" + p + "'");
    }

    @Test
    void missingFilesAreNamed() {
        Path nope = tmp.resolve("nope.json");
        assertMessage(assertThrows(TokenizerLoadException.class, () -> TokenizerLoader.gpt2(nope, tmp.resolve("m.txt"))),
                "nope.json", "not found");
        assertMessage(assertThrows(TokenizerLoadException.class, () -> TokenizerLoader.bert(tmp.resolve("vocab.txt"), true)),
                "vocab.txt", "not found");
    }

    @Test
    void truncatedMergesGiveTheLine() throws IOException {
        Path vocab = TestData.gpt2Vocab(), merges = tmp.resolve("merges.txt");
        List<String> lines = Files.readAllLines(TestData.gpt2Merges()).subList(0, 1000);
        Files.writeString(merges, String.join("\n", lines) + "\nĠth", StandardCharsets.UTF_8); // cut mid-rule
        assertMessage(assertThrows(TokenizerLoadException.class, () -> TokenizerLoader.gpt2(vocab, merges)),
                "merges.txt:1001", "Ġth");
    }

    @Test
    void mergeWithUnknownTokenIsReported() throws IOException {
        Path vocab = TestData.gpt2Vocab(), merges = tmp.resolve("merges.txt");
        Files.writeString(merges, "#version: 0.2\nĠ t\nzz qq\n", StandardCharsets.UTF_8);
        assertMessage(assertThrows(TokenizerLoadException.class, () -> TokenizerLoader.gpt2(vocab, merges)),
                "merge rule 2", "zz");
    }

    @Test
    void truncatedOrMalformedJsonGivesPosition() throws IOException {
        Path vocab = tmp.resolve("vocab.json"), realMerges = TestData.gpt2Merges();
        byte[] real = Files.readAllBytes(TestData.gpt2Vocab());
        Files.write(vocab, java.util.Arrays.copyOf(real, real.length / 2));
        assertMessage(assertThrows(TokenizerLoadException.class, () -> TokenizerLoader.gpt2(vocab, realMerges)),
                "vocab.json", "malformed JSON", "line");
        Files.writeString(vocab, "{\"a\": \"x\"}");
        assertMessage(assertThrows(TokenizerLoadException.class, () -> TokenizerLoader.gpt2(vocab, realMerges)),
                "vocab.json", "'a'", "non-negative integer");
        Files.writeString(vocab, "[1, 2]");
        assertMessage(assertThrows(TokenizerLoadException.class, () -> TokenizerLoader.gpt2(vocab, realMerges)),
                "vocab.json", "JSON object");
        Files.writeString(vocab, "{\"a\": 0}");
        assertMessage(assertThrows(TokenizerLoadException.class, () -> TokenizerLoader.gpt2(vocab, realMerges)),
                "byte-level");
    }

    @Test
    void badTokenizerJson() throws IOException {
        Path f = tmp.resolve("tokenizer.json");
        Files.writeString(f, "{\"model\": {\"type\": \"Unigram\"}}");
        assertMessage(assertThrows(TokenizerLoadException.class, () -> Tokenizer.load(f)), "tokenizer.json", "Unigram");
        Files.writeString(f, "{\"version\": \"1.0\"}");
        assertMessage(assertThrows(TokenizerLoadException.class, () -> Tokenizer.load(f)), "no \"model\"");
        Files.writeString(f, "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"[UNK]\": 0}, \"unk_token\": \"[UNK]\"}, "
                + "\"pre_tokenizer\": {\"type\": \"Whitespace\"}}");
        assertMessage(assertThrows(TokenizerLoadException.class, () -> Tokenizer.load(f)), "BertPreTokenizer", "Whitespace");
        Files.writeString(f, "{\"model\": ");
        assertMessage(assertThrows(TokenizerLoadException.class, () -> Tokenizer.load(f)), "malformed JSON");
    }

    @Test
    void badVocabTxt() throws IOException {
        Path v = tmp.resolve("vocab.txt");
        Files.writeString(v, "[PAD]\n[UNK]\n\nhello\n");
        assertMessage(assertThrows(TokenizerLoadException.class, () -> TokenizerLoader.bert(v, true)), "vocab.txt:3", "empty line");
        Files.write(v, new byte[]{'[', 'U', 'N', 'K', ']', '\n', (byte) 0xC3, (byte) 0x28, '\n'});
        assertMessage(assertThrows(TokenizerLoadException.class, () -> TokenizerLoader.bert(v, true)), "vocab.txt", "UTF-8");
        Files.writeString(v, "hello\nworld\n");
        assertMessage(assertThrows(TokenizerLoadException.class, () -> TokenizerLoader.bert(v, true)), "[UNK]", "not in the vocabulary");
        Files.writeString(v, "");
        assertMessage(assertThrows(TokenizerLoadException.class, () -> TokenizerLoader.bert(v, true)), "empty");
    }
}
