package org.finsent.tokenizers;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every code point of Unicode, alone between two letters ({@code "a" + cp + "a"}), through FinSent's WordPiece and
 * Hugging Face's, cased and uncased: proves the character classes (control, whitespace, punctuation, CJK, accent
 * marks, lowercasing) agree everywhere, not just on the corpus.
 */
class BertCategoriesOracleTest {

    @ParameterizedTest(name = "lowercase={0}")
    @ValueSource(booleans = {false, true})
    void everyCodePointBehavesAsInHuggingFace(boolean lowercase) throws Exception {
        var vocab = TestData.bertVocabTxt();
        HuggingFaceTokenizer hf = Oracles.djl(Oracles.wordPieceTokenizerJson(vocab, lowercase), false);
        Tokenizer ours = TokenizerLoader.bert(vocab, lowercase).withOptions(TokenizerOptions.DEFAULTS.withAddSpecialTokens(false));
        List<String> diffs = new ArrayList<>();
        int checked = 0;
        for (int cp = 0; cp <= 0x10FFFF; cp++) {
            if (cp >= 0xD800 && cp <= 0xDFFF) continue;
            String t = "a" + new String(Character.toChars(cp)) + "a";
            String[] h = hf.encode(t, false, false).getTokens();
            String[] o = ours.encode(t).tokens();
            if (!Arrays.equals(h, o) && diffs.size() < 20) {
                diffs.add(String.format("U+%04X (Java type %d): ours %s, HF %s", cp, Character.getType(cp),
                        Arrays.toString(o), Arrays.toString(h)));
            }
            checked++;
        }
        assertTrue(diffs.isEmpty(), "code points that differ:\n" + String.join("\n", diffs));
        assertTrue(checked > 1_100_000);
    }
}
