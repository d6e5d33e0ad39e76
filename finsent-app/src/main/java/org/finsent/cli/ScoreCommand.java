package org.finsent.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code finsent score}: the Spark scoring job ({@code org.finsent.spark.ScoreMain}) on a local Spark. finsent.jar
 * does not contain Spark; the command runs when Spark's jars are on the class path (docs/SPARK.md).
 */
@Command(name = "score", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Score a CSV, JSON Lines or Parquet file of texts on Apache Spark (local[*] by default) into Parquet "
                + "with label, confidence, scores, truncated and error columns.",
                "Needs Spark on the class path: java -cp \"$SPARK_HOME/jars/*:finsent.jar\" org.finsent.cli.FinSentCli score ... "
                        + "(Spark first: its Jackson must win), or spark-submit --class org.finsent.spark.ScoreMain."},
        footer = {"", "Example:", "  finsent score --model runs/lora-export --input news.csv --output scored.parquet --text-column headline"})
public final class ScoreCommand implements Callable<Integer> {
    static final String NO_SPARK = "Apache Spark is not on the class path (finsent.jar does not bundle it): run "
            + "java -cp \"$SPARK_HOME/jars/*:finsent.jar\" org.finsent.cli.FinSentCli score ..., or spark-submit --class "
            + "org.finsent.spark.ScoreMain finsent.jar ... (docs/SPARK.md)";

    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Model directory (export it first for a cluster).")
    Path model;

    @Option(names = "--input", required = true, paramLabel = "FILE", description = "Texts: .csv (with a header), .jsonl or .parquet (file or directory).")
    String input;

    @Option(names = "--output", required = true, paramLabel = "OUT", description = "Directory to write: Parquet, or JSON Lines when OUT ends in .jsonl or .json.")
    String output;

    @Option(names = "--format", paramLabel = "FMT", description = "csv, jsonl or parquet (default: from the input's extension).")
    String format;

    @Option(names = "--text-column", paramLabel = "COL", defaultValue = "text", description = "The text column (default: ${DEFAULT-VALUE}).")
    String textColumn;

    @Option(names = "--batch-size", paramLabel = "N", defaultValue = "32", description = "Texts per forward pass (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--max-seq-length", paramLabel = "N", defaultValue = "0", description = "Truncation length (default: the model's).")
    int maxSeqLength;

    @Option(names = "--master", paramLabel = "URL", description = "Spark master (default: local[*]).")
    String master;

    @Option(names = "--partitions", paramLabel = "N", defaultValue = "0", description = "Repartition the input (default: as read).")
    int partitions;

    @Option(names = "--overwrite", description = "Replace an existing output.")
    boolean overwrite;

    @Override
    public Integer call() throws Exception {
        if (!sparkPresent()) throw new IllegalStateException(NO_SPARK);
        // ScoreMain is loaded only now, with Spark present
        var o = new org.finsent.spark.ScoreMain.Options(model, input, output, format, textColumn, batchSize, maxSeqLength,
                master, partitions, overwrite);
        var s = org.finsent.spark.ScoreMain.run(o, System.out);
        return s.rows() > 0 && s.errors() == s.rows() ? FinSentCli.USER_ERROR : FinSentCli.OK;
    }

    static boolean sparkPresent() {
        try {
            Class.forName("org.apache.spark.sql.SparkSession", false, ScoreCommand.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }
}
