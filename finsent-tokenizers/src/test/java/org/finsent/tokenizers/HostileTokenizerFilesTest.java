package org.finsent.tokenizers;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Limits a tokenizer file states are validated when it is loaded (issue 22): absurd padding or truncation
 * lengths and ids far outside the vocabulary end in a {@link TokenizerLoadException} naming the file and the
 * field, instead of an OutOfMemoryError, a NegativeArraySizeException or a silently ignored setting.
 */
class HostileTokenizerFilesTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SEEDS = "/org/finsent/tokenizers/TokenizerFilesFuzzTestInputs/";

    @TempDir
    Path tmp;

    private static ObjectNode seed(String name) throws IOException {
        try (InputStream in = HostileTokenizerFilesTest.class.getResourceAsStream(SEEDS + name)) {
            return (ObjectNode) JSON.readTree(in);
        }
    }

    private Path write(ObjectNode json) throws IOException {
        return Files.write(tmp.resolve("tokenizer.json"), JSON.writeValueAsBytes(json));
    }

    private String refused(String seed, Consumer<ObjectNode> edit) throws IOException {
        ObjectNode json = seed(seed);
        edit.accept(json);
        Path p = write(json);
        TokenizerLoadException ex = assertThrows(TokenizerLoadException.class, () -> TokenizerLoader.load(p));
        assertTrue(ex.getMessage().startsWith(p.toString() + ": "), "names the file: " + ex.getMessage());
        return ex.getMessage();
    }

    @Test
    void theSeedsLoadAndTheirLimitsApply() throws IOException {
        Tokenizer wp = TokenizerLoader.load(write(seed("tokenizerJson/seed-wordpiece.json")));
        Encoding e = wp.encode("hello world hello world hello world hello world");
        assertEquals(8, e.length(), "truncated and padded to the file's 8");
        Encoding shortOne = wp.encode("hello");
        assertEquals(8, shortOne.length());
        assertEquals(0, shortOne.ids()[7], "padded with pad_id 0");
        Tokenizer bpe = TokenizerLoader.load(write(seed("tokenizerJson/seed-bpe.json")));
        assertTrue(bpe.encode("hello").length() > 0);
    }

    @Test
    void jsonIsStrictUtf8AndMayStartWithAByteOrderMark() throws IOException {
        byte[] json = JSON.writeValueAsBytes(seed("tokenizerJson/seed-wordpiece.json"));
        byte[] bom = new byte[json.length + 3];
        bom[0] = (byte) 0xef;
        bom[1] = (byte) 0xbb;
        bom[2] = (byte) 0xbf;
        System.arraycopy(json, 0, bom, 3, json.length);
        assertEquals(8, TokenizerLoader.load(Files.write(tmp.resolve("tokenizer.json"), bom)).encode("hello").length());
        byte[] zeros = json.clone();
        zeros[1] = 0; // Jackson alone would take the zero bytes for UTF-32 and fail with a CharConversionException
        zeros[2] = 0;
        Path p = Files.write(tmp.resolve("tokenizer.json"), zeros);
        TokenizerLoadException ex = assertThrows(TokenizerLoadException.class, () -> TokenizerLoader.load(p));
        assertTrue(ex.getMessage().startsWith(p + ": malformed JSON"), ex.getMessage());
        zeros[1] = (byte) 0xc3; // a lone lead byte
        Path q = Files.write(tmp.resolve("tokenizer.json"), zeros);
        ex = assertThrows(TokenizerLoadException.class, () -> TokenizerLoader.load(q));
        assertTrue(ex.getMessage().equals(q + ": not valid UTF-8"), ex.getMessage());
    }

    @Test
    void fixedPaddingOfAHundredMillionIsRefused() throws IOException {
        String m = refused("tokenizerJson/seed-wordpiece.json",
                j -> ((ObjectNode) j.with("padding").with("strategy")).put("Fixed", 100_000_000));
        assertTrue(m.contains("padding.strategy.Fixed is 100000000") && m.contains("from 1 to 1000000"), m);
    }

    @Test
    void truncationMaxLengthMinusOneIsRefusedNotIgnored() throws IOException {
        String m = refused("tokenizerJson/seed-wordpiece.json", j -> j.with("truncation").put("max_length", -1));
        assertTrue(m.contains("truncation.max_length is -1"), m);
        m = refused("tokenizerJson/seed-wordpiece.json", j -> j.with("truncation").put("max_length", 7));
        assertTrue(m.contains("truncation.max_length 7 and padding.strategy.Fixed 8 differ"), m);
        m = refused("tokenizerJson/seed-wordpiece.json", j -> {
            j.remove("padding");
            j.with("truncation").put("max_length", 2);
        });
        assertTrue(m.contains("truncation.max_length 2 leaves no room for text next to the 2 special token(s)"), m);
        m = refused("tokenizerJson/seed-wordpiece.json", j -> j.with("truncation").put("max_length", "512"));
        assertTrue(m.contains("truncation.max_length is \"512\""), m);
        m = refused("tokenizerJson/seed-wordpiece.json", j -> j.with("truncation").remove("max_length"));
        assertTrue(m.contains("truncation.max_length is missing"), m);
    }

    @Test
    void vocabularyIdOfTwoToTheThirtyOneMinusOneIsRefused() throws IOException {
        String m = refused("tokenizerJson/seed-wordpiece.json",
                j -> j.with("model").with("vocab").put("huge", Integer.MAX_VALUE));
        assertTrue(m.contains("'huge' has id 2147483647, outside the vocabulary of"), m);
        m = refused("tokenizerJson/seed-bpe.json", j -> j.withArray("added_tokens").forEach(
                t -> ((ObjectNode) t).put("id", Integer.MAX_VALUE)));
        assertTrue(m.contains("added_tokens entry '<|endoftext|>' has id 2147483647"), m);
        m = refused("tokenizerJson/seed-bpe.json", j -> j.withArray("added_tokens").forEach(
                t -> ((ObjectNode) t).put("id", -5)));
        assertTrue(m.contains("has id -5"), m);
    }

    @Test
    void padIdsOutsideTheVocabularyAreRefused() throws IOException {
        String m = refused("tokenizerJson/seed-wordpiece.json", j -> j.with("padding").put("pad_id", 1_000_000));
        assertTrue(m.contains("padding.pad_id is 1000000; it must be an integer from 0 to 9"), m);
        m = refused("tokenizerJson/seed-wordpiece.json", j -> {
            j.with("model").with("vocab").remove("[PAD]");
            j.with("model").with("vocab").put("[PAD]", 10); // ids 1..10: in range, but no token has id 0
            j.withArray("added_tokens").remove(0);
        });
        assertTrue(m.contains("padding.pad_id 0 is not the id of any token"), m);
        m = refused("tokenizerJson/seed-wordpiece.json", j -> j.with("padding").put("pad_type_id", -1));
        assertTrue(m.contains("padding.pad_type_id is -1"), m);
    }

    @Test
    void mergesReferencingUnknownTokensAreRefused() throws IOException {
        String m = refused("tokenizerJson/seed-bpe.json", j -> j.with("model").withArray("merges").add("q z"));
        assertTrue(m.contains("'q z'") && m.contains("not in the vocabulary"), m);
    }

    @Test
    void vocabJsonIdsAreBoundedToo() throws IOException {
        ObjectNode vocab = (ObjectNode) seed("vocabJson/seed-vocab.json");
        vocab.put("x", Integer.MAX_VALUE);
        Path v = Files.write(tmp.resolve("vocab.json"), JSON.writeValueAsBytes(vocab));
        Path merges = Files.writeString(tmp.resolve("merges.txt"), "#version: 0.2\nh e\n");
        TokenizerLoadException ex = assertThrows(TokenizerLoadException.class, () -> TokenizerLoader.gpt2(v, merges));
        assertTrue(ex.getMessage().startsWith(v + ": token 'x' has id 2147483647"), ex.getMessage());
    }

    @Test
    void optionsRejectLengthsBeyondTheBound() {
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
                () -> TokenizerOptions.DEFAULTS.withTruncation(100_000_000));
        assertTrue(ex.getMessage().contains("from 0 to " + TokenizerOptions.MAX_LENGTH), ex.getMessage());
    }
}
