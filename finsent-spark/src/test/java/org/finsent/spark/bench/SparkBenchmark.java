package org.finsent.spark.bench;

import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.MapFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.finsent.core.data.Example;
import org.finsent.core.nn.Parameter;
import org.finsent.peft.LoraConfig;
import org.finsent.peft.Peft;
import org.finsent.spark.DistributedTrainer;
import org.finsent.spark.ExecutorThreads;
import org.finsent.spark.ModelExport;
import org.finsent.spark.SentimentScorer;
import org.finsent.train.FineTunedModel;
import org.finsent.train.Fixtures;
import org.finsent.train.ModelSources;
import org.finsent.train.Predictor;
import org.finsent.train.TrainResult;
import org.finsent.train.Trainer;
import org.finsent.train.TrainingArguments;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Scoring throughput and distributed-training overhead with all-MiniLM-L6-v2 (docs/SPARK.md has the command and
 * figures). Not a unit test: {@code java [-Dmodel=EXPORT_DIR] [-Dtexts=FILE] ... org.finsent.spark.bench.SparkBenchmark
 * [rows] [trainSteps]}.
 *
 * <ol>
 *   <li>single-JVM batch prediction ({@link Predictor}, batches of 32) at 1 and 2 threads;</li>
 *   <li>the Spark job (noop sink) at local[1]; local[2] with two 1-thread tasks; local[2] with spark.task.cpus=2;
 *       time to first row ({@code limit(1)}) with a cold model cache (first) and warm;</li>
 *   <li>a distributed LoRA step over 2 partitions against a single-JVM step on the same global batch.</li>
 * </ol>
 */
