package org.finsent.bench;

import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVRecord;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Benchmark inputs from {@code $FINSENT_SHARED} (default {@code ../shared}); fails clearly when absent. */
public final class BenchData {
    private BenchData() {
    }

    public static Path shared() {
        String env = System.getenv("FINSENT_SHARED");
        Path p = env != null && !env.isBlank() ? Path.of(env) : findShared();
        if (!Files.isDirectory(p)) {
            throw new IllegalStateException("benchmark data not found at " + p + ": set FINSENT_SHARED to the shared/ directory");
        }
        return p;
    }

    private static Path findShared() {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            if (Files.isDirectory(d.resolve("finsent-tokenizers"))) return d.resolveSibling("shared");
        }
        return Path.of("../shared").toAbsolutePath().normalize();
    }

    /** Every FinancialPhraseBank sentence and every tweet: the text users of this library tokenize. */
    public static List<String> financialTexts() throws IOException {
        Path s = shared();
        List<String> out = new ArrayList<>();
        for (String line : Files.readAllLines(s.resolve("data/financial_phrasebank/Sentences_50Agree.dev.txt"), StandardCharsets.ISO_8859_1)) {
            int at = line.lastIndexOf('@');
            if (at > 0) out.add(line.substring(0, at));
        }
        try (Reader r = Files.newBufferedReader(s.resolve("data/twitter_financial_news/sent_train.csv"), StandardCharsets.UTF_8)) {
            for (CSVRecord rec : CSVFormat.DEFAULT.builder().setHeader().setSkipHeaderRecord(true).get().parse(r)) {
                out.add(rec.get("text"));
            }
        }
        return out;
    }
}
