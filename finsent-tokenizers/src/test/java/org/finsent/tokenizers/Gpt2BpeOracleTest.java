package org.finsent.tokenizers;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import org.finsent.tokenizers.bpe.ByteLevelBpeTokenizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * GPT-2 byte-level BPE against Hugging Face's Rust tokenizers (DJL, built from the real vocab.json + merges.txt)
 * and JTokkit's r50k_base, on every FinancialPhraseBank sentence, every tweet and the Unicode stress corpus.
 * Zero mismatches is the bar.
 */
class Gpt2BpeOracleTest {
    static ByteLevelBpeTokenizer ours;
    static HuggingFaceTokenizer hf;
    static Encoding r50k;
    static List<String> corpus;

    static String missing;

    @BeforeAll
    static void load() throws IOException {
        java.nio.file.Path vocab = TestData.sharedDir().resolve("models/gpt2/vocab.json");
        if (!java.nio.file.Files.isRegularFile(vocab)) {
            missing = "SKIPPED: oracle input " + vocab + " is missing (set FINSENT_SHARED or put shared/ beside the repository)";
            return;
        }
        ours = TokenizerLoader.gpt2(TestData.gpt2Vocab(), TestData.gpt2Merges());
        hf = Oracles.djl(Oracles.bpeTokenizerJson(TestData.gpt2Vocab(), TestData.gpt2Merges()), false);
        r50k = Encodings.newDefaultEncodingRegistry().getEncoding(EncodingType.R50K_BASE);
        corpus = new ArrayList<>();
        corpus.addAll(TestData.fpbSentences());
        corpus.addAll(TestData.tweets());
        corpus.addAll(StressCorpus.generate(3000, 42));
    }

    @org.junit.jupiter.api.BeforeEach
    void requireSharedFiles() {
        org.junit.jupiter.api.Assumptions.assumeTrue(missing == null, missing);
    }

    /** What DJL can carry to Rust: well-formed Unicode only (a lone surrogate is not a Rust string). */
    static List<String> wellFormed() {
        return corpus.stream().filter(StressCorpus::wellFormed).toList();
    }

    @Test
    void idsMatchHuggingFace() {
        int n = OracleComparison.compare("GPT-2 ids vs HF tokenizers", wellFormed(), ours::encodeIds,
                t -> Oracles.ints(hf.encode(t, false, false).getIds()));
        assertTrue(n > 3875 + 9543, "compared the whole corpus");
    }

    @Test
    void idsMatchJTokkit() {
        // JTokkit treats "<|endoftext|>" in text as plain text; HF (and FinSent) match it as the special token.
        List<String> plain = wellFormed().stream().filter(t -> !t.contains("<|endoftext|>")).toList();
        OracleComparison.compare("GPT-2 ids vs JTokkit r50k_base", plain, ours::encodeIds,
                t -> r50k.encodeOrdinary(t).toArray());
    }

    @Test
    void uncachedMergesGiveTheSameIds() {
        ByteLevelBpeTokenizer fresh = ours.withoutCache();
        OracleComparison.compare("GPT-2 ids without cache vs HF", wellFormed(), fresh::encodeIds,
                t -> Oracles.ints(hf.encode(t, false, false).getIds()));
    }

    @Test
    void offsetsMatchHuggingFace() {
        // DJL reports offsets in code points; ours are UTF-16 indices, converted here.
        OracleComparison.compare("GPT-2 offsets vs HF tokenizers", wellFormed(), t -> {
            org.finsent.tokenizers.Encoding e = ours.encode(t);
            int[][] spans = new int[e.length()][];
            for (int i = 0; i < spans.length; i++) {
                spans[i] = new int[]{t.codePointCount(0, e.startOffsets()[i]), t.codePointCount(0, e.endOffsets()[i])};
            }
            return spans;
        }, t -> {
            var spans = hf.encode(t, false, false).getCharTokenSpans();
            int[][] out = new int[spans.length][];
            for (int i = 0; i < spans.length; i++) out[i] = new int[]{spans[i].getStart(), spans[i].getEnd()};
            return out;
        });
    }

    @Test
    void decodeRoundTripsEveryWellFormedString() {
        OracleComparison.compare("decode(encode(s)) == s", wellFormed(), t -> ours.decode(ours.encodeIds(t)), t -> t);
    }

    @Test
    void decodeMatchesHuggingFaceOnTokenSlices() {
        // A slice of a token sequence may cut multi-byte characters: both must decode those bytes the same way.
        List<String> texts = wellFormed().stream().filter(t -> !t.isEmpty()).toList();
        OracleComparison.compare("decode of token slices vs HF", texts,
                t -> ours.decode(slice(ours.encodeIds(t), t)),
                t -> hf.decode(java.util.Arrays.stream(slice(ours.encodeIds(t), t)).asLongStream().toArray(), false));
    }

    /** A deterministic non-empty slice of {@code ids}, chosen from the text's hash. */
    static int[] slice(int[] ids, String t) {
        if (ids.length == 0) return ids;
        int h = t.hashCode() & 0x7fffffff;
        int from = h % ids.length;
        int to = from + 1 + (h >>> 8) % (ids.length - from);
        return java.util.Arrays.copyOfRange(ids, from, to);
    }

    @Test
    void endOfTextIsMatchedWholeAsTheSpecialToken() {
        int eot = ours.tokenToId("<|endoftext|>");
        assertEquals(50256, eot, "GPT-2's vocab.json puts <|endoftext|> last");
        String text = "Hello<|endoftext|>world";
        int[] ids = ours.encodeIds(text);
        assertEquals(java.util.Arrays.toString(Oracles.ints(hf.encode(text, false, false).getIds())),
                java.util.Arrays.toString(ids));
        // the pieces around it are ordinary BPE (JTokkit as second opinion)
        int[] hello = r50k.encodeOrdinary("Hello").toArray(), world = r50k.encodeOrdinary("world").toArray();
        assertEquals(hello.length + 1 + world.length, ids.length);
        assertEquals(eot, ids[hello.length]);
    }
}
