package org.finsent.spark;

import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.finsent.tokenizers.Tokenizer;
import org.finsent.tokenizers.TokenizerOptions;
import org.finsent.train.FineTunedModel;
import org.finsent.train.Predictor;

import java.io.Serializable;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;

/**
 * Scores a text column of a Spark {@link Dataset} with a FinSent model directory: the function behind
 * {@link SentimentTransformer}, for code that does not use Spark ML.
 *
 * <p>Added columns (names configurable, in this order): {@code label} (string), {@code confidence} (double, the
 * label's probability), {@code scores} (map of every class name to its probability), {@code truncated} (true when
 * the text had more tokens than {@code maxSeqLength} and was cut, as in training) and {@code error} (null, or why
 * the row has no prediction: a null or empty text, or a failure of that row alone). A bad row never fails the job.
 *
 * <p>Each partition is streamed: rows are read a window of {@value #WINDOW_BATCHES} batches at a time (the first
 * window one batch, so the first rows come out after one forward pass), the window's texts are sorted by length and
 * cut into batches of {@code batchSize}, each padded to its longest text (dynamic padding), and the window's rows are
 * handed on in their input order before the next window is read, so a partition is never materialised. Sorting
 * within the window is what keeps the padding low: batches of consecutive rows pad every headline to the longest of
 * 32 random ones. The model is loaded once per JVM ({@link ModelCache}) and its threads are sized to the task's
 * cores ({@link ExecutorThreads}). One JVM serialises forward passes on one model (a model caches activations), so
 * give each executor one task slot with all its cores: {@code spark.executor.cores = spark.task.cpus}.
 */
public final class SentimentScorer {
    public static final List<String> DEFAULT_OUTPUT_COLS = List.of("label", "confidence", "scores", "truncated", "error");
    /** Batches read ahead and sorted by length together (after the first window, which is one batch). */
    public static final int WINDOW_BATCHES = 8;

    private SentimentScorer() {
    }

    /**
     * @param modelPath    a FinSent model directory: local, on a shared file system, or shipped with {@code spark.archives} ({@link ModelExport#archive})
     * @param inputCol     the text column
     * @param outputCols   names of the five added columns, in the order of {@link #DEFAULT_OUTPUT_COLS}
     * @param batchSize    texts per forward pass
     * @param maxSeqLength truncation length in tokens; 0 = the model's training length
     */
    public record Options(String modelPath, String inputCol, List<String> outputCols, int batchSize, int maxSeqLength)
            implements Serializable {
        public Options {
            if (modelPath == null || modelPath.isBlank()) throw new IllegalArgumentException("set the model directory (modelPath)");
            if (inputCol == null || inputCol.isBlank()) throw new IllegalArgumentException("set the text column (inputCol)");
            outputCols = List.copyOf(outputCols == null ? DEFAULT_OUTPUT_COLS : outputCols);
            if (outputCols.size() != DEFAULT_OUTPUT_COLS.size()) {
                throw new IllegalArgumentException("outputCols needs " + DEFAULT_OUTPUT_COLS.size() + " names " + DEFAULT_OUTPUT_COLS
                        + ", got " + outputCols);
            }
            if (batchSize < 1) throw new IllegalArgumentException("batchSize must be >= 1: " + batchSize);
            if (maxSeqLength < 0) throw new IllegalArgumentException("maxSeqLength must be >= 0 (0 = the model's): " + maxSeqLength);
        }

        public static Options of(String modelPath) {
            return new Options(modelPath, "text", DEFAULT_OUTPUT_COLS, 32, 0);
        }

        public Options withInputCol(String c) {
            return new Options(modelPath, c, outputCols, batchSize, maxSeqLength);
        }

        public Options withBatchSize(int b) {
            return new Options(modelPath, inputCol, outputCols, b, maxSeqLength);
        }

        public Options withMaxSeqLength(int n) {
            return new Options(modelPath, inputCol, outputCols, batchSize, n);
        }
    }

    /** The input schema plus the five prediction columns; refuses a missing or non-string text column. */
    public static StructType outputSchema(StructType in, Options o) {
        List<String> names = Arrays.asList(in.fieldNames());
        if (!names.contains(o.inputCol())) {
            throw new IllegalArgumentException("no column '" + o.inputCol() + "' to score (columns: " + names + "): set inputCol");
        }
        if (!DataTypes.StringType.equals(in.apply(o.inputCol()).dataType())) {
            throw new IllegalArgumentException("column '" + o.inputCol() + "' is " + in.apply(o.inputCol()).dataType().simpleString()
                    + ", not a string: cast it first");
        }
        for (String c : o.outputCols()) {
            if (names.contains(c)) throw new IllegalArgumentException("the input already has a column '" + c + "': choose other outputCols");
        }
        List<String> out = o.outputCols();
        StructField[] fields = Arrays.copyOf(in.fields(), in.fields().length + 5);
        int k = in.fields().length;
        fields[k] = DataTypes.createStructField(out.get(0), DataTypes.StringType, true);
        fields[k + 1] = DataTypes.createStructField(out.get(1), DataTypes.DoubleType, true);
        fields[k + 2] = DataTypes.createStructField(out.get(2), DataTypes.createMapType(DataTypes.StringType, DataTypes.DoubleType, false), true);
        fields[k + 3] = DataTypes.createStructField(out.get(3), DataTypes.BooleanType, false);
        fields[k + 4] = DataTypes.createStructField(out.get(4), DataTypes.StringType, true);
        return new StructType(fields);
    }

