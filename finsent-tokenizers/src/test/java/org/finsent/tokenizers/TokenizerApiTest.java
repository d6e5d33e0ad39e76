package org.finsent.tokenizers;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.util.PairList;
import org.finsent.tokenizers.TokenizerOptions.Padding;
import org.finsent.tokenizers.TokenizerOptions.Side;
import org.finsent.tokenizers.TokenizerOptions.Truncation;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shared post-processing (pairs, truncation, padding, batches, offsets, thread safety), checked against Hugging
 * Face's own truncation and padding through DJL where it can be configured, and against invariants elsewhere.
 * Uses only Maven-provided files (BERT-Base vocab.txt), so it never skips.
 */
class TokenizerApiTest {
    static byte[] bertJson;
    static Tokenizer bert;
    static List<String> texts;

    @BeforeAll
    static void load() throws IOException {
        var vocab = TestData.bertVocabTxt();
        bert = TokenizerLoader.bert(vocab, true);
        bertJson = Oracles.wordPieceTokenizerJson(vocab, true);
        texts = new ArrayList<>(List.of(
                "Operating profit rose to EUR 13.1 mn from EUR 8.7 mn in the corresponding period in 2007 .",
                "Shares of Nokia fell 3 % after the company cut its outlook, citing weak demand in Europe and Asia.",
                "$AAPL beats estimates", "Neutral.", "", "a b c d e f g h i j k l m n o p q r s t u v w x y z"));
        texts.addAll(StressCorpus.generate(200, 99).stream().filter(StressCorpus::wellFormed).toList());
    }

    static HuggingFaceTokenizer hf(String truncation, String padding, int maxLength) throws IOException {
        return Oracles.djl(bertJson, Map.of("addSpecialTokens", "true", "truncation", truncation, "padding", padding,
                "maxLength", String.valueOf(maxLength), "modelMaxLength", "100000"));
    }

    @ParameterizedTest(name = "{0} max={1}")
    @CsvSource({"longest_first,8", "longest_first,9", "longest_first,16", "longest_first,3", "only_first,12", "only_second,12"})
    void pairTruncationMatchesHuggingFace(String strategy, int max) throws IOException {
        HuggingFaceTokenizer hf = hf(strategy, "false", max);
        Truncation t = switch (strategy) {
            case "only_first" -> Truncation.ONLY_FIRST;
            case "only_second" -> Truncation.ONLY_SECOND;
            default -> Truncation.LONGEST_FIRST;
        };
        Tokenizer ours = bert.withOptions(TokenizerOptions.DEFAULTS.withTruncation(max, t));
        int compared = 0;
        for (int i = 0; i + 1 < texts.size(); i++) {
            String a = texts.get(i), b = texts.get(texts.size() - 1 - i);
            Encoding o;
            ai.djl.huggingface.tokenizers.Encoding h;
            try {
                o = ours.encode(a, b);
            } catch (IllegalArgumentException cannotFit) {
                assertThrows(RuntimeException.class, () -> hf.encode(a, b, true, false), "HF fits pair " + i);
                continue;
            }
            h = hf.encode(a, b, true, false);
            assertArrayEquals(Oracles.ints(h.getIds()), o.ids(), "ids of pair " + i);
            assertArrayEquals(Oracles.ints(h.getTypeIds()), o.typeIds(), "type ids of pair " + i);
            assertTrue(o.length() <= max);
            compared++;
        }
        assertTrue(compared > 50, "compared " + compared);
    }

    @ParameterizedTest(name = "max={0}")
    @CsvSource({"2", "5", "16", "128"})
    void singleTruncationMatchesHuggingFace(int max) throws IOException {
        HuggingFaceTokenizer hf = hf("longest_first", "false", max);
        Tokenizer ours = bert.withOptions(TokenizerOptions.DEFAULTS.withTruncation(max));
        for (String t : texts) {
            assertArrayEquals(Oracles.ints(hf.encode(t, true, false).getIds()), ours.encode(t).ids(), t);
        }
    }

    @Test
    void batchPaddingToLongestMatchesHuggingFace() throws IOException {
        HuggingFaceTokenizer hf = hf("false", "longest", 512);
        Tokenizer ours = bert.withOptions(TokenizerOptions.DEFAULTS.withPadding(Padding.LONGEST));
        List<String> batch = texts.subList(0, 40);
        var h = hf.batchEncode(batch, true, false);
        var o = ours.encodeBatch(batch);
        for (int i = 0; i < batch.size(); i++) {
            assertArrayEquals(Oracles.ints(h[i].getIds()), o.get(i).ids());
            assertArrayEquals(Oracles.ints(h[i].getAttentionMask()), o.get(i).attentionMask());
            assertArrayEquals(Oracles.ints(h[i].getTypeIds()), o.get(i).typeIds());
            assertArrayEquals(Oracles.ints(h[i].getSpecialTokenMask()), o.get(i).specialTokensMask());
        }
    }

    @Test
    void pairBatchWithTruncationAndMaxLengthPaddingMatchesHuggingFace() throws IOException {
        HuggingFaceTokenizer hf = hf("longest_first", "max_length", 24);
        Tokenizer ours = bert.withOptions(TokenizerOptions.DEFAULTS.withTruncation(24).withPadding(Padding.MAX_LENGTH));
        List<String> a = texts.subList(0, 30), b = texts.subList(30, 60);
        var h = hf.batchEncode(new PairList<>(a, b), true, false);
        var o = ours.encodeBatch(a, b);
        for (int i = 0; i < a.size(); i++) {
            assertEquals(24, o.get(i).length());
            assertArrayEquals(Oracles.ints(h[i].getIds()), o.get(i).ids());
            assertArrayEquals(Oracles.ints(h[i].getTypeIds()), o.get(i).typeIds());
            assertArrayEquals(Oracles.ints(h[i].getAttentionMask()), o.get(i).attentionMask());
        }
    }

