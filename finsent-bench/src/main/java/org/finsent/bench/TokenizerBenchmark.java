package org.finsent.bench;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import org.finsent.tokenizers.Tokenizer;
import org.finsent.tokenizers.TokenizerLoader;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Single-thread encode throughput on the FinancialPhraseBank + tweets text: FinSent vs Hugging Face tokenizers
 * (Rust, through DJL) vs JTokkit (r50k_base = GPT-2, BPE only). Each invocation encodes the whole corpus once; the
 * {@code tokens} counter gives tokens per second. Every tokenizer runs warm (BPE caches filled by warm-up).
 * <ul>
 *   <li>{@code *Ids}: ids only, no special tokens (what JTokkit returns);</li>
 *   <li>{@code *Full}: a full encoding with special tokens, token strings, offsets and masks (what DJL returns).</li>
 * </ul>
 * Run: {@code java -jar finsent-bench/target/benchmarks.jar TokenizerBenchmark}
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 4, time = 2)
@Measurement(iterations = 6, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g", "-Dai.djl.offline=true"})
@Threads(1)
@State(Scope.Benchmark)
public class TokenizerBenchmark {
    List<String> texts;
    Tokenizer gpt2, gpt2NoCache, bert;
    HuggingFaceTokenizer hfGpt2, hfBert;
    Encoding r50k;

    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Tokens {
        public long tokens;

        @Setup(Level.Iteration)
        public void reset() {
            tokens = 0;
        }
    }

    @Setup
    public void setup() throws IOException {
        texts = BenchData.financialTexts();
        Path s = BenchData.shared();
        Path vocab = s.resolve("models/gpt2/vocab.json"), merges = s.resolve("models/gpt2/merges.txt");
        gpt2 = TokenizerLoader.gpt2(vocab, merges);
        gpt2NoCache = TokenizerLoader.gpt2(vocab, merges).withoutCache();
        byte[] minilm;
        try (var in = TokenizerBenchmark.class.getClassLoader().getResourceAsStream("all-minilm-l6-v2-tokenizer.json")) {
            minilm = in.readAllBytes();
        }
        bert = TokenizerLoader.fromTokenizerJson(new ByteArrayInputStream(minilm), Path.of("minilm/tokenizer.json"))
                .withOptions(org.finsent.tokenizers.TokenizerOptions.DEFAULTS);
        Map<String, String> off = Map.of("truncation", "false", "padding", "false", "addSpecialTokens", "true");
        hfBert = HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(minilm), off);
        hfGpt2 = HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(gpt2TokenizerJson(vocab, merges)), off);
        r50k = Encodings.newDefaultEncodingRegistry().getEncoding(EncodingType.R50K_BASE);
    }

    /** GPT-2's tokenizer.json (as the Hugging Face hub has it) around vocab.json + merges.txt. */
    static byte[] gpt2TokenizerJson(Path vocab, Path merges) throws IOException {
        StringBuilder m = new StringBuilder();
        var mapper = new com.fasterxml.jackson.databind.ObjectMapper();
        for (String line : Files.readAllLines(merges, StandardCharsets.UTF_8)) {
            if (line.startsWith("#version") || line.isEmpty()) continue;
            m.append(m.length() == 0 ? "" : ",").append(mapper.writeValueAsString(line));
        }
        String json = "{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,"
                + "\"added_tokens\":[{\"id\":50256,\"content\":\"<|endoftext|>\",\"single_word\":false,\"lstrip\":false,"
                + "\"rstrip\":false,\"normalized\":true,\"special\":true}],\"normalizer\":null,"
                + "\"pre_tokenizer\":{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"trim_offsets\":true,\"use_regex\":true},"
                + "\"post_processor\":{\"type\":\"ByteLevel\",\"add_prefix_space\":true,\"trim_offsets\":false,\"use_regex\":true},"
                + "\"decoder\":{\"type\":\"ByteLevel\",\"add_prefix_space\":true,\"trim_offsets\":true,\"use_regex\":true},"
                + "\"model\":{\"type\":\"BPE\",\"dropout\":null,\"unk_token\":null,\"continuing_subword_prefix\":\"\","
                + "\"end_of_word_suffix\":\"\",\"fuse_unk\":false,\"byte_fallback\":false,\"vocab\":"
                + Files.readString(vocab, StandardCharsets.UTF_8) + ",\"merges\":[" + m + "]}}";
        return json.getBytes(StandardCharsets.UTF_8);
    }

    // ---------------------------------------------------------------- GPT-2 byte-level BPE

    @Benchmark
    public void bpeIdsFinSent(Tokens t) {
        for (String s : texts) t.tokens += gpt2.encodeIds(s).length;
    }

    /** The merge loop itself: no piece cache at all (a worst case no real workload hits). */
    @Benchmark
    public void bpeIdsFinSentNoCache(Tokens t) {
        for (String s : texts) t.tokens += gpt2NoCache.encodeIds(s).length;
    }

    @Benchmark
    public void bpeIdsJTokkit(Tokens t) {
        for (String s : texts) t.tokens += r50k.encodeOrdinary(s).size();
    }

    @Benchmark
    public void bpeFullFinSent(Tokens t) {
        for (String s : texts) t.tokens += gpt2.encode(s).length();
    }

    @Benchmark
    public void bpeFullHuggingFace(Tokens t) {
        for (String s : texts) t.tokens += hfGpt2.encode(s).getIds().length;
    }

    // ---------------------------------------------------------------- BERT WordPiece

    @Benchmark
    public void wordPieceIdsFinSent(Tokens t) {
        for (String s : texts) t.tokens += bert.encodeIds(s).length;
    }

    @Benchmark
    public void wordPieceFullFinSent(Tokens t) {
        for (String s : texts) t.tokens += bert.encode(s).length();
    }

    @Benchmark
    public void wordPieceFullHuggingFace(Tokens t) {
        for (String s : texts) t.tokens += hfBert.encode(s).getIds().length;
    }
}
