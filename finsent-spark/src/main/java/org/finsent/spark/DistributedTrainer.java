package org.finsent.spark;

import org.apache.spark.SparkException;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.storage.StorageLevel;
import org.finsent.core.data.Example;
import org.finsent.core.model.CrossEntropyLoss;
import org.finsent.core.model.SequenceClassifier;
import org.finsent.core.nn.Parameter;
import org.finsent.tokenizers.Tokenizer;
import org.finsent.train.Batcher;
import org.finsent.train.Checkpoint;
import org.finsent.train.StepMemory;
import org.finsent.train.TrainingArguments;
import org.finsent.train.TrainingDivergedException;
import org.finsent.train.optim.AdamW;
import org.finsent.train.optim.GradClip;
import org.finsent.train.optim.LrSchedule;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Data-parallel training of a PEFT model on Spark: only the trainable parameters and their gradients travel.
 *
 * <p>Each JVM builds the model once ({@link ModelFactory}, cached per JVM by key): the frozen base stays in
 * executor memory for the whole run. Per optimizer step the driver broadcasts the current trainable values, every
 * partition runs forward and backward on its rows of the step's global batch, and the gradient sums come back
 * through {@code treeAggregate}; the driver clips, runs AdamW at the scheduled rate and checkpoints. There is no
 * barrier stage and no {@code allGather}.
 *
 * <p><b>The same run as {@link org.finsent.train.Trainer}.</b> {@link TrainingArguments#perDeviceTrainBatchSize()}
 * is the <em>global</em> batch, batches come in Trainer's order (same seed, same length grouping: {@link BatchOrder}),
 * and {@code gradientAccumulationSteps} batches form a step as in Trainer. Workers return
 * {@code Σ w[y]·∂ℓ/∂θ}, {@code Σ w[y]·ℓ} and {@code Σ w[y]} over their rows; the driver divides by the global
 * {@code Σ w[y]}: the weighted mean over the whole step, which is what Trainer's accumulation computes. So with
 * dropout 0 the loss curve and the adapter equal a single-JVM run up to the order of float summation (tested).
 *
 * <p>Each executor indexes its partitions' rows by example index the first time it sees them, so a step looks up
 * its few rows instead of scanning the partition; the rows are the ones Spark cached, not copies.
 *
 * <p><b>Failures.</b> Spark re-runs a failed task by itself (the step's inputs are the broadcast and the cached rows,
 * so a retry computes the same gradients). When a stage fails for good, training reloads the latest checkpoint
 * ({@code saveSteps}, FinSent's {@link Checkpoint} format: trainable weights, AdamW state, data position) and goes
 * on, up to {@link #maxRestarts} times; a new driver resumes with {@code resumeFromCheckpoint}.
 */
public final class DistributedTrainer {
    private static final Logger LOG = LoggerFactory.getLogger(DistributedTrainer.class);
    private static final String WORKSPACE = "finsent-spark-step";

    /** A labelled text that Spark can ship. */
    public record LabeledText(String text, int label) implements Serializable {
    }

    /** A model and its tokenizer, as a {@link ModelFactory} builds them. */
    public record Built(SequenceClassifier model, Tokenizer tokenizer) {
    }

    /**
     * Builds the model on a JVM: the same frozen base and PEFT structure on the driver and every executor (the
     * trainable values come from the driver). It must need only what every executor has, e.g. an exported or
     * shared model directory.
     */
    @FunctionalInterface
    public interface ModelFactory extends Serializable {
        Built build() throws IOException;
    }

    /**
     * @param globalStep       optimizer steps done
     * @param losses           the loss of every step of this run (the weighted mean over the step's examples)
     * @param stepSeconds      wall time of every step on the driver (broadcast, stage, aggregation, optimizer)
     * @param computeSeconds   per step, the slowest partition's forward and backward
     * @param lastCheckpoint   the latest checkpoint written or resumed from, or null
     * @param restarts         how often a failed stage was resumed from a checkpoint
     */
    public record Result(long globalStep, List<Double> losses, List<Double> stepSeconds, List<Double> computeSeconds,
                         Path lastCheckpoint, int restarts) {
    }

    private record Indexed(int index, String text, int label) implements Serializable {
    }

    private final JavaSparkContext sc;
    private final String key;
    private final ModelFactory factory;
    private final TrainingArguments args;
    private final List<String> labels;
    private final Built driver;
    private final List<Parameter> trainable;
    private int maxRestarts = 3;

    /**
     * @param key    names the model in each JVM's cache (one entry per distinct base + PEFT setup)
     * @param labels class names by id
     */
    public DistributedTrainer(JavaSparkContext sc, String key, ModelFactory factory, TrainingArguments args, List<String> labels)
            throws IOException {
        this.sc = sc;
        this.key = key;
        this.factory = factory;
        this.args = args;
        this.labels = List.copyOf(labels);
        if (this.labels.size() < 2) throw new IllegalArgumentException("need at least 2 labels: " + labels);
        this.driver = factory.build();
        this.trainable = driver.model().parameters().stream().filter(Parameter::trainable).toList();
        if (trainable.isEmpty()) throw new IllegalStateException("the model has no trainable parameters");
    }

    /** The driver's model: after {@link #train}, the trained one (save it with {@code FineTunedModel.of(...).save}). */
    public SequenceClassifier model() {
        return driver.model();
    }

    public Tokenizer tokenizer() {
        return driver.tokenizer();
    }

    /** How often a stage that failed for good is resumed from the latest checkpoint (default 3). */
    public DistributedTrainer maxRestarts(int n) {
        this.maxRestarts = n;
        return this;
    }

    /** Trains on {@code data} (any partitioning: each partition is a worker's shard). */
    public Result train(JavaRDD<LabeledText> data) throws IOException {
        Files.createDirectories(args.outputDir());
        JavaRDD<Indexed> rows = data.zipWithIndex()
                .map(t -> new Indexed(Math.toIntExact(t._2()), t._1().text(), t._1().label()))
                .persist(StorageLevel.MEMORY_AND_DISK());
        try {
            return run(rows);
        } finally {
            rows.unpersist(false);
        }
    }

    private Result run(JavaRDD<Indexed> rows) throws IOException {
        // ---- token lengths and labels of every example (for the batch order and class weights): one pass
        final String k = key;
        final ModelFactory f = factory;
        final int maxLen = args.maxSeqLength();
        List<int[]> stats = rows.mapPartitions((Iterator<Indexed> it) -> {
            Tokenizer tok = Worker.get(k, f, maxLen).batcher.tokenizer();
            List<int[]> out = new ArrayList<>();
            while (it.hasNext()) {
                Indexed r = it.next();
                out.add(new int[]{r.index(), tok.encode(r.text()).length(), r.label()});
            }
            return out.iterator();
        }).collect();
        int n = stats.size();
        if (n == 0) throw new IllegalArgumentException("no training examples");
        int[] lengths = new int[n], y = new int[n];
        for (int[] s : stats) {
            lengths[s[0]] = s[1];
            y[s[0]] = s[2];
            if (s[2] < 0 || s[2] >= labels.size()) {
                throw new IllegalArgumentException("training example " + s[0] + " has label " + s[2] + " but there are only "
                        + labels.size() + " labels " + labels);
            }
        }

        // ---- Trainer's arithmetic: steps, loss, AdamW and the schedule over the trainable parameters
        final int batchSize = args.perDeviceTrainBatchSize(), accumulation = args.gradientAccumulationSteps();
        final long stepsPerEpoch = ceilDiv(ceilDiv(n, batchSize), accumulation);
        final long totalSteps = args.maxSteps() > 0 ? args.maxSteps() : stepsPerEpoch * args.numTrainEpochs();
        final double[] classWeights = args.classWeights().resolve(y, labels.size());
        final AdamW optimizer = new AdamW(trainable, new AdamW.Options(args.learningRate(), args.adamBeta1(),
                args.adamBeta2(), args.adamEpsilon(), args.weightDecay()));
        final LrSchedule schedule = LrSchedule.byName(args.lrSchedulerType(), args.learningRate(),
                LrSchedule.warmupSteps(args.warmupSteps(), args.warmupRatio(), totalSteps), totalSteps);

        Position pos = new Position();
        Path lastCheckpoint = null;
        if (args.resumeFromCheckpoint() != null) {
            restore(args.resumeFromCheckpoint(), optimizer, pos, n, totalSteps);
            lastCheckpoint = args.resumeFromCheckpoint();
        }
        LOG.info(String.format(Locale.ROOT, "distributed training of %,d parameters on %d examples in %d partitions, %d steps "
                        + "(global batch %d x accumulation %d)%s", trainable.stream().mapToLong(Parameter::numel).sum(), n,
                rows.getNumPartitions(), totalSteps, batchSize, accumulation,
                pos.step > 0 ? ", resuming at step " + pos.step : ""));

        List<Double> losses = new ArrayList<>(), stepSeconds = new ArrayList<>(), computeSeconds = new ArrayList<>();
        final long firstStep = pos.step;
        int restarts = 0, orderEpoch = -1;
        List<int[]> batches = null;
        driver.model().zeroGrad();
        while (pos.step < totalSteps) {
            if (orderEpoch != pos.epoch) {
                batches = BatchOrder.batches(lengths, batchSize, args.groupByLength(), args.seed(), pos.epoch);
                orderEpoch = pos.epoch;
            }
            List<int[]> group = batches.subList(pos.batch, Math.min(batches.size(), pos.batch + accumulation));
            double groupWeight = 0;
            for (int[] b : group) for (int i : b) groupWeight += classWeights == null ? 1 : classWeights[y[i]];

            long t0 = System.nanoTime();
            GradPart sum;
            try {
                sum = distributedGradients(rows, group, classWeights);
            } catch (Exception e) { // Spark's SparkException is checked but undeclared in its Java API
                if (!isSparkFailure(e) || restarts >= maxRestarts || lastCheckpoint == null) {
                    if (e instanceof RuntimeException re) throw re;
                    throw new IllegalStateException("step " + (pos.step + 1) + " failed: " + e.getMessage(), e);
                }
                restarts++;
                LOG.warn("step {} failed ({}): resuming from {} (restart {}/{})", pos.step + 1, e.getMessage(), lastCheckpoint,
                        restarts, maxRestarts);
                restore(lastCheckpoint, optimizer, pos, n, totalSteps);
                driver.model().zeroGrad();
                // the steps after the checkpoint run again: their first results are dropped
                int keep = (int) Math.max(0, pos.step - firstStep);
                for (List<Double> l : List.of(losses, stepSeconds, computeSeconds)) l.subList(Math.min(keep, l.size()), l.size()).clear();
                continue;
            }
            if (Math.abs(sum.weightSum - groupWeight) > 1e-9 * groupWeight) {
                throw new IllegalStateException("the partitions saw weight " + sum.weightSum + " of the step's " + groupWeight
                        + ": a row is missing or counted twice");
            }
            // ---- the weighted mean over the step's examples, as Trainer's accumulation computes it
            for (int i = 0; i < trainable.size(); i++) {
                Parameter p = trainable.get(i);
                double[] g = sum.grads[i];
                float[] mean = new float[g.length];
                for (int j = 0; j < g.length; j++) mean[j] = (float) (g[j] / groupWeight);
                p.grad().assign(Nd4j.createFromArray(mean).reshape(p.grad().shape()).castTo(p.grad().dataType()));
            }
            double loss = sum.lossSum / groupWeight;
            double gradNorm = args.maxGradNorm() > 0 ? GradClip.clipGlobalNorm(trainable, args.maxGradNorm()) : GradClip.globalNorm(trainable);
            long step = pos.step + 1;
            if (!Double.isFinite(loss) || !Double.isFinite(gradNorm)) {
                driver.model().zeroGrad();
                throw new TrainingDivergedException(step, "loss " + loss + ", gradient norm " + gradNorm, lastCheckpoint);
            }
            double lr = schedule.lr(optimizer.steps());
            optimizer.step(lr, true);  // and clears the gradients it reads, as Trainer

            pos.step = step;
            pos.batch += group.size();
            if (pos.batch >= batches.size()) {
                pos.epoch++;
                pos.batch = 0;
            }
            pos.lossTotal += loss;
            pos.lossSinceLog += loss;
            pos.stepsSinceLog++;
            double seconds = (System.nanoTime() - t0) / 1e9;
            losses.add(loss);
            stepSeconds.add(seconds);
            computeSeconds.add(sum.computeNanos / 1e9);
            if (step % args.loggingSteps() == 0 || step == totalSteps) {
                LOG.info(String.format(Locale.ROOT, "step %d/%d  loss %.4f  lr %.3g  grad_norm %.3f  %.3f s (slowest partition %.3f s)",
                        step, totalSteps, pos.lossSinceLog / pos.stepsSinceLog, lr, gradNorm, seconds, sum.computeNanos / 1e9));
                pos.lossSinceLog = 0;
                pos.stepsSinceLog = 0;
            }
            if (args.saveSteps() > 0 && step % args.saveSteps() == 0) {
                lastCheckpoint = Checkpoint.save(args.outputDir(), pos.state(args.seed(), totalSteps, n, trainable, batchSize, accumulation), trainable,
                        optimizer, null, args);
                LOG.info("saved {}", lastCheckpoint);
            }
        }
        driver.model().train(false);
        return new Result(pos.step, losses, stepSeconds, computeSeconds, lastCheckpoint, restarts);
    }

    private static boolean isSparkFailure(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) if (t instanceof SparkException) return true;
        return false;
    }

    /** One step's gradient sums over every partition: broadcast the trainable values, compute, treeAggregate. */
    private GradPart distributedGradients(JavaRDD<Indexed> rows, List<int[]> group, double[] classWeights) {
        float[][] values = new float[trainable.size()][];
        for (int i = 0; i < values.length; i++) values[i] = trainable.get(i).value().castTo(DataType.FLOAT).dup('c').data().asFloat();
        // the step's examples, sorted, with the number of their batch within the accumulation group
        int count = 0;
        for (int[] b : group) count += b.length;
        long[] packed = new long[count];
        int c = 0;
        for (int b = 0; b < group.size(); b++) for (int i : group.get(b)) packed[c++] = ((long) i << 16) | b;
        Arrays.sort(packed);
        int[] sortedIndex = new int[count], batchOf = new int[count];
        for (int j = 0; j < count; j++) {
            sortedIndex[j] = (int) (packed[j] >>> 16);
            batchOf[j] = (int) (packed[j] & 0xFFFF);
        }
        final int groups = group.size();
        Broadcast<float[][]> bc = sc.broadcast(values);
        final String k = key;
        final ModelFactory f = factory;
        final int maxLen = args.maxSeqLength();
        final String shards = sc.sc().applicationId() + "/" + rows.id();
        try {
            return rows.mapPartitions((Iterator<Indexed> it) -> List.of(
                            Worker.get(k, f, maxLen).gradients(shards, it, bc.value(), sortedIndex, batchOf, groups, classWeights)).iterator())
                    .treeAggregate(new GradPart(), GradPart::add, GradPart::add, 2);
        } finally {
            bc.destroy();
        }
    }

    private void restore(Path dir, AdamW optimizer, Position pos, int trainSize, long totalSteps) throws IOException {
        Checkpoint.State s = Checkpoint.restore(dir, trainable, optimizer, args, trainSize, totalSteps, "training examples").state();
        pos.step = s.globalStep();
        pos.epoch = s.epoch();
        pos.batch = s.batchIndex();
        pos.lossTotal = s.lossTotal();
        pos.lossSinceLog = s.lossSinceLog();
        pos.stepsSinceLog = s.stepsSinceLog();
        LOG.info("resumed from {} at step {} (epoch {}, batch {})", dir, s.globalStep(), s.epoch(), s.batchIndex());
    }

    /** Where the run is: what a checkpoint stores. */
    private static final class Position {
        long step;
        int epoch, batch;
        double lossTotal, lossSinceLog;
        long stepsSinceLog;

        Checkpoint.State state(long seed, long totalSteps, int trainSize, List<Parameter> trainable, int batchSize, int accumulation) {
            // dropout is not keyed here: a partition holds part of a batch, so masks cannot follow Trainer's per-batch keys
            return new Checkpoint.State(step, epoch, batch, seed, totalSteps, trainSize, lossSinceLog, stepsSinceLog, lossTotal,
                    Double.NaN, -1, 0, trainable.stream().map(Parameter::name).toList(), batchSize, accumulation, false, 0, 0);
        }
    }

    /** A partition's (or a sum of partitions') weighted gradient, loss and weight sums. */
    static final class GradPart implements Serializable {
        double[][] grads; // null: no rows
        double lossSum, weightSum;
        long computeNanos; // the slowest partition's

        GradPart add(GradPart o) {
            if (o.grads != null) {
                if (grads == null) {
                    grads = new double[o.grads.length][];
                    for (int i = 0; i < grads.length; i++) grads[i] = o.grads[i].clone();
                } else {
                    for (int i = 0; i < grads.length; i++) {
                        double[] a = grads[i], b = o.grads[i];
                        for (int j = 0; j < a.length; j++) a[j] += b[j];
                    }
                }
            }
            lossSum += o.lossSum;
            weightSum += o.weightSum;
            computeNanos = Math.max(computeNanos, o.computeNanos);
            return this;
        }
    }

    /** The model of one JVM (built once per key) and the forward/backward of a partition's rows. */
    static final class Worker {
        private static final Map<String, Worker> CACHE = new ConcurrentHashMap<>();
        private static final AtomicInteger BUILDS = new AtomicInteger();
        /** Tests: the gradient tasks that run before one fails (negative: none fails). */
        static final AtomicInteger FAIL_AFTER = new AtomicInteger(-1);
        final SequenceClassifier model;
        final List<Parameter> trainable;
        final Batcher batcher;
        /** This JVM's partitions of the current run's rows by example index: a step looks up its rows, not scans. */
        private String shardsOf;
        private final Map<Integer, Map<Integer, Indexed>> shards = new java.util.HashMap<>();

        private Worker(Built b, int maxLen) {
            this.model = b.model();
            this.trainable = model.parameters().stream().filter(Parameter::trainable).toList();
            this.batcher = new Batcher(b.tokenizer(), maxLen);
        }

        /** How many models this JVM has built for training (tests: once per JVM). */
        static int builds() {
            return BUILDS.get();
        }

        static Worker get(String key, ModelFactory f, int maxLen) {
            ExecutorThreads.configure(ExecutorThreads.taskCpus());
            return CACHE.computeIfAbsent(key + "|" + maxLen, k -> {
                try {
                    Worker w = new Worker(f.build(), maxLen);
                    BUILDS.incrementAndGet();
                    return w;
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot build the model '" + key + "' on this executor: " + e.getMessage(), e);
                }
            });
        }

        /** Σ w·∂ℓ/∂θ, Σ w·ℓ and Σ w over this partition's rows of the step (forward per batch of the group). */
        synchronized GradPart gradients(String run, Iterator<Indexed> rows, float[][] values, int[] sortedIndex, int[] batchOf,
                                        int groups, double[] classWeights) {
            // the partition's rows by index, read from Spark's cache once per JVM and run; a partition this JVM has not
            // seen yet (the first step, or a task rescheduled here) is read from its iterator
            if (!run.equals(shardsOf)) {
                shards.clear();
                shardsOf = run;
            }
            org.apache.spark.TaskContext tc = org.apache.spark.TaskContext.get();
            int partition = tc == null ? -1 : tc.partitionId();
            Map<Integer, Indexed> shard = shards.get(partition);
            if (shard == null) {
                shard = new java.util.HashMap<>();
                while (rows.hasNext()) {
                    Indexed r = rows.next();
                    shard.put(r.index(), r);
                }
                shards.put(partition, shard);
            }
            List<List<Example>> perBatch = new ArrayList<>();
            for (int b = 0; b < groups; b++) perBatch.add(new ArrayList<>());
            int mine = 0;
            for (int j = 0; j < sortedIndex.length; j++) {
                Indexed r = shard.get(sortedIndex[j]);
                if (r != null) {
                    perBatch.get(batchOf[j]).add(new Example(r.text(), r.label(), "row " + r.index()));
                    mine++;
                }
            }
            if (FAIL_AFTER.get() >= 0 && FAIL_AFTER.getAndDecrement() == 0) {
                throw new IllegalStateException("injected failure (DistributedTrainer.Worker.FAIL_AFTER)");
            }
            GradPart out = new GradPart();
            if (mine == 0) return out;
            long t0 = System.nanoTime();
            if (values.length != trainable.size()) throw new IllegalStateException("the driver sent " + values.length
                    + " trainable tensors, this executor's model has " + trainable.size() + ": build the same model everywhere");
            for (int i = 0; i < values.length; i++) {
                Parameter p = trainable.get(i);
                p.value().assign(Nd4j.createFromArray(values[i]).reshape(p.value().shape()).castTo(p.value().dataType()));
            }
            model.zeroGrad();
            model.train(true);
            CrossEntropyLoss lossFn = new CrossEntropyLoss(classWeights);
            try (MemoryWorkspace ws = StepMemory.step(WORKSPACE)) {
                for (List<Example> examples : perBatch) {
                    if (examples.isEmpty()) continue;
                    Batcher.Tokenized t = batcher.tokenize(examples);
                    Batcher.LabeledBatch b = batcher.evalBatches(t, t.size()).get(0); // this partition's part, padded once
                    INDArray logits = model.forward(b.batch());
                    CrossEntropyLoss.Result ce = lossFn.compute(logits, b.labels());
                    double w = 0;
                    for (int label : b.labels()) w += classWeights == null ? 1 : classWeights[label];
                    model.backward(ce.dLogits().muli(w)); // the weighted sum, not the mean: the driver divides by the step's Σw
                    out.lossSum += ce.loss() * w;
                    out.weightSum += w;
                }
            }
            out.grads = new double[trainable.size()][];
            for (int i = 0; i < out.grads.length; i++) {
                float[] g = trainable.get(i).grad().castTo(DataType.FLOAT).dup('c').data().asFloat();
                double[] d = new double[g.length];
                for (int j = 0; j < g.length; j++) d[j] = g[j];
                out.grads[i] = d;
            }
            model.zeroGrad();
            out.computeNanos = System.nanoTime() - t0;
            return out;
        }
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }
}
