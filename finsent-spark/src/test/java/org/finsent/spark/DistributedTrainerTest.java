package org.finsent.spark;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.finsent.core.data.Example;
import org.finsent.core.nn.Parameter;
import org.finsent.peft.Peft;
import org.finsent.train.Batcher;
import org.finsent.train.ClassWeighting;
import org.finsent.train.LogEntry;
import org.finsent.train.ModelSources;
import org.finsent.train.TrainResult;
import org.finsent.train.Trainer;
import org.finsent.train.TrainingArguments;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A LoRA run over 2 partitions on local[2] is the single-JVM Trainer's run with the same global batch. */
class DistributedTrainerTest {
    @TempDir
    static Path tmp;
    static SparkSession spark;
    static JavaSparkContext sc;
    static String basePath;
    static final List<Example> DATA = SparkFixtures.data(48, 17);

    @BeforeAll
    static void setUp() throws Exception {
        spark = SparkFixtures.spark();
        sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        basePath = SparkFixtures.tinyBase(tmp.resolve("base"), 9).toAbsolutePath().toString();
    }


    /** Every JVM builds the same LoRA model on the tiny base (a serializable lambda: it captures only the path). */
    static DistributedTrainer.ModelFactory factory(String base) {
        return () -> {
            var src = ModelSources.load(base, SparkFixtures.LABELS.size(), 7);
            return new DistributedTrainer.Built(Peft.apply(src.model(), SparkFixtures.lora()), src.tokenizer());
        };
    }

    static TrainingArguments args(Path out, long steps, long saveSteps, Path resume) {
        // global batch 8 x accumulation 2, length grouping and balanced class weights: every part of Trainer's
        // order and weighting is exercised
        return TrainingArguments.builder(out).perDeviceTrainBatchSize(8).gradientAccumulationSteps(2).learningRate(3e-2)
                .maxSeqLength(SparkFixtures.MAX_LEN).maxSteps(steps).loggingSteps(1).saveSteps(saveSteps).groupByLength(true)
                .classWeights(ClassWeighting.BALANCED).warmupSteps(1).seed(5).resumeFromCheckpoint(resume).build();
    }

    static JavaRDD<DistributedTrainer.LabeledText> rdd() {
        return sc.parallelize(DATA.stream().map(e -> new DistributedTrainer.LabeledText(e.text(), e.label())).toList(), 2);
    }

    static double[] flat(List<Parameter> params) {
        return params.stream().flatMapToDouble(p -> java.util.Arrays.stream(p.value().dup('c').data().asDouble())).toArray();
    }

    @Test
    void batchOrderIsTrainersOrder() {
        var tok = ModelSourcesTokenizer.get(basePath);
        Batcher batcher = new Batcher(tok, SparkFixtures.MAX_LEN);
        Batcher.Tokenized t = batcher.tokenize(DATA);
        int[] lengths = new int[t.size()];
        for (int i = 0; i < lengths.length; i++) lengths[i] = t.length(i);
        for (boolean group : new boolean[]{false, true}) {
            for (int epoch = 0; epoch < 3; epoch++) {
                List<Batcher.LabeledBatch> expected = batcher.trainBatches(t, 5, group, 11, epoch);
                List<int[]> actual = BatchOrder.batches(lengths, 5, group, 11, epoch);
                assertEquals(expected.size(), actual.size());
                for (int b = 0; b < actual.size(); b++) assertArrayEquals(expected.get(b).indices(), actual.get(b), "batch " + b);
            }
        }
    }

