package org.finsent.core.data;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locates ../shared (the real data sets, never copied into the repository) and skips a test when it is absent. */
final class SharedData {
    private SharedData() {
    }

    static final String FPB_50_DEV = "data/financial_phrasebank/Sentences_50Agree.dev.txt";
    static final String TWITTER_TRAIN = "data/twitter_financial_news/sent_train.csv";

    /** {@code $FINSENT_SHARED}, else {@code <finsent.repo.root>/../shared} (surefire sets the property to the repo root). */
    static Path sharedDir() {
        String env = System.getenv("FINSENT_SHARED");
        if (env != null && !env.isBlank()) return Path.of(env);
        String root = System.getProperty("finsent.repo.root", System.getProperty("user.dir"));
        return Path.of(root).toAbsolutePath().normalize().resolveSibling("shared");
    }

    /** The shared file, or a skipped test naming the missing path (a fresh clone has no ../shared). */
    static Path require(String relative) {
        Path p = sharedDir().resolve(relative);
        assumeTrue(Files.isRegularFile(p), () -> "shared data file not found: " + p
                + " (set FINSENT_SHARED or put shared/ beside the repository)");
        return p;
    }
}