public final class SparkBenchmark {
    public static void main(String[] args) throws Exception {
        if (System.getenv("OMP_NUM_THREADS") != null) {
            // ExecutorThreads keeps a user's export (spark.executorEnv), which would turn every "1 thread" row into N
            throw new IllegalStateException("unset OMP_NUM_THREADS: the benchmark sets the threads of each configuration itself");
        }
        int rows = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
        int trainSteps = args.length > 1 ? Integer.parseInt(args[1]) : 6;
        Path work = Files.createTempDirectory("finsent-spark-bench");
        ExecutorThreads.configure(2);

        // ---- a MiniLM LoRA model directory, exported (self-contained) as an executor would get it; or -Dmodel=DIR (an
        // export, e.g. of the README's model) and -Dtexts=FILE (one text per line, cycled)
        Path exported;
        if (System.getProperty("model") != null) {
            exported = Path.of(System.getProperty("model")).toAbsolutePath();
        } else {
            var src = ModelSources.load(ModelSources.MINILM, 3, 1);
            var peft = Peft.apply(src.model(), LoraConfig.bert(8, 16).withTargets("query", "value"));
            Path model = work.resolve("minilm-lora");
            FineTunedModel.of(src, peft, Fixtures.LABELS, 128, Map.of()).save(model);
            exported = ModelExport.export(model, work.resolve("export"), false).dir();
        }
        FineTunedModel ft = org.finsent.spark.ModelCache.load(exported);
        List<String> pool = System.getProperty("texts") != null
                ? Files.readAllLines(Path.of(System.getProperty("texts"))).stream().filter(t -> !t.isBlank()).toList()
                : Fixtures.synthetic(1000, 5).stream().map(Example::text).toList();
        List<String> texts = new ArrayList<>(rows);
        for (int i = 0; i < rows; i++) texts.add(pool.get(i % pool.size()));
        double meanTokens = 0;
        var tok = new org.finsent.train.Batcher(ft.tokenizer(), ft.maxSeqLength()).tokenizer(); // truncating, not padding
        for (String t : pool) meanTokens += tok.encode(t).length();
        System.out.printf(Locale.ROOT, "rows %d, texts of %.1f tokens on average after truncation at %d (%s), model %s%n", rows,
                meanTokens / pool.size(), ft.maxSeqLength(), System.getProperty("texts", "synthetic headlines"),
                System.getProperty("model", "MiniLM-L6 + LoRA r=8, untrained"));

        // ---- single JVM
        for (int threads : new int[]{1, 2}) {
            ExecutorThreads.configure(threads);
            Predictor p = new Predictor(ft.model(), ft.tokenizer(), ft.labels(), ft.maxSeqLength(), 32);
            p.predict(texts.subList(0, Math.min(256, rows))); // warm-up
            long t0 = System.nanoTime();
            p.predict(texts);
            double s = (System.nanoTime() - t0) / 1e9;
            System.out.printf(Locale.ROOT, "| single JVM, Predictor, %d thread(s) (host threads in effect: %d) | %.1f rows/s | - |%n",
                    threads, org.finsent.core.nn.HostThreads.threads(), rows / s);
        }

        // ---- Spark
        String[][] configs = {{"local[1]", "1"}, {"local[2]", "1"}, {"local[2]", "2"}};
        for (String[] c : configs) {
            SparkSession spark = SparkSession.builder().master(c[0]).appName("finsent-bench").config("spark.ui.enabled", "false")
                    .config("spark.task.cpus", c[1]).config("spark.driver.host", "127.0.0.1").getOrCreate();
            int partitions = c[0].equals("local[1]") ? 1 : 2;
            Dataset<Row> in = spark.createDataFrame(JavaSparkContext.fromSparkContext(spark.sparkContext())
                    .parallelize(texts.stream().map(t -> org.apache.spark.sql.RowFactory.create(t)).toList(), partitions * 4),
                    new org.apache.spark.sql.types.StructType().add("text", "string"));
            in.cache().count();
            Dataset<Row> scored = SentimentScorer.score(in, SentimentScorer.Options.of(exported.toString()).withBatchSize(32));
            long t0 = System.nanoTime();
            scored.limit(1).collectAsList();
            double first = (System.nanoTime() - t0) / 1e9;
            t0 = System.nanoTime();
            scored.write().format("noop").mode("overwrite").save();
            double s = (System.nanoTime() - t0) / 1e9;
            System.out.printf(Locale.ROOT, "| Spark %s, spark.task.cpus=%s | %.1f rows/s | %.2f s |%n", c[0], c[1], rows / s, first);
            spark.stop();
        }

        // ---- distributed training step vs a local step on the same global batch
        String base = ModelSources.MINILM;
        DistributedTrainer.ModelFactory factory = () -> {
            var s = ModelSources.load(base, 3, 1);
            return new DistributedTrainer.Built(Peft.apply(s.model(), LoraConfig.bert(8, 16).withTargets("query", "value").withDropout(0)),
                    s.tokenizer());
        };
        List<Example> data = Fixtures.synthetic(16 * trainSteps, 9);
        TrainingArguments.Builder a = TrainingArguments.builder(work.resolve("train")).perDeviceTrainBatchSize(16).learningRate(1e-3)
                .maxSeqLength(64).maxSteps(trainSteps).loggingSteps(1).saveSteps(0);
        double[] localStep = new double[3];
        for (int threads : new int[]{1, 2}) {
            ExecutorThreads.configure(threads);
            var m = factory.build();
            TrainResult lr = new Trainer(m.model(), m.tokenizer(), a.outputDir(work.resolve("train-local-" + threads)).build(),
                    Fixtures.LABELS).train(data, null);
            // the step time of every step after the first (warm-up), from its logged samples/s
            localStep[threads] = lr.log().stream().filter(e -> e.step() > 1 && Double.isFinite(e.samplesPerSecond()))
                    .mapToDouble(e -> 16 / e.samplesPerSecond()).average().orElse(Double.NaN);
        }
        SparkSession spark = SparkSession.builder().master("local[2]").appName("finsent-bench-train").config("spark.ui.enabled", "false")
                .config("spark.driver.host", "127.0.0.1").getOrCreate();
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        DistributedTrainer dt = new DistributedTrainer(sc, "bench", factory, a.outputDir(work.resolve("train-dist")).build(), Fixtures.LABELS);
        long trainable = dt.model().parameters().stream().filter(Parameter::trainable).mapToLong(Parameter::numel).sum();
        DistributedTrainer.Result r = dt.train(sc.parallelize(data.stream()
                .map(e -> new DistributedTrainer.LabeledText(e.text(), e.label())).toList(), 2));
        // step 1 builds the executor's model: leave it out
        double step = r.stepSeconds().subList(1, r.stepSeconds().size()).stream().mapToDouble(x -> x).average().orElse(0);
        double compute = r.computeSeconds().subList(1, r.computeSeconds().size()).stream().mapToDouble(x -> x).average().orElse(0);
        System.out.printf(Locale.ROOT, "training: %,d trainable floats; local step (Trainer, global batch 16) %.3f s at 1 thread, "
                        + "%.3f s at 2 threads; distributed step (2 partitions x 8 rows, local[2], 1 thread per task) %.3f s, of which "
                        + "the slowest partition's forward+backward %.3f s: Spark's overhead %.3f s per step (broadcast, 2 tasks, "
                        + "treeAggregate, AdamW on the driver)%n",
                trainable, localStep[1], localStep[2], step, compute, step - compute);
        spark.stop();
    }
}
