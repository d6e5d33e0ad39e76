package org.finsent.core.oracle;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** FinancialPhraseBank sentences from ../shared when present, else a few built-in financial sentences. */
final class FinancialSentences {
    private FinancialSentences() {
    }

    static final List<String> BUILT_IN = List.of(
            "Operating profit rose to EUR 13.1 mn from EUR 8.7 mn in the corresponding period in 2007 .",
            "Shares of the company fell 3 % after it cut its full-year outlook .",
            "The board proposes a dividend of EUR 0.20 per share .",
            "Net sales decreased by 5.2 % to EUR 1,234 million .",
            "Nokia said it will cut 1,700 jobs.",
            "Finnish Talentum reports its operating profit increased to EUR 20.5 mn in 2005 from EUR 9.3 mn in 2004 .",
            "The contract value amounts to about EUR 11 million .",
            "$AAPL beats estimates; guidance raised");

    static Path sharedDir() {
        String env = System.getenv("FINSENT_SHARED");
        if (env != null && !env.isBlank()) return Path.of(env);
        String root = System.getProperty("finsent.repo.root", System.getProperty("user.dir"));
        return Path.of(root).toAbsolutePath().normalize().resolveSibling("shared");
    }

    /** Up to {@code n} FinancialPhraseBank sentences (the first ones), or the built-in ones without ../shared. */
    static List<String> load(int n) {
        Path p = sharedDir().resolve("data/financial_phrasebank/Sentences_50Agree.dev.txt");
        if (!Files.isRegularFile(p)) {
            System.err.println("FinancialPhraseBank not found at " + p + "; using " + BUILT_IN.size() + " built-in sentences");
            return BUILT_IN;
        }
        try {
            List<String> out = new ArrayList<>();
            for (String line : Files.readAllLines(p, StandardCharsets.ISO_8859_1)) {
                int at = line.lastIndexOf('@');
                if (at > 0) out.add(line.substring(0, at));
                if (out.size() == n) break;
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
