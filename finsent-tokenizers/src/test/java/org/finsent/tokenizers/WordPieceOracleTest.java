package org.finsent.tokenizers;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * BERT WordPiece against Hugging Face's Rust tokenizers (DJL) in three set-ups: the real MiniLM {@code tokenizer.json}
 * (both sides load the same file), and BERT-Base's {@code vocab.txt} with {@code do_lower_case} true and false
 * (FinSent loads vocab.txt; the oracle gets the tokenizer.json Hugging Face would write for it). Corpus: the
 * Unicode stress corpus always; FinancialPhraseBank and tweets when {@code ../shared} is present.
 */
class WordPieceOracleTest {
    record Setup(String name, Tokenizer ours, HuggingFaceTokenizer hf) {
        @Override
        public String toString() {
            return name;
        }
    }

    static List<Setup> setups;
    static List<String> corpus;

    @BeforeAll
    static void load() throws IOException {
        var minilm = TestData.miniLmTokenizerJson();
        var vocab = TestData.bertVocabTxt();
        setups = List.of(
                // the file sets truncation/padding to 128; compare the tokenization itself
                new Setup("minilm tokenizer.json", Tokenizer.load(minilm).withOptions(TokenizerOptions.DEFAULTS),
                        Oracles.djl(Files.readAllBytes(minilm), true)),
                new Setup("vocab.txt uncased", TokenizerLoader.bert(vocab, true),
                        Oracles.djl(Oracles.wordPieceTokenizerJson(vocab, true), true)),
                new Setup("vocab.txt cased", TokenizerLoader.bert(vocab, false),
                        Oracles.djl(Oracles.wordPieceTokenizerJson(vocab, false), true)));
        corpus = new ArrayList<>(StressCorpus.generate(3000, 4242));
        if (Files.isDirectory(TestData.sharedDir())) {
            corpus.addAll(TestData.fpbSentences());
            corpus.addAll(TestData.tweets());
        } else {
            System.err.println("WordPieceOracleTest: " + TestData.sharedDir()
                    + " is missing; comparing on the generated stress corpus only");
        }
    }

    static Stream<Arguments> setups() throws IOException {
        if (setups == null) load();
        return setups.stream().map(Arguments::of);
    }

    static List<String> wellFormed() {
        return corpus.stream().filter(StressCorpus::wellFormed).toList();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("setups")
    void idsAndTypeIdsMatch(Setup s) {
        int n = OracleComparison.compare(s.name + " ids", wellFormed(), t -> s.ours.encode(t).ids(),
                t -> Oracles.ints(s.hf.encode(t, true, false).getIds()));
        assertTrue(n > 2500, "compared only " + n + " texts");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("setups")
    void pairsMatch(Setup s) {
        List<String> texts = wellFormed();
        OracleComparison.compare(s.name + " pair ids/type ids", texts, t -> {
            var e = s.ours.encode(t, "Second: " + t.length());
            return new int[][]{e.ids(), e.typeIds(), e.attentionMask(), e.specialTokensMask()};
        }, t -> {
            var e = s.hf.encode(t, "Second: " + t.length(), true, false);
            return new int[][]{Oracles.ints(e.getIds()), Oracles.ints(e.getTypeIds()), Oracles.ints(e.getAttentionMask()),
                    Oracles.ints(e.getSpecialTokenMask())};
        });
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("setups")
    void tokensAndOffsetsMatch(Setup s) {
        // DJL reports offsets in code points; ours are UTF-16 indices, converted here.
        OracleComparison.compare(s.name + " tokens+offsets", wellFormed(), t -> {
            var e = s.ours.encode(t);
            String[] out = new String[e.length()];
            for (int i = 0; i < out.length; i++) {
                out[i] = e.tokens()[i] + "@" + t.codePointCount(0, e.startOffsets()[i]) + "-" + t.codePointCount(0, e.endOffsets()[i]);
            }
            return out;
        }, t -> {
            var e = s.hf.encode(t, true, false);
            String[] out = new String[e.getTokens().length];
            for (int i = 0; i < out.length; i++) {
                var sp = e.getCharTokenSpans()[i];
                out[i] = e.getTokens()[i] + "@" + (sp == null ? 0 : sp.getStart()) + "-" + (sp == null ? 0 : sp.getEnd());
            }
            return out;
        });
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("setups")
    void decodeMatches(Setup s) {
        for (boolean skip : new boolean[]{true, false}) {
            OracleComparison.compare(s.name + " decode skipSpecial=" + skip, wellFormed(),
                    t -> s.ours.decode(s.ours.encode(t).ids(), skip),
                    t -> s.hf.decode(s.hf.encode(t, true, false).getIds(), skip));
        }
    }

    @Test
    void corpusCoversFinancialText() {
        assertTrue(corpus.size() >= 3000);
    }
}