    /** {@code in} with the prediction columns added (lazy, as every Spark transformation). */
    public static Dataset<Row> score(Dataset<Row> in, Options o) {
        StructType schema = outputSchema(in.schema(), o);
        int textIndex = in.schema().fieldIndex(o.inputCol());
        MapPartitionsFunction<Row, Row> f = rows -> new Scoring(rows, o, textIndex);
        return in.mapPartitions(f, Encoders.row(schema));
    }

    /** The rows of one partition with predictions, one window of rows at a time. */
    static final class Scoring implements Iterator<Row> {
        private final Iterator<Row> in;
        private final Options o;
        private final int textIndex;
        private final ArrayDeque<Row> ready = new ArrayDeque<>();
        private Predictor predictor;
        private Tokenizer counter;
        private List<String> labels;
        private int maxLen;
        private int windows;

        Scoring(Iterator<Row> in, Options o, int textIndex) {
            this.in = in;
            this.o = o;
            this.textIndex = textIndex;
        }

        @Override
        public boolean hasNext() {
            if (ready.isEmpty() && in.hasNext()) nextBatch();
            return !ready.isEmpty();
        }

        @Override
        public Row next() {
            if (!hasNext()) throw new NoSuchElementException();
            return ready.poll();
        }

        private void init() {
            ExecutorThreads.configure(ExecutorThreads.taskCpus());
            FineTunedModel m = ModelCache.model(o.modelPath());
            maxLen = o.maxSeqLength() > 0 ? o.maxSeqLength() : m.maxSeqLength();
            predictor = ModelCache.predictor(o.modelPath(), maxLen, o.batchSize());
            labels = m.labels();
            // one token more than the limit is enough to tell a truncated text, without encoding all of a huge one's
            Tokenizer t = m.tokenizer();
            counter = t.withOptions(t.options().withTruncation(maxLen + 1, TokenizerOptions.Truncation.LONGEST_FIRST)
                    .withPadding(TokenizerOptions.Padding.NONE));
        }

        private void nextBatch() {
            if (predictor == null) init();
            int window = windows++ == 0 ? o.batchSize() : o.batchSize() * WINDOW_BATCHES;
            List<Row> rows = new ArrayList<>(window);
            while (rows.size() < window && in.hasNext()) rows.add(in.next());
            String[] texts = new String[rows.size()];
            List<String> valid = new ArrayList<>();
            for (int i = 0; i < rows.size(); i++) {
                Row r = rows.get(i);
                texts[i] = r.isNullAt(textIndex) ? null : r.getString(textIndex);
                if (texts[i] != null && !texts[i].isBlank()) valid.add(texts[i]);
            }
            List<Predictor.Prediction> predictions;
            try {
                // the predictor sorts the window by length and runs it in batches of batchSize
                predictions = valid.isEmpty() ? List.of() : predictor.predict(valid);
            } catch (RuntimeException e) {
                predictions = null; // one bad text must not cost the others their predictions: retry one by one
            }
            int v = 0;
            for (int i = 0; i < rows.size(); i++) {
                String text = texts[i];
                Object[] out = new Object[5];
                out[3] = false;
                if (text == null) {
                    out[4] = "null text";
                } else if (text.isBlank()) {
                    out[4] = "empty text";
                } else {
                    try {
                        Predictor.Prediction p = predictions != null ? predictions.get(v) : predictor.predict(text);
                        out[0] = p.label();
                        out[1] = p.confidence();
                        Map<String, Object> scores = new LinkedHashMap<>();
                        for (int k = 0; k < labels.size(); k++) scores.put(labels.get(k), p.probabilities()[k]);
                        out[2] = scala.jdk.javaapi.CollectionConverters.asScala(scores);
                        out[3] = counter.encode(text).length() > maxLen;
                    } catch (RuntimeException e) {
                        out[4] = e.getClass().getSimpleName() + ": " + e.getMessage();
                    }
                    v++;
                }
                ready.add(append(rows.get(i), out));
            }
        }

        private static Row append(Row r, Object[] extra) {
            Object[] values = new Object[r.length() + extra.length];
            for (int i = 0; i < r.length(); i++) values[i] = r.get(i);
            System.arraycopy(extra, 0, values, r.length(), extra.length);
            return RowFactory.create(values);
        }
    }
}
