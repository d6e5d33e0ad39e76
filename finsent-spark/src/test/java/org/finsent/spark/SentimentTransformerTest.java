package org.finsent.spark;

import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.feature.SQLTransformer;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.MapType;
import org.apache.spark.sql.types.StructType;
import org.finsent.core.data.Example;
import org.finsent.train.FineTunedModel;
import org.finsent.train.Predictor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Scoring on local[2]: every row as the single-JVM Predictor, one load per JVM, the schema, Pipelines, bad rows. */
class SentimentTransformerTest {
    @TempDir
    static Path tmp;
    static SparkSession spark;
    static Path model;
    static final StructType SCHEMA = new StructType().add("id", DataTypes.IntegerType).add("text", DataTypes.StringType);

    @BeforeAll
    static void setUp() throws Exception {
        spark = SparkFixtures.spark();
        Path base = SparkFixtures.tinyBase(tmp.resolve("base"), 5);
        model = SparkFixtures.loraModel(base, tmp.resolve("lora"));
    }


    static Dataset<Row> frame(List<String> texts, int partitions) {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) rows.add(RowFactory.create(i, texts.get(i)));
        // parallelize, not repartition: the partitions without a shuffle stage
        return spark.createDataFrame(org.apache.spark.api.java.JavaSparkContext.fromSparkContext(spark.sparkContext())
                .parallelize(rows, partitions), SCHEMA);
    }

    static Map<Integer, Row> byId(Dataset<Row> scored) {
        Map<Integer, Row> m = new HashMap<>();
        for (Row r : scored.collectAsList()) m.put(r.getInt(0), r);
        return m;
    }

    @Test
    void everyRowAsTheSingleJvmPredictorAndTheModelLoadsOncePerJvm() throws Exception {
        List<String> texts = SparkFixtures.data(150, 31).stream().map(Example::text).toList();
        Predictor single = FineTunedModel.load(model).predictor();
        List<Predictor.Prediction> expected = single.predict(texts);

        // a directory no other test of this JVM has loaded
        Path fresh = tmp.resolve("lora-once");
        java.nio.file.Files.createDirectories(fresh);
        try (var files = java.nio.file.Files.list(model)) {
            for (Path f : files.toList()) if (java.nio.file.Files.isRegularFile(f)) java.nio.file.Files.copy(f, fresh.resolve(f.getFileName()));
        }
        int before = ModelCache.loads();
        SentimentTransformer t = new SentimentTransformer().setModelPath(fresh.toString()).setBatchSize(16);
        Dataset<Row> in = frame(texts, 3);
        Map<Integer, Row> first = byId(t.transform(in));
        Map<Integer, Row> second = byId(t.transform(in)); // a second job: the model is cached, not reloaded
        assertEquals(1, ModelCache.loads() - before, "one model directory, loaded once in this JVM by 3 partitions x 2 jobs");

        var tok = FineTunedModel.load(model).tokenizer();
        var whole = tok.withOptions(tok.options().withPadding(org.finsent.tokenizers.TokenizerOptions.Padding.NONE)
                .withTruncation(0, org.finsent.tokenizers.TokenizerOptions.Truncation.NONE));
        int cut = 0;
        double worst = 0;
        for (int i = 0; i < texts.size(); i++) {
            Row r = first.get(i);
            Predictor.Prediction p = expected.get(i);
            assertEquals(p.label(), r.getAs("label"), "row " + i);
            assertEquals(p.confidence(), (double) r.getAs("confidence"), 1e-6, "row " + i);
            Map<String, Double> scores = r.getJavaMap(r.fieldIndex("scores"));
            assertEquals(SparkFixtures.LABELS, new ArrayList<>(scores.keySet()), "scores in label order");
            double[] probs = SparkFixtures.LABELS.stream().mapToDouble(scores::get).toArray();
            // other batch neighbours pad a text to another length: masked positions add exact zeros, but the
            // kernels' blocking over the sequence may differ, so the two agree to float rounding, not bit for bit
            assertArrayEquals(p.probabilities(), probs, 1e-6, "row " + i);
            for (int k = 0; k < probs.length; k++) worst = Math.max(worst, Math.abs(p.probabilities()[k] - probs[k]));
            assertNull(r.getAs("error"));
            boolean longer = whole.encode(texts.get(i)).length() > SparkFixtures.MAX_LEN;
            assertEquals(longer, r.getAs("truncated"), "row " + i + " has more tokens than the model's 32: " + longer);
            if (longer) cut++;
            assertEquals(r, second.get(i), "the second job gives the same row");
        }
        assertTrue(cut > 0 && cut < texts.size(), "the data has texts on both sides of the limit: " + cut);
        System.out.println("scoring on local[2] vs Predictor: largest probability difference " + worst);
    }

    @Test
    void aPartitionStreamsInLengthSortedWindowsAndKeepsItsRowOrder() throws Exception {
        List<String> texts = SparkFixtures.data(100, 53).stream().map(Example::text).toList();
        List<Predictor.Prediction> expected = FineTunedModel.load(model).predictor().predict(texts);
        int batch = 4;
        int[] pulled = {0};
        Iterator<Row> source = new Iterator<>() {
            @Override
            public boolean hasNext() {
                return pulled[0] < texts.size();
            }

            @Override
            public Row next() {
                int i = pulled[0]++;
                return RowFactory.create(i, texts.get(i));
            }
        };
        SentimentScorer.Options o = SentimentScorer.Options.of(model.toString()).withBatchSize(batch);
        SentimentScorer.Scoring scoring = new SentimentScorer.Scoring(source, o, 1);
        int window = batch * SentimentScorer.WINDOW_BATCHES;
        for (int i = 0; i < texts.size(); i++) {
            Row r = scoring.next();
            // the first window is one batch (first rows after one forward pass), then WINDOW_BATCHES batches
            int read = i < batch ? batch : Math.min(texts.size(), batch + ((i - batch) / window + 1) * window);
            assertEquals(read, pulled[0], "rows read from the partition when row " + i + " comes out");
            assertEquals(i, r.getInt(0), "rows come out in their input order");
            assertEquals(expected.get(i).label(), r.get(2), "row " + i);
            assertEquals(expected.get(i).confidence(), r.getDouble(3), 1e-6, "row " + i);
        }
        assertFalse(scoring.hasNext());
    }

    @Test
    void schema() {
        SentimentTransformer t = new SentimentTransformer().setModelPath(model.toString());
        StructType out = t.transformSchema(SCHEMA);
        assertEquals(List.of("id", "text", "label", "confidence", "scores", "truncated", "error"), Arrays.asList(out.fieldNames()));
        assertEquals(DataTypes.StringType, out.apply("label").dataType());
        assertEquals(DataTypes.DoubleType, out.apply("confidence").dataType());
        assertEquals(new MapType(DataTypes.StringType, DataTypes.DoubleType, false), out.apply("scores").dataType());
        assertEquals(DataTypes.BooleanType, out.apply("truncated").dataType());
        assertEquals(DataTypes.StringType, out.apply("error").dataType());
        Dataset<Row> scored = t.transform(frame(List.of("Nokia said its net sales rose by 3 % ."), 1));
        assertEquals(out, scored.schema(), "transform gives the schema transformSchema promised");

        var e = assertThrows(IllegalArgumentException.class, () -> t.setInputCol("headline").transformSchema(SCHEMA));
        assertTrue(e.getMessage().contains("no column 'headline'"), e.getMessage());
        var e2 = assertThrows(IllegalArgumentException.class, () -> t.setInputCol("id").transformSchema(SCHEMA));
        assertTrue(e2.getMessage().contains("not a string"), e2.getMessage());
        var e3 = assertThrows(IllegalArgumentException.class, () -> new SentimentTransformer().transformSchema(SCHEMA));
        assertTrue(e3.getMessage().contains("setModelPath"), e3.getMessage());
    }

    @Test
    void pipelineSurvivesSaveAndLoad() throws Exception {
        SentimentTransformer t = new SentimentTransformer().setModelPath(model.toString()).setInputCol("headline")
                .setOutputCols("sentiment", "p", "probabilities", "cut", "why").setBatchSize(7).setMaxSeqLength(20);
        SQLTransformer rename = new SQLTransformer().setStatement("SELECT id, text AS headline FROM __THIS__");
        Pipeline pipeline = new Pipeline().setStages(new PipelineStage[]{rename, t});
        Dataset<Row> in = frame(SparkFixtures.data(20, 41).stream().map(Example::text).toList(), 2);
        PipelineModel fitted = pipeline.fit(in);
        Path saved = tmp.resolve("pipeline");
        fitted.write().overwrite().save(saved.toString());
        PipelineModel loaded = PipelineModel.load(saved.toString());

        SentimentTransformer back = (SentimentTransformer) loaded.stages()[1];
        assertEquals(t.uid(), back.uid());
        assertEquals(model.toString(), back.getOrDefault(back.modelPath()));
        assertEquals(7, (int) back.getOrDefault(back.batchSize()));
        assertEquals(20, (int) back.getOrDefault(back.maxSeqLength()));
        assertEquals(List.of("sentiment", "p", "probabilities", "cut", "why"), List.of(back.getOrDefault(back.outputCols())));
        Map<Integer, Row> a = byId(fitted.transform(in)), b = byId(loaded.transform(in));
        assertEquals(20, b.size());
        for (int i = 0; i < 20; i++) {
            assertEquals(a.get(i), b.get(i), "row " + i);
            assertNotNull(b.get(i).getAs("sentiment"));
        }
    }

    @Test
    void badRowsGiveAnErrorColumnNotAFailedJob() throws Exception {
        String long1 = "Nokia said its net sales rose by 3 % " + "the company quarter ".repeat(400);
        List<String> texts = Arrays.asList("Kone said its revenue fell by 3 % .", null, "", "   ", long1, "Elisa said its order intake was reported for the period .");
        SentimentTransformer t = new SentimentTransformer().setModelPath(model.toString()).setBatchSize(4);
        Map<Integer, Row> out = byId(t.transform(frame(texts, 2)));
        assertEquals(texts.size(), out.size(), "every row comes back");
        assertEquals("null text", out.get(1).getAs("error"));
        assertEquals("empty text", out.get(2).getAs("error"));
        assertEquals("empty text", out.get(3).getAs("error"));
        for (int i : new int[]{1, 2, 3}) {
            assertNull(out.get(i).getAs("label"));
            assertNull(out.get(i).getAs("confidence"));
            assertNull(out.get(i).getAs("scores"));
            assertFalse((Boolean) out.get(i).getAs("truncated"));
        }
        assertTrue((Boolean) out.get(4).getAs("truncated"), "a 1,200-word text is cut at 32 tokens");
        assertNotNull(out.get(4).getAs("label"));
        // the truncated text predicts as its first tokens do: the same as the Predictor on the whole text
        assertEquals(FineTunedModel.load(model).predictor().predict(long1).label(), out.get(4).getAs("label"));
        for (int i : new int[]{0, 5}) {
            assertNotNull(out.get(i).getAs("label"));
            assertNull(out.get(i).getAs("error"));
            assertFalse((Boolean) out.get(i).getAs("truncated"));
        }
    }

    @Test
    void aModelShippedAsAnArchiveResolvesByName() throws Exception {
        Path export = ModelExport.export(model, tmp.resolve("shipped-model"), false).dir();
        String entry = ModelExport.archive(export);
        assertTrue(entry.startsWith("file:/") && entry.endsWith(".zip#shipped-model"), entry);
        // spark.archives does this when a session starts (the cluster case: .ci/spark-submit.sh); here the session runs
        spark.sparkContext().addArchive(entry);
        Path unpacked = Path.of(org.apache.spark.SparkFiles.get("shipped-model"));
        assertTrue(java.nio.file.Files.isRegularFile(unpacked.resolve("base").resolve("model.safetensors")), "the packed base travels");
        SentimentTransformer t = new SentimentTransformer().setModelPath("shipped-model");
        List<Row> rows = t.transform(frame(List.of("Nokia said its net sales rose by 3 % ."), 1)).collectAsList();
        Predictor.Prediction expected = FineTunedModel.load(model).predictor().predict("Nokia said its net sales rose by 3 % .");
        assertEquals(expected.label(), rows.get(0).getAs("label"));
        assertEquals(expected.confidence(), (double) rows.get(0).getAs("confidence"), 0.0, "the same weights: the same bits");
        var e = assertThrows(IllegalArgumentException.class, () -> ModelExport.archive(tmp));
        assertTrue(e.getMessage().contains("not a FinSent model directory"), e.getMessage());
    }
}
