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
import java.io.InputStream;
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
 * Without a PATH, {@code fpb} and {@code tweets} are looked for, in this order: under {@code $FINSENT_DATA}
 * ({@code financial_phrasebank/}, {@code twitter_financial_news/}); in the Hugging Face cache (what
 * {@code finsent download} or Python's {@code huggingface_hub} fetched); and last the embedded copies on the
 * class path ({@code finsent-data}: FinancialPhraseBank's development part, a subset, and the tweets' train split).
 * One INFO line names the source used. A missing file gives one message naming what to download and where to put it.
 */
public final class DataSources {
    public static final String FPB_HUB = "takala/financial_phrasebank", FPB_ZIP = "FinancialPhraseBank-v1.0.zip";
    public static final String TWEETS_HUB = "zeroshot/twitter-financial-news-sentiment", TWEETS_CSV = "sent_train.csv";
    public static final String FPB_DIR = "financial_phrasebank", TWEETS_DIR = "twitter_financial_news";
    /** The embedded copies ({@code finsent-data}): class path resources, found without a dependency on that module. */
    public static final String EMBEDDED_FPB = "org/finsent/data/Sentences_50Agree.dev.txt",
            EMBEDDED_TWEETS = "org/finsent/data/sent_train.csv";
    static final String EMBEDDED = "the embedded copy (finsent-data)";
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(DataSources.class);

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
    /**
     * @param source the file (or class-path resource) read
     * @param origin which source in the resolution order it was ("$FINSENT_DATA", "the embedded copy …"), or null
     */
    public record Loaded(String spec, Dataset dataset, List<String> labelNames, String source, String origin) {
        public Loaded(String spec, Dataset dataset, List<String> labelNames, String source) {
            this(spec, dataset, labelNames, source, null);
        }

        /** {@code source}, with its origin when known: what a run's output names as its data. */
        public String describe() {
            return origin == null ? source : source + " from " + origin;
        }
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
            case "fpb" -> arg != null ? logged(s, readFpb(fpbFile(Path.of(arg), o.agreement()), o), "the path given")
                    : defaultFpb(s, o);
            case "tweets" -> {
                if (arg == null) yield defaultTweets(s, o);
                Path p = Path.of(arg);
                if (Files.isDirectory(p)) p = p.resolve(TWEETS_CSV);
                if (!Files.isRegularFile(p)) throw missing(p, "the Twitter Financial News Sentiment file " + TWEETS_CSV,
                        "https://huggingface.co/datasets/" + TWEETS_HUB, "hf:" + TWEETS_HUB);
                yield logged(s, new Loaded(s, TwitterFinancialNews.read(p, o.policy()), sentiment, p.toString()), "the path given");
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

    private static Loaded readFpb(Path p, Options o) throws IOException {
        Dataset d = p.getFileName().toString().endsWith(".zip")
                ? FinancialPhraseBank.readZip(p, o.agreement(), FinancialPhraseBank.Charset.AUTO, o.policy())
                : FinancialPhraseBank.read(p, FinancialPhraseBank.Charset.AUTO, o.policy());
        return new Loaded("fpb", d, List.of(Sentiment.labels()), p.toString());
    }

    // ------------------------------------------------------------------------------------------ default sources

    /**
     * {@code fpb} without a path: {@code $FINSENT_DATA/financial_phrasebank/}, then the hub cache's
     * {@code takala/financial_phrasebank} zip, then the embedded development part ({@code finsent-data} on the class path, 50 % agreement only).
     */
    private static Loaded defaultFpb(String spec, Options o) throws IOException {
        String env = Env.nonBlank("FINSENT_DATA");
        if (env != null) {
            Path p = fpbFileOrNull(Path.of(env).resolve(FPB_DIR), o.agreement());
            if (p != null) return logged(spec, readFpb(p, o), "$FINSENT_DATA");
        }
        Path zip = hubCached(FPB_HUB, "data/" + FPB_ZIP);
        if (zip != null) return logged(spec, readFpb(zip, o), "the Hugging Face cache (finsent download)");
        if (o.agreement() == FinancialPhraseBank.Agreement.AGREE_50) {
            try (InputStream in = DataSources.class.getClassLoader().getResourceAsStream(EMBEDDED_FPB)) {
                if (in != null) {
                    Dataset d = FinancialPhraseBank.read(in, EMBEDDED_FPB, FinancialPhraseBank.Charset.AUTO, o.policy());
                    return logged(spec, new Loaded(spec, d, List.of(Sentiment.labels()), "classpath:" + EMBEDDED_FPB),
                            EMBEDDED + " (FinancialPhraseBank's development part: " + d.examples().size()
                                    + " of the 4,846 sentences, a subset; the full set: finsent download --dataset hf:"
                                    + FPB_HUB + ")");
                }
            }
        }
        throw notFound("FinancialPhraseBank (" + FPB_ZIP + " or its " + o.agreement().fileName() + ")", FPB_DIR, FPB_HUB,
                o.agreement() == FinancialPhraseBank.Agreement.AGREE_50 ? null
                        : "the embedded development part has the 50 % agreement level only");
    }

    /** {@code tweets} without a path: the same order as {@link #defaultFpb}. */
    private static Loaded defaultTweets(String spec, Options o) throws IOException {
        List<String> sentiment = List.of(Sentiment.labels());
        String env = Env.nonBlank("FINSENT_DATA");
        if (env != null) {
            Path p = Path.of(env).resolve(TWEETS_DIR).resolve(TWEETS_CSV);
            if (Files.isRegularFile(p)) return logged(spec, new Loaded(spec, TwitterFinancialNews.read(p, o.policy()), sentiment,
                    p.toString()), "$FINSENT_DATA");
        }
        Path csv = hubCached(TWEETS_HUB, TWEETS_CSV);
        if (csv != null) return logged(spec, new Loaded(spec, TwitterFinancialNews.read(csv, o.policy()), sentiment, csv.toString()),
                "the Hugging Face cache (finsent download)");
        try (InputStream in = DataSources.class.getClassLoader().getResourceAsStream(EMBEDDED_TWEETS)) {
            if (in != null) {
                Dataset d = TwitterFinancialNews.reader(o.policy()).read(in.readAllBytes(), EMBEDDED_TWEETS);
                return logged(spec, new Loaded(spec, d, sentiment, "classpath:" + EMBEDDED_TWEETS),
                        EMBEDDED + " (Twitter Financial News Sentiment's train split, " + d.examples().size() + " tweets)");
            }
        }
        throw notFound("the Twitter Financial News Sentiment file " + TWEETS_CSV, TWEETS_DIR, TWEETS_HUB, null);
    }

    /** Logs the one line that names where the data came from. */
    private static Loaded logged(String spec, Loaded l, String origin) {
        Loaded out = new Loaded(spec, l.dataset(), l.labelNames(), l.source(), origin);
        LOG.info("data '{}': {}", spec, out.describe());
        return out;
    }

    /** A data set file already in the Hugging Face cache (Python's layout, revision main), without asking the hub. */
    static Path hubCached(String repoId, String file) {
        HfHub env = HfHub.fromEnvironment();
        String cache = Env.nonBlank("HF_HUB_CACHE");
        HfHub cacheOnly = new HfHub(env.endpoint(), cache != null ? Path.of(cache) : env.cacheDir(), true, null);
        try {
            return cacheOnly.download(HfHub.RepoType.DATASET, repoId, null, file);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static Path fpbFileOrNull(Path dir, FinancialPhraseBank.Agreement agreement) {
        if (!Files.isDirectory(dir)) return null;
        try {
            return fpbFile(dir, agreement);
        } catch (IOException e) {
            return null;
        }
    }

    private static NoSuchFileException notFound(String what, String folder, String hubId, String note) {
        String env = Env.nonBlank("FINSENT_DATA");
        return new NoSuchFileException(folder, null, "not found" + (note == null ? "" : " (" + note + ")") + ". Looked in "
                + (env == null ? "$FINSENT_DATA (not set)" : Path.of(env).resolve(folder) + " ($FINSENT_DATA)")
                + ", the Hugging Face cache and the class path (the finsent-data jar holds an embedded copy). Fetch "
                + what + " with: finsent download --dataset hf:" + hubId + " (or from https://huggingface.co/datasets/"
                + hubId + " into $FINSENT_DATA/" + folder + "/), or name a file: " + (folder.equals(FPB_DIR) ? "fpb" : "tweets")
                + ":PATH");
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

}