    @Test
    void leftPaddingMirrorsRightPadding() {
        Tokenizer right = bert.withOptions(TokenizerOptions.DEFAULTS.withPadding(Padding.LONGEST));
        Tokenizer left = bert.withOptions(TokenizerOptions.DEFAULTS.withPadding(Padding.LONGEST).withPaddingSide(Side.LEFT));
        List<String> batch = List.of("short", "a somewhat longer sentence about quarterly earnings");
        Encoding r = right.encodeBatch(batch).get(0), l = left.encodeBatch(batch).get(0);
        int n = r.length(), real = r.unpaddedLength();
        assertEquals(n, l.length());
        assertArrayEquals(Arrays.copyOf(r.ids(), real), Arrays.copyOfRange(l.ids(), n - real, n));
        assertArrayEquals(Arrays.copyOf(r.startOffsets(), real), Arrays.copyOfRange(l.startOffsets(), n - real, n));
        for (int i = 0; i < n - real; i++) {
            assertEquals(bert.tokenToId("[PAD]"), l.ids()[i]);
            assertEquals(0, l.attentionMask()[i]);
            assertEquals(1, l.specialTokensMask()[i]);
        }
    }

    @Test
    void gpt2HasNoPadTokenUntilOneIsChosen() throws IOException {
        Tokenizer gpt2 = TokenizerLoader.gpt2(TestData.gpt2Vocab(), TestData.gpt2Merges());
        Tokenizer padded = gpt2.withOptions(TokenizerOptions.DEFAULTS.withPadding(Padding.LONGEST));
        var e = assertThrows(IllegalStateException.class, () -> padded.encodeBatch(List.of("a", "a b c")));
        assertTrue(e.getMessage().contains("withPadId"), e.getMessage());
        int eos = gpt2.tokenToId("<|endoftext|>");
        var batch = padded.withOptions(padded.options().withPadId(eos).withPaddingSide(Side.LEFT)).encodeBatch(List.of("a", "a b c"));
        assertEquals(eos, batch.get(0).ids()[0]);
        assertEquals(0, batch.get(0).attentionMask()[0]);
        assertArrayEquals(gpt2.encode("a b c").ids(), batch.get(1).ids(), "GPT-2 adds no special tokens");
    }

    @Test
    void gpt2PairConcatenatesWithTypeIdOne() throws IOException {
        Tokenizer gpt2 = TokenizerLoader.gpt2(TestData.gpt2Vocab(), TestData.gpt2Merges());
        var hf = Oracles.djl(Oracles.bpeTokenizerJson(TestData.gpt2Vocab(), TestData.gpt2Merges()), true);
        for (String t : texts.subList(0, 20)) {
            var h = hf.encode(t, "and the second one", true, false);
            var o = gpt2.encode(t, "and the second one");
            assertArrayEquals(Oracles.ints(h.getIds()), o.ids());
            assertArrayEquals(Oracles.ints(h.getTypeIds()), o.typeIds());
        }
    }

    @Test
    void offsetsPointIntoTheOriginalText() {
        String text = "İstanbul's STOCKS rose 5% — “great” news for café owners!";
        Encoding e = bert.encode(text);
        List<String> pieces = new ArrayList<>();
        for (int i = 0; i < e.length(); i++) {
            if (e.specialTokensMask()[i] == 0) pieces.add(text.substring(e.startOffsets()[i], e.endOffsets()[i]));
        }
        // every piece is the original (un-normalised) text of its token
        assertTrue(pieces.contains("STOCKS"), pieces.toString());   // lower-cased "stocks" is one vocabulary token
        assertTrue(pieces.contains("café"), pieces.toString());     // accent-stripped "cafe" is one token; the span keeps the é
        assertTrue(pieces.contains("“"), pieces.toString());
    }

    @Test
    void isThreadSafe() throws Exception {
        Tokenizer gpt2 = TokenizerLoader.gpt2(TestData.gpt2Vocab(), TestData.gpt2Merges());
        List<String> corpus = StressCorpus.generate(2000, 5);
        for (Tokenizer tok : List.of(bert, gpt2)) {
            List<int[]> expected = corpus.stream().map(tok::encodeIds).toList();
            Tokenizer fresh = tok.withOptions(tok.options().withAddSpecialTokens(true)); // shares caches
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<Boolean>> results = new ArrayList<>();
                for (int w = 0; w < 4; w++) {
                    final int shift = w;
                    results.add(pool.submit(() -> {
                        for (int k = 0; k < corpus.size(); k++) {
                            int i = (k + shift * 500) % corpus.size();
                            if (!Arrays.equals(expected.get(i), fresh.encodeIds(corpus.get(i)))) return false;
                        }
                        return true;
                    }));
                }
                for (Future<Boolean> f : results) assertTrue(f.get());
            } finally {
                pool.shutdown();
            }
        }
    }

    @Test
    void optionsRejectInconsistentSettings() {
        assertThrows(IllegalArgumentException.class, () -> TokenizerOptions.DEFAULTS.withPadding(Padding.MAX_LENGTH));
        assertThrows(IllegalArgumentException.class, () -> TokenizerOptions.DEFAULTS.withTruncation(-1));
        assertThrows(IllegalArgumentException.class, () -> bert.encodeBatch(List.of("a"), List.of("a", "b")));
    }
}
