package org.finsent.spark;

import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.param.StringArrayParam;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;

import java.util.List;

/**
 * FinSent sentiment as a Spark ML {@link Transformer}: adds {@code label}, {@code confidence}, {@code scores},
 * {@code truncated} and {@code error} columns for a text column ({@link SentimentScorer} says how). Usable in a
 * {@code Pipeline}; saved and loaded with it (its parameters only: the model directory is referenced by path, so
 * ship it with the job).
 *
 * <pre>
 * SentimentTransformer t = new SentimentTransformer().setModelPath("model").setInputCol("headline");
 * Dataset&lt;Row&gt; scored = t.transform(headlines);
 * </pre>
 */
public final class SentimentTransformer extends Transformer implements DefaultParamsWritable {
    private static final long serialVersionUID = 1L;
    private final String uid;
    private final Param<String> modelPath;
    private final Param<String> inputCol;
    private final StringArrayParam outputCols;
    private final IntParam batchSize;
    private final IntParam maxSeqLength;

    public SentimentTransformer() {
        this(Identifiable.randomUID("finsentSentiment"));
    }

    public SentimentTransformer(String uid) {
        this.uid = uid;
        modelPath = new Param<>(this, "modelPath", "FinSent model directory (local, shared file system, or shipped with spark.archives)");
        inputCol = new Param<>(this, "inputCol", "the text column");
        outputCols = new StringArrayParam(this, "outputCols", "names of the label, confidence, scores, truncated and error columns");
        batchSize = new IntParam(this, "batchSize", "texts per forward pass", ParamValidators.gtEq(1));
        maxSeqLength = new IntParam(this, "maxSeqLength", "truncation length in tokens (0 = the model's training length)",
                ParamValidators.gtEq(0));
        setDefault(inputCol, "text");
        setDefault(outputCols, SentimentScorer.DEFAULT_OUTPUT_COLS.toArray(new String[0]));
        setDefault(batchSize, 32);
        setDefault(maxSeqLength, 0);
    }

    @Override
    public String uid() {
        return uid;
    }

    public Param<String> modelPath() {
        return modelPath;
    }

    public Param<String> inputCol() {
        return inputCol;
    }

    public StringArrayParam outputCols() {
        return outputCols;
    }

    public IntParam batchSize() {
        return batchSize;
    }

    public IntParam maxSeqLength() {
        return maxSeqLength;
    }

    public SentimentTransformer setModelPath(String v) {
        set(modelPath, v);
        return this;
    }

    public SentimentTransformer setInputCol(String v) {
        set(inputCol, v);
        return this;
    }

    public SentimentTransformer setOutputCols(String... v) {
        set(outputCols, v);
        return this;
    }

    public SentimentTransformer setBatchSize(int v) {
        set(batchSize, v);
        return this;
    }

    public SentimentTransformer setMaxSeqLength(int v) {
        set(maxSeqLength, v);
        return this;
    }

    /** The parameters as {@link SentimentScorer.Options}. */
    public SentimentScorer.Options options() {
        if (!isDefined(modelPath)) throw new IllegalArgumentException("set the model directory: setModelPath(dir)");
        return new SentimentScorer.Options($(modelPath), $(inputCol), List.of($(outputCols)), (Integer) $(batchSize),
                (Integer) $(maxSeqLength));
    }

    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        return SentimentScorer.score(dataset.toDF(), options());
    }

    @Override
    public StructType transformSchema(StructType schema) {
        return SentimentScorer.outputSchema(schema, options());
    }

    @Override
    public SentimentTransformer copy(ParamMap extra) {
        return copyValues(new SentimentTransformer(uid), extra);
    }

    /** Spark ML's loader ({@code Pipeline.load} finds it by reflection). */
    public static MLReader<SentimentTransformer> read() {
        return new DefaultParamsReader<>();
    }

    public static SentimentTransformer load(String path) {
        return read().load(path);
    }
}
