package org.finsent.tokenizers;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Any Java String encodes without crashing: empty, NUL, lone surrogates, random UTF-16 units, a megabyte. */
class RobustnessTest {
    static List<Tokenizer> tokenizers = new ArrayList<>();

    @BeforeAll
    static void load() throws IOException {
        tokenizers.add(TokenizerLoader.bert(TestData.bertVocabTxt(), true));
        tokenizers.add(TokenizerLoader.bert(TestData.bertVocabTxt(), false));
        // its tokenizer.json pads and truncates to 128, as Hugging Face applies it; check the raw tokenization here
        tokenizers.add(Tokenizer.load(TestData.miniLmTokenizerJson()).withOptions(TokenizerOptions.DEFAULTS));
        if (java.nio.file.Files.isDirectory(TestData.sharedDir())) {
            tokenizers.add(TokenizerLoader.gpt2(TestData.gpt2Vocab(), TestData.gpt2Merges()));
        }
    }

    static void encodesSanely(Tokenizer t, String s) {
        Encoding e = t.encode(s);
        for (int i = 0; i < e.length(); i++) {
            assertTrue(e.ids()[i] >= 0 && e.ids()[i] < t.vocabSize());
            assertTrue(e.startOffsets()[i] >= 0 && e.startOffsets()[i] <= e.endOffsets()[i] && e.endOffsets()[i] <= s.length(),
                    "offsets within the text");
        }
        t.decode(e.ids());
        t.decode(e.ids(), true);
    }

    @Test
    void edgeStrings() {
        for (Tokenizer t : tokenizers) {
            for (String s : List.of("", "\u0000", "\u0000\u0000abc\u0000", "\uD800", "\uDC00", "a\uD800b\uDC00c",
                    "\uDBFF\uDFFF", "\uFFFF\uFFFE", " \u00A0 ", "\r\n\r\n", "<|endoftext|>", "[CLS]")) {
                encodesSanely(t, s);
            }
            assertEquals(t.template().count(false), t.encode("").length(), "empty text gives only the special tokens");
        }
    }

    @Test
    void randomUtf16Units() {
        SplittableRandom r = new SplittableRandom(3);
        for (int k = 0; k < 2000; k++) {
            char[] c = new char[r.nextInt(30)];
            for (int i = 0; i < c.length; i++) c[i] = (char) r.nextInt(0x10000);
            String s = new String(c);
            for (Tokenizer t : tokenizers) encodesSanely(t, s);
        }
    }

    @Test
    void oneMegabyteOfText() {
        StringBuilder b = new StringBuilder(1 << 20);
        SplittableRandom r = new SplittableRandom(1);
        String[] words = {"profit", "rose", "EUR", "13.1", "mn", "Nokia", "ääkköset", "€", "😀", "\n", "  "};
        while (b.length() < (1 << 20)) b.append(words[r.nextInt(words.length)]).append(' ');
        b.append("x".repeat(100_000)); // and one enormous word
        String s = b.toString();
        for (Tokenizer t : tokenizers) {
            Encoding e = t.encode(s);
            assertTrue(e.length() > 100_000);
        }
    }
}
