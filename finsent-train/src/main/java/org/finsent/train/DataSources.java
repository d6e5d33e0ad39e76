package org.finsent.train;

import org.finsent.core.data.BadRowPolicy;
import org.finsent.core.data.CsvDataset;
import org.finsent.core.data.Dataset;
import org.finsent.core.data.FinancialPhraseBank;
import org.finsent.core.data.JsonlDataset;
import org.finsent.core.data.Sentiment;
import org.finsent.core.data.TwitterFinancialNews;
import org.finsent.core.hub.HfHub;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Turns a data spec into labelled examples. Specs:
 * <ul>
 *   <li>{@code fpb[:PATH]}: FinancialPhraseBank; PATH is a {@code Sentences_*Agree.txt} file, the downloaded
 *       {@code FinancialPhraseBank-v1.0.zip}, or a folder holding either (the agreement level picks the file;
 *       a {@code .dev.txt} variant is accepted);</li>
 *   <li>{@code tweets[:PATH]}: Twitter Financial News Sentiment, {@code sent_train.csv} or a folder holding it;</li>
 *   <li>{@code csv:PATH}, {@code jsonl:PATH}: any labelled file, with {@link Options} naming the text and label
 *       columns and the label values;</li>
 *   <li>{@code hf:takala/financial_phrasebank} (the zip, {@code data/FinancialPhraseBank-v1.0.zip}) and
 *       {@code hf:zeroshot/twitter-financial-news-sentiment} ({@code sent_train.csv}), from the Hugging Face hub.</li>
 * </ul>
 * Without a PATH, files are looked for under {@link #dataDir()}: {@code financial_phrasebank/} and
 * {@code twitter_financial_news/}. A missing file gives one message naming what to download and where to put it.
 */
public final class DataSources {
    public static final String FPB_HUB = "takala/financial_phrasebank", FPB_ZIP = "FinancialPhraseBank-v1.0.zip";
    public static final String TWEETS_HUB = "zeroshot/twitter-financial-news-sentiment", TWEETS_CSV = "sent_train.csv";
    public static final String FPB_DIR = "financial_phrasebank", TWEETS_DIR = "twitter_financial_news";

    private DataSources() {
    }

    /**
     * Reading options.
     *
     * @param agreement   FinancialPhraseBank agreement level
     * @param textColumn  csv/jsonl: the text column (field)
     * @param labelColumn csv/jsonl: the label column (field)
     * @param labelNames  class names by id (csv/jsonl; FinancialPhraseBank and tweets always use negative, neutral, positive)
     * @param labelValues csv/jsonl: how each class appears in the file, by id (null: the names themselves)
     * @param policy      bad rows: fail (default) or skip with a count
     */
    public record Options(FinancialPhraseBank.Agreement agreement, String textColumn, String labelColumn,
                          List<String> labelNames, List<String> labelValues, BadRowPolicy policy) {
        public Options {
            Objects.requireNonNull(agreement, "agreement");
            labelNames = List.copyOf(labelNames);
            if (labelValues != null && labelValues.size() != labelNames.size()) {
                throw new IllegalArgumentException(labelValues.size() + " label values " + labelValues + " for "
                        + labelNames.size() + " labels " + labelNames);
            }
        }

        public static Options defaults() {
            return new Options(FinancialPhraseBank.Agreement.AGREE_50, "text", "label", List.of(Sentiment.labels()), null,
                    BadRowPolicy.FAIL);
        }

        public Options withAgreement(FinancialPhraseBank.Agreement a) {
            return new Options(a, textColumn, labelColumn, labelNames, labelValues, policy);
        }
    }

    /** Examples and the label names their ids refer to. */
    public record Loaded(String spec, Dataset dataset, List<String> labelNames, String source) {
    }

    /** {@code 50}, {@code 66}, {@code 75} or {@code all}. */
    public static FinancialPhraseBank.Agreement agreement(String s) {
        return switch (s.strip().toLowerCase(java.util.Locale.ROOT)) {
            case "50" -> FinancialPhraseBank.Agreement.AGREE_50;
            case "66" -> FinancialPhraseBank.Agreement.AGREE_66;
            case "75" -> FinancialPhraseBank.Agreement.AGREE_75;
            case "all", "100" -> FinancialPhraseBank.Agreement.ALL;
            default -> throw new IllegalArgumentException("agreement must be 50, 66, 75 or all, got '" + s + "'");
        };
    }

    public static Loaded load(String spec, Options o) throws IOException {
        if (spec == null || spec.isBlank()) throw new IllegalArgumentException("no data given");
        String s = spec.strip();
        int colon = s.indexOf(':');
        String kind = colon < 0 ? s : s.substring(0, colon);
        String arg = colon < 0 ? null : s.substring(colon + 1);
        List<String> sentiment = List.of(Sentiment.labels());
        return switch (kind) {
            case "fpb" -> {
                Path p = fpbFile(arg == null ? dataDir().resolve(FPB_DIR) : Path.of(arg), o.agreement());
                yield new Loaded(s, readFpb(p, o), sentiment, p.toString());
            }
            case "tweets" -> {
                Path p = arg == null ? dataDir().resolve(TWEETS_DIR) : Path.of(arg);
                if (Files.isDirectory(p)) p = p.resolve(TWEETS_CSV);
                if (!Files.isRegularFile(p)) throw missing(p, "the Twitter Financial News Sentiment file " + TWEETS_CSV,
                        "https://huggingface.co/datasets/" + TWEETS_HUB, "hf:" + TWEETS_HUB);
                yield new Loaded(s, TwitterFinancialNews.read(p, o.policy()), sentiment, p.toString());
            }
            case "csv", "jsonl" -> {
                if (arg == null) throw new IllegalArgumentException(kind + ": needs a file: " + kind + ":PATH");
                Path p = Path.of(arg);
                if (!Files.isRegularFile(p)) throw new NoSuchFileException(p.toString(), null, "no such " + kind + " file");
                Dataset d = kind.equals("csv")
                        ? CsvDataset.builder().textColumn(o.textColumn()).labelColumn(o.labelColumn()).labels(labelMap(o))
                            .badRowPolicy(o.policy()).build().read(p)
                        : JsonlDataset.builder().textField(o.textColumn()).labelField(o.labelColumn()).labels(labelMap(o))
                            .badRowPolicy(o.policy()).build().read(p);
                yield new Loaded(s, d, o.labelNames(), p.toString());
            }
            case "hf" -> hub(s, arg, o);
            default -> throw new IllegalArgumentException("unknown data '" + s + "': use fpb[:PATH], tweets[:PATH], csv:PATH, "
                    + "jsonl:PATH, hf:" + FPB_HUB + " or hf:" + TWEETS_HUB);
        };
    }

    private static Loaded hub(String spec, String ref, Options o) throws IOException {
        HfHub.Source src = HfHub.Source.parse(ref); // org/name[@revision], the same rules as model specs
        String id = src.repoId();
        HfHub hub = HfHub.fromEnvironment();
        if (FPB_HUB.equals(id)) {
            Path zip = hub.download(HfHub.RepoType.DATASET, id, src.revision(), "data/" + FPB_ZIP);
            return new Loaded(spec, FinancialPhraseBank.readZip(zip, o.agreement(), FinancialPhraseBank.Charset.AUTO, o.policy()),
                    List.of(Sentiment.labels()), zip.toString());
        }
        if (TWEETS_HUB.equals(id)) {
            Path csv = hub.download(HfHub.RepoType.DATASET, id, src.revision(), TWEETS_CSV);
            return new Loaded(spec, TwitterFinancialNews.read(csv, o.policy()), List.of(Sentiment.labels()), csv.toString());
        }
        throw new IllegalArgumentException("hub data sets known: hf:" + FPB_HUB + ", hf:" + TWEETS_HUB + "; for another, "
                + "download its file and use csv:PATH or jsonl:PATH");
    }

    /** The FinancialPhraseBank file for a path: the file itself, or in a folder the zip or the agreement's text file. */
    static Path fpbFile(Path p, FinancialPhraseBank.Agreement agreement) throws IOException {
        if (Files.isRegularFile(p)) return p;
        if (Files.isDirectory(p)) {
            String txt = agreement.fileName();
            for (String name : List.of(txt, txt.replace(".txt", ".dev.txt"), FPB_ZIP)) {
                if (Files.isRegularFile(p.resolve(name))) return p.resolve(name);
            }
        }
        throw missing(p, "FinancialPhraseBank (" + FPB_ZIP + ", file data/" + FPB_ZIP + " of the data set, or its "
                + agreement.fileName() + ")", "https://huggingface.co/datasets/" + FPB_HUB, "hf:" + FPB_HUB);
    }

    private static Dataset readFpb(Path p, Options o) throws IOException {
        if (p.getFileName().toString().endsWith(".zip")) {
            return FinancialPhraseBank.readZip(p, o.agreement(), FinancialPhraseBank.Charset.AUTO, o.policy());
        }
        return FinancialPhraseBank.read(p, FinancialPhraseBank.Charset.AUTO, o.policy());
    }

    private static Map<String, Integer> labelMap(Options o) {
        List<String> values = o.labelValues() != null ? o.labelValues() : o.labelNames();
        Map<String, Integer> m = new LinkedHashMap<>();
        for (int i = 0; i < values.size(); i++) {
            if (m.put(values.get(i), i) != null) throw new IllegalArgumentException("label value '" + values.get(i) + "' given twice");
        }
        return m;
    }

    private static NoSuchFileException missing(Path where, String what, String url, String hubSpec) {
        return new NoSuchFileException(where.toString(), null, "not found. Download " + what + " from " + url + " and put it in "
                + (Files.isDirectory(where) || where.getFileName().toString().indexOf('.') < 0 ? where : where.getParent())
                + " (or set FINSENT_DATA to the folder holding " + FPB_DIR + "/ and " + TWEETS_DIR + "/), or let finsent "
                + "download it: --data " + hubSpec);
    }

    /** {@code $FINSENT_DATA}, else {@code <shared>/data} ({@link ModelSources#sharedDir()}). */
    public static Path dataDir() {
        String env = System.getenv("FINSENT_DATA");
        if (env != null && !env.isBlank()) return Path.of(env);
        return ModelSources.sharedDir().resolve("data");
    }
}
