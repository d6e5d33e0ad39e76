package org.finsent.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.finsent.train.FineTunedModel;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The scoring job: a CSV, JSON Lines or Parquet file (or directory) of texts in, Parquet (or JSON Lines, when the
 * output's name ends in {@code .jsonl}/{@code .json}) with {@code label}, {@code confidence}, {@code scores},
 * {@code truncated} and {@code error} out. The main class for
 * {@code spark-submit}, and what {@code finsent score} runs on a local Spark.
 *
 * <pre>
 * spark-submit --class org.finsent.spark.ScoreMain finsent.jar \
 *     --model exported-model --input news.parquet --output scored.parquet --text-column headline
 * </pre>
 *
 * Without a master from {@code spark-submit} or {@code --master}, it runs on {@code local[*]}. On a cluster the
 * model directory is shipped to the executors with {@code spark.archives} ({@link ModelExport#archive}; export it first:
 * {@code finsent export}).
 */
public final class ScoreMain {
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * @param master       null: spark-submit's, else {@code local[*]}
     * @param format       csv, jsonl or parquet; null: from the input's extension
     * @param partitions   repartition the input into this many partitions (0: as read, except that a CSV file, which
     *                     is read as one partition, is spread over the default parallelism)
     */
    public record Options(Path model, String input, String output, String format, String textColumn, int batchSize,
                          int maxSeqLength, String master, int partitions, boolean overwrite) {
    }

    /** What the job did. */
    public record Summary(long rows, long errors, long truncated, double seconds) {
    }

    private ScoreMain() {
    }

    public static void main(String[] args) throws IOException {
        org.finsent.core.nn.OpenMp.preferPassiveWaits(); // the driver in local mode predicts too
        Options o;
        try {
            o = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("finsent score: " + e.getMessage());
            System.err.println(USAGE);
            System.exit(2);
            return;
        }
        Summary s = run(o, System.out);
        System.exit(s.errors() == s.rows() && s.rows() > 0 ? 1 : 0);
    }

    static final String USAGE = "usage: ScoreMain --model DIR --input FILE --output OUT.parquet|OUT.jsonl [--format csv|jsonl|parquet] "
            + "[--text-column text] [--batch-size 32] [--max-seq-length 0] [--master local[*]] [--partitions N] [--overwrite]";

    static Options parse(String[] args) {
        Path model = null;
        String input = null, output = null, format = null, text = "text", master = null;
        int batch = 32, maxLen = 0, partitions = 0;
        boolean overwrite = false;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--overwrite")) {
                overwrite = true;
                continue;
            }
            if (i + 1 >= args.length) throw new IllegalArgumentException(a + " needs a value");
            String v = args[++i];
            switch (a) {
                case "--model" -> model = Path.of(v);
                case "--input" -> input = v;
                case "--output" -> output = v;
                case "--format" -> format = v;
                case "--text-column" -> text = v;
                case "--batch-size" -> batch = Integer.parseInt(v);
                case "--max-seq-length" -> maxLen = Integer.parseInt(v);
                case "--master" -> master = v;
                case "--partitions" -> partitions = Integer.parseInt(v);
                default -> throw new IllegalArgumentException("unknown option " + a);
            }
        }
        if (model == null || input == null || output == null) throw new IllegalArgumentException("--model, --input and --output are required");
        return new Options(model, input, output, format, text, batch, maxLen, master, partitions, overwrite);
    }

    /** csv, jsonl or parquet from the extension of the input. */
    static String format(Options o) {
        if (o.format() != null) {
            String f = o.format().toLowerCase(Locale.ROOT);
            if (!List.of("csv", "jsonl", "json", "parquet").contains(f)) {
                throw new IllegalArgumentException("--format must be csv, jsonl or parquet, not " + o.format());
            }
            return f.equals("json") ? "jsonl" : f;
        }
        String name = o.input().toLowerCase(Locale.ROOT).replaceAll("/+$", "");
        if (name.endsWith(".csv") || name.endsWith(".csv.gz")) return "csv";
        if (name.endsWith(".jsonl") || name.endsWith(".json") || name.endsWith(".jsonl.gz")) return "jsonl";
        if (name.endsWith(".parquet")) return "parquet";
        throw new IllegalArgumentException("cannot tell the format of " + o.input() + ": give --format csv, jsonl or parquet");
    }

    /** json (JSON Lines) for an output named {@code *.jsonl} or {@code *.json}, else parquet. */
    static String outputFormat(String output) {
        String name = output.toLowerCase(Locale.ROOT).replaceAll("/+$", "");
        return name.endsWith(".jsonl") || name.endsWith(".json") ? "json" : "parquet";
    }

    /** Runs the job and prints a summary to {@code out}. */
    public static Summary run(Options o, PrintStream out) throws IOException {
        String format = format(o);
        if (!Files.isRegularFile(o.model().resolve(FineTunedModel.INFO_FILE))) {
            throw new IllegalArgumentException(o.model() + " is not a FinSent model directory (no finsent.json)");
        }
        // a session already running in this JVM (a caller's, or spark-submit's) is used and left running
        boolean own = SparkSession.getActiveSession().isEmpty() && SparkSession.getDefaultSession().isEmpty();
        SparkSession.Builder b = SparkSession.builder().appName("finsent score");
        org.apache.spark.SparkConf conf = new org.apache.spark.SparkConf(); // spark-submit's settings
        String master = o.master() != null ? o.master() : conf.get("spark.master", "local[*]");
        b.master(master);
        String modelPath = o.model().toAbsolutePath().toString();
        if (!(master.equals("local") || master.startsWith("local["))) { // local-cluster[...] has executor JVMs
            if (!own) throw new IllegalStateException("a Spark session is already running: ship the model with spark.archives "
                    + "(ModelExport.archive) when it is built, and use SentimentScorer directly");
            warnIfNotSelfContained(o.model(), out);
            // shipped when the session starts (spark.archives), so every executor has it before its first task
            String archive = ModelExport.archive(o.model());
            b.config("spark.archives", conf.contains("spark.archives") ? conf.get("spark.archives") + "," + archive : archive);
            modelPath = archive.substring(archive.lastIndexOf('#') + 1);
        }
        SparkSession spark = b.getOrCreate();
        try {
            Dataset<Row> in = switch (format) {
                case "csv" -> spark.read().option("header", "true").option("multiLine", "true").option("escape", "\"").csv(o.input());
                case "jsonl" -> spark.read().json(o.input());
                default -> spark.read().parquet(o.input());
            };
            int partitions = o.partitions();
            if (partitions == 0 && format.equals("csv") && in.rdd().getNumPartitions() < spark.sparkContext().defaultParallelism()) {
                // a CSV read with multiLine (texts may hold quoted newlines) is one partition per file: one task would
                // score the whole file while the other cores idle
                partitions = spark.sparkContext().defaultParallelism();
            }
            if (partitions > 0) in = in.repartition(partitions);
            SentimentScorer.Options so = new SentimentScorer.Options(modelPath, o.textColumn(), SentimentScorer.DEFAULT_OUTPUT_COLS,
                    o.batchSize(), o.maxSeqLength());
            long t0 = System.nanoTime();
            String outFormat = outputFormat(o.output());
            // JSON Lines keeps null fields, so every line carries all five prediction fields (error: null)
            SentimentScorer.score(in, so).write().mode(o.overwrite() ? SaveMode.Overwrite : SaveMode.ErrorIfExists)
                    .format(outFormat).option("ignoreNullFields", "false").save(o.output());
            double seconds = (System.nanoTime() - t0) / 1e9;
            Row counts = spark.read().format(outFormat).load(o.output()).agg(functions.count(functions.lit(1)),
                    functions.count(functions.col("error")), functions.sum(functions.col("truncated").cast("int"))).first();
            long rows = counts.getLong(0), errors = counts.getLong(1), truncated = counts.isNullAt(2) ? 0 : counts.getLong(2);
            out.printf(Locale.ROOT, "scored %,d rows in %.1f s (%.1f rows/s) into %s: %,d without a prediction (error column), "
                    + "%,d truncated%n", rows, seconds, rows / seconds, o.output(), errors, truncated);
            return new Summary(rows, errors, truncated, seconds);
        } finally {
            if (own) spark.stop();
        }
    }

    /** A PEFT directory whose base is not inside it needs the base on every executor: say so before the job fails. */
    private static void warnIfNotSelfContained(Path model, PrintStream out) throws IOException {
        JsonNode j = JSON.readTree(model.resolve(FineTunedModel.INFO_FILE).toFile());
        List<String> techniques = new ArrayList<>();
        j.path("techniques").forEach(t -> techniques.add(t.asText()));
        boolean full = techniques.contains("full") || techniques.contains("head");
        if (!full && !j.path("base_model").asText().startsWith("./")) {
            out.println("warning: " + model + " needs its base model '" + j.path("base_model").asText() + "' on every executor; "
                    + "run finsent export --model " + model + " --output DIR first and score with DIR");
        }
    }
}
