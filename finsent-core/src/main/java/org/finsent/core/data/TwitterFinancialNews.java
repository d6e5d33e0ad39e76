package org.finsent.core.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * Reads Twitter Financial News Sentiment ({@code zeroshot/twitter-financial-news-sentiment}, MIT licence):
 * {@code sent_train.csv} / {@code sent_valid.csv}, header {@code text,label}, UTF-8, quoted tweets that contain
 * commas and line breaks.
 *
 * <p>The file's label ids are <b>not</b> the study's: it uses {@code 0 = Bearish, 1 = Bullish, 2 = Neutral},
 * while the project uses {@link Sentiment} ({@code 0 negative, 1 neutral, 2 positive}). Training on the raw ids
 * would silently swap neutral and positive, so this reader always remaps them ({@link #LABELS}).
 */
public final class TwitterFinancialNews {

    private TwitterFinancialNews() {
    }

    /** File label to {@link Sentiment#id()}: 0 Bearish → NEGATIVE, 1 Bullish → POSITIVE, 2 Neutral → NEUTRAL. */
    public static final Map<String, Integer> LABELS = Map.of(
            "0", Sentiment.NEGATIVE.id(),
            "1", Sentiment.POSITIVE.id(),
            "2", Sentiment.NEUTRAL.id());

    /** The reader this class configures, for callers who need to read bytes rather than a file. */
    public static CsvDataset reader(BadRowPolicy policy) {
        return CsvDataset.builder().textColumn("text").labelColumn("label").labels(LABELS).badRowPolicy(policy).build();
    }

    /** Reads a split file, failing on the first bad row. */
    public static Dataset read(Path csv) throws IOException {
        return read(csv, BadRowPolicy.FAIL);
    }

    public static Dataset read(Path csv, BadRowPolicy policy) throws IOException {
        return reader(policy).read(csv);
    }
}
