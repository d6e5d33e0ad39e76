package org.finsent.study;

import org.finsent.core.data.BadRowPolicy;
import org.finsent.core.data.Example;
import org.finsent.core.data.FinancialPhraseBank;
import org.finsent.core.data.Splits;
import org.finsent.core.data.TwitterFinancialNews;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * A data set of the grid and the study's own held-out split of it: stratified 80 % train / 10 % validation (best
 * model selection) / 10 % test (the reported numbers), duplicate texts never straddling splits, fixed seed.
 *
 * @param name  short name used for directories and tables ({@code fpb}, {@code tweets}, ...)
 * @param spec  the spec it was loaded from
 * @param split the three splits
 */
public record StudyData(String name, String spec, Splits.Result split) {
    public static final double TRAIN_FRACTION = 0.8, VALIDATION_FRACTION = 0.1;
    static final String FPB_DEV = "data/financial_phrasebank/Sentences_50Agree.dev.txt";
    static final String TWEETS_TRAIN = "data/twitter_financial_news/sent_train.csv";

    /** Reads examples for a spec; {@link StudyRunner} uses this seam so tests can feed data without files. */
    @FunctionalInterface
    public interface Reader {
        List<Example> read(String spec) throws IOException;
    }

    /**
     * {@code fpb[:PATH]} (FinancialPhraseBank {@code sentence@label} file; default the shared 50 %-agreement
     * development file) or {@code tweets[:PATH]} (Twitter Financial News CSV; default the shared {@code sent_train.csv}).
     */
    public static List<Example> read(String spec) throws IOException {
        String kind = kind(spec);
        String path = spec.contains(":") ? spec.substring(spec.indexOf(':') + 1) : null;
        return switch (kind) {
            case "fpb" -> FinancialPhraseBank.read(file(path, FPB_DEV), FinancialPhraseBank.Charset.AUTO, BadRowPolicy.FAIL).examples();
            case "tweets" -> TwitterFinancialNews.read(file(path, TWEETS_TRAIN)).examples();
            default -> throw new IllegalArgumentException("unknown data set '" + spec + "': use fpb[:PATH] or tweets[:PATH]");
        };
    }

    /** The name a spec gets in directories and tables: the part before ':'. */
    public static String kind(String spec) {
        String s = spec.strip();
        int colon = s.indexOf(':');
        return (colon < 0 ? s : s.substring(0, colon)).toLowerCase(java.util.Locale.ROOT);
    }

    /** Reads, optionally takes a stratified sample of {@code sampleSize} examples, and splits 80/10/10. */
    public static StudyData load(Reader reader, String spec, Integer sampleSize, long seed) throws IOException {
        List<Example> all = reader.read(spec);
        if (all.isEmpty()) throw new IOException(spec + ": no examples");
        if (sampleSize != null && sampleSize < all.size()) {
            all = Splits.stratified(all, (double) sampleSize / all.size(), 0, seed).train();
        }
        return new StudyData(kind(spec), spec, Splits.stratified(all, TRAIN_FRACTION, VALIDATION_FRACTION, seed));
    }

    private static Path file(String path, String sharedRelative) throws NoSuchFileException {
        Path p = path != null && !path.isBlank() ? Path.of(path) : sharedDir().resolve(sharedRelative);
        if (!Files.isRegularFile(p)) {
            throw new NoSuchFileException(p.toString(), null, "data file not found (give fpb:PATH / tweets:PATH, or set "
                    + "FINSENT_SHARED to the folder holding " + sharedRelative + ")");
        }
        return p;
    }

    /** {@code $FINSENT_SHARED}, else {@code shared} beside the repository root ({@code finsent.repo.root}), else {@code ../shared}. */
    static Path sharedDir() {
        String env = System.getenv("FINSENT_SHARED");
        if (env != null && !env.isBlank()) return Path.of(env);
        String root = System.getProperty("finsent.repo.root");
        if (root != null) return Path.of(root).toAbsolutePath().normalize().resolveSibling("shared");
        return Path.of("").toAbsolutePath().resolveSibling("shared");
    }
}
