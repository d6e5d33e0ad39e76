package org.finsent.tokenizers;

import com.code_intelligence.jazzer.junit.FuzzTest;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Fuzz targets for tokenizer loading: any file ends in a tokenizer (that then encodes a short text and pads a
 * batch without failing) or in a {@link TokenizerLoadException}, within the per-input time limit ({@link FuzzLimits#MAX_SECONDS} s); anything
 * else (OutOfMemoryError, NegativeArraySizeException, a RuntimeException from encoding) is a finding. Plain
 * {@code mvn test} replays src/test/resources/org/finsent/tokenizers/TokenizerFilesFuzzTestInputs/<method>/.
 */
class TokenizerFilesFuzzTest {

    private static final Path DIR;
    /** A valid GPT-2-style vocab.json (every byte symbol, one merge's result) for the merges.txt target. */
    private static final Path VOCAB_JSON;
    /** A valid merges.txt for the vocab.json target. */
    private static final Path MERGES_TXT;

    static {
        try {
            DIR = Files.createTempDirectory("finsent-fuzz-tok");
            StringBuilder v = new StringBuilder("{");
            for (int b = 0; b < 256; b++) {
                String sym = org.finsent.tokenizers.bpe.ByteLevel.encode(new byte[]{(byte) b});
                v.append(com.fasterxml.jackson.databind.node.TextNode.valueOf(sym)).append(": ").append(b).append(", ");
            }
            v.append("\"he\": 256, \"ll\": 257, \"hell\": 258, \"<|endoftext|>\": 259}");
            VOCAB_JSON = Files.writeString(DIR.resolve("vocab.json"), v);
            MERGES_TXT = Files.writeString(DIR.resolve("merges.txt"), "#version: 0.2\nh e\nl l\nhe ll\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path file(String name, byte[] bytes) {
        try {
            return Files.write(DIR.resolve(name), bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private interface Loader {
        Tokenizer load() throws IOException;
    }

    private static void expectOnlyLoadErrors(Loader l) {
        long start = System.nanoTime();
        try {
            loadAndUse(l);
        } finally {
            FuzzLimits.checkTime(start);
        }
    }

    private static void loadAndUse(Loader l) {
        Tokenizer t;
        try {
            t = l.load();
        } catch (TokenizerLoadException expected) {
            return;
        } catch (IOException e) {
            throw new AssertionError("an I/O exception that is not a TokenizerLoadException", e);
        }
        // a tokenizer that loads must work on ordinary text
        t.encode("Hello, world: EUR 1.5bn in Q3 ü 中");
        t.encodeBatch(java.util.List.of("short", "a somewhat longer text of several words"));
    }

    @FuzzTest
    void tokenizerJson(byte[] input) {
        expectOnlyLoadErrors(() -> TokenizerLoader.fromTokenizerJson(new ByteArrayInputStream(input), Path.of("tokenizer.json")));
    }

    @FuzzTest
    void vocabTxt(byte[] input) {
        Path p = file("vocab.txt", input);
        expectOnlyLoadErrors(() -> TokenizerLoader.bert(p, true));
    }

    @FuzzTest
    void mergesTxt(byte[] input) {
        Path p = file("merges.txt", input);
        expectOnlyLoadErrors(() -> TokenizerLoader.gpt2(VOCAB_JSON, p));
    }

    @FuzzTest
    void vocabJson(byte[] input) {
        Path p = file("vocab.json", input);
        expectOnlyLoadErrors(() -> TokenizerLoader.gpt2(p, MERGES_TXT));
    }

    static String utf8(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