    /** The tokenizer of the tiny base. */
    static final class ModelSourcesTokenizer {
        static org.finsent.tokenizers.Tokenizer get(String base) {
            try {
                return ModelSources.load(base, 3, 7).tokenizer();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
    }

    @Test
    void twoPartitionsMatchTheSingleJvmTrainer() throws Exception {
        // single JVM: Trainer with the same global batch
        DistributedTrainer.Built local = factory(basePath).build();
        List<Parameter> localTrainable = local.model().parameters().stream().filter(Parameter::trainable).toList();
        TrainResult r = new Trainer(local.model(), local.tokenizer(), args(tmp.resolve("local"), 6, 0, null), SparkFixtures.LABELS)
                .train(DATA, null);
        List<Double> localLoss = r.log().stream().filter(e -> Double.isFinite(e.trainLoss())).map(LogEntry::trainLoss).toList();

        int buildsBefore = DistributedTrainer.Worker.builds();
        DistributedTrainer dt = new DistributedTrainer(sc, "tiny-lora-a", factory(basePath), args(tmp.resolve("dist"), 6, 0, null),
                SparkFixtures.LABELS);
        List<Parameter> distTrainable = dt.model().parameters().stream().filter(Parameter::trainable).toList();
        DistributedTrainer.Result d = dt.train(rdd());
        assertEquals(1, DistributedTrainer.Worker.builds() - buildsBefore, "the frozen base is built once in this JVM, not per task or step");

        assertEquals(6, d.globalStep());
        assertEquals(6, localLoss.size());
        double worstLoss = 0, worstParam = 0;
        for (int s = 0; s < 6; s++) {
            // per-example losses and gradients are the same numbers; only the padding of each part and the order of
            // the float sums differ (two partial sums per step instead of one): relative differences of a few FP32
            // ulps per sum (2^-24 ≈ 6e-8 times the terms' count), 1e-5 leaves room for six steps of AdamW on top
            assertEquals(localLoss.get(s), d.losses().get(s), 1e-5 * Math.abs(localLoss.get(s)), "loss at step " + (s + 1));
            worstLoss = Math.max(worstLoss, Math.abs(localLoss.get(s) - d.losses().get(s)));
        }
        double[] a = flat(localTrainable), b = flat(distTrainable);
        assertEquals(a.length, b.length);
        double scale = 0;
        for (double v : a) scale = Math.max(scale, Math.abs(v));
        for (int i = 0; i < a.length; i++) worstParam = Math.max(worstParam, Math.abs(a[i] - b[i]));
        // AdamW divides the gradient by its running RMS, so a relative gradient error δ moves a weight by about
        // lr·δ per step: six steps at lr 3e-2 with δ ≲ 1e-5 stay below 1e-5 of the weights' scale
        assertTrue(worstParam <= 1e-5 * Math.max(scale, 1), "final adapter differs by " + worstParam + " (scale " + scale + ")");
        System.out.printf("distributed vs local: worst loss difference %.3g, worst weight difference %.3g (scale %.3g); "
                        + "step %.3f s vs slowest partition %.3f s (mean of steps 2..6)%n", worstLoss, worstParam, scale,
                d.stepSeconds().subList(1, 6).stream().mapToDouble(x -> x).average().orElse(0),
                d.computeSeconds().subList(1, 6).stream().mapToDouble(x -> x).average().orElse(0));
    }

    @Test
    void resumesFromACheckpointBitIdentically() throws Exception {
        Path out = tmp.resolve("resume");
        DistributedTrainer full = new DistributedTrainer(sc, "tiny-lora-b", factory(basePath), args(out, 4, 2, null), SparkFixtures.LABELS);
        DistributedTrainer.Result rf = full.train(rdd());
        assertTrue(rf.lastCheckpoint().endsWith("checkpoint-4"));
        double[] expected = flat(full.model().parameters().stream().filter(Parameter::trainable).toList());

        // a new driver picks up at step 2 (as after a failed job)
        DistributedTrainer resumed = new DistributedTrainer(sc, "tiny-lora-b", factory(basePath),
                args(tmp.resolve("resume-2"), 4, 0, out.resolve("checkpoint-2")), SparkFixtures.LABELS);
        DistributedTrainer.Result rr = resumed.train(rdd());
        assertEquals(4, rr.globalStep());
        assertEquals(2, rr.losses().size(), "two steps left after checkpoint-2");
        assertEquals(rf.losses().subList(2, 4), rr.losses(), "the same steps 3 and 4");
        // with two partitions the driver adds two partial sums, a + b = b + a in floating point: the resumed run is
        // the uninterrupted one bit for bit
        assertArrayEquals(expected, flat(resumed.model().parameters().stream().filter(Parameter::trainable).toList()), 0.0);

        // a stage that fails for good (local mode does not retry tasks) at step 4: the run reloads checkpoint-2,
        // runs steps 3 and 4 again and ends where the uninterrupted run ended
        DistributedTrainer failing = new DistributedTrainer(sc, "tiny-lora-b", factory(basePath), args(tmp.resolve("resume-3"), 4, 2, null),
                SparkFixtures.LABELS);
        DistributedTrainer.Worker.FAIL_AFTER.set(6); // 3 steps x 2 partitions succeed, then step 4's first task fails
        DistributedTrainer.Result rs;
        try {
            rs = failing.train(rdd());
        } finally {
            DistributedTrainer.Worker.FAIL_AFTER.set(-1);
        }
        assertEquals(1, rs.restarts());
        assertEquals(rf.losses(), rs.losses(), "the loss of each step once, as if nothing had failed");
        assertArrayEquals(expected, flat(failing.model().parameters().stream().filter(Parameter::trainable).toList()), 0.0);
    }
}
