package org.finsent.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.finsent.core.data.Example;
import org.finsent.core.io.StateDict;
import org.finsent.core.metrics.ClassificationMetrics;
import org.finsent.core.io.AtomicFiles;
import org.finsent.core.model.CrossEntropyLoss;
import org.finsent.core.model.ModelWeights;
import org.finsent.core.model.SequenceClassifier;
import org.finsent.core.nn.Dropout;
import org.finsent.core.nn.Parameter;
import org.finsent.train.optim.AdamW;
import org.finsent.train.optim.GradClip;
import org.finsent.train.optim.LrSchedule;
import org.finsent.tokenizers.Tokenizer;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedWriter;
import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Fine-tunes a {@link SequenceClassifier} (a base model for full fine-tuning, or a PEFT model whose frozen weights
 * have no gradient buffers) on labelled examples, as Hugging Face's {@code Trainer} does.
 *
 * <p>{@link #train} reads top to bottom as one training step: tokens → logits → weighted cross-entropy → gradients
 * → clipping → AdamW. The bookkeeping around a step (logging, evaluation, checkpoints, early stopping) is in small
 * methods called after it.
 *
 * <p><b>Gradient accumulation.</b> {@code gradientAccumulationSteps} batches form one optimizer step, and the
 * step's loss is the weighted mean over <em>all</em> examples of those batches, exactly as if they were one big
 * batch: each batch's mean loss (and its {@code dLogits}) is scaled by its share of the group's total class weight,
 * {@code Σ_batch w[y] / Σ_group w[y]}. With equal batches and no class weights this is the usual division by the
 * number of accumulation steps; unlike that division it stays exact for a short last batch and for weighted losses
 * (the fix Hugging Face made with {@code num_items_in_batch}). A short last group of an epoch still steps.
 *
 * <p><b>Only trainable parameters</b> ({@code grad() != null}) are clipped, stepped, checkpointed and remembered as
 * the best model, so a LoRA run's optimizer state and checkpoints are a few hundred KB.
 *
 * <p>Outputs in {@code outputDir}: {@code training_log.jsonl} (one JSON object per logging step and per
 * evaluation), {@code metrics.json} (at the end), {@code checkpoint-<step>/} every {@code saveSteps} ({@link Checkpoint}).
 * Progress goes to SLF4J log lines (training every {@code loggingSteps}, evaluation every few seconds), or to a
 * listener that shows it itself ({@code org.finsent.report.ProgressBars} in finsent-report draws progress bars).
 *
 * <p><b>Randomness.</b> Shuffling is a pure function of (seed, epoch) ({@link Batcher}); the dropout masks of a batch
 * are drawn in a {@link Dropout#keyed keyed scope} whose key is a pure function of (seed, epoch, batch index). So
 * the checkpoint's position in the data is the whole random state of training.
 *
 * <p><b>Resuming</b> ({@link TrainingArguments#resumeFromCheckpoint()}) restores the trainable weights, AdamW's
 * moments and step counts, the schedule position, the position in the data (and with it the dropout masks to come),
 * the best model and the early-stopping counter, so the run continues bit-identically, dropout on or off (tested,
 * including {@code kill -9} in the middle of a checkpoint write). A checkpoint that disagrees with itself or with
 * the run (another data size, batch size, trainable parameters, a step beyond the run's end) is refused with a
 * {@link CheckpointException} naming the file. Leftovers of a killed run ({@code .tmp-checkpoint-*}) are removed
 * when a run starts.
 *
 * <p>Not thread-safe: one {@code train} at a time per model.
 */
public final class Trainer {
    private static final Logger LOG = LoggerFactory.getLogger(Trainer.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    public static final String LOG_FILE = "training_log.jsonl";
    public static final String METRICS_FILE = "metrics.json";

    private final SequenceClassifier model;
    private final TrainingArguments args;
    private final List<String> labelNames;
    private final Batcher batcher;
    private final List<TrainingListener> listeners = new CopyOnWriteArrayList<>();
    private final StepMemory memory = new StepMemory();
    private static final String STEP_WORKSPACE = "finsent-train-step", EVAL_WORKSPACE = "finsent-eval-batch";
    private static final long EVAL_LOG_NANOS = 10_000_000_000L;

    /**
     * @param model      the classifier; its trainable parameters are those with a gradient buffer
     * @param tokenizer  encodes the texts (its pad id and padding side are used for dynamic padding)
     * @param args       the run's arguments
     * @param labelNames class names by id (e.g. {@code Sentiment.labels()}); their count is the number of classes
     */
    public Trainer(SequenceClassifier model, Tokenizer tokenizer, TrainingArguments args, List<String> labelNames) {
        this.model = Objects.requireNonNull(model, "model");
        this.args = Objects.requireNonNull(args, "args");
        this.labelNames = List.copyOf(labelNames);
        if (this.labelNames.size() < 2) throw new IllegalArgumentException("need at least 2 labels: " + labelNames);
        this.batcher = new Batcher(tokenizer, args.maxSeqLength());
        int positions = maxInputTokens(model);
        if (args.maxSeqLength() > positions) {
            throw new IllegalArgumentException("maxSeqLength " + args.maxSeqLength() + " is more than the model takes: "
                    + positions + " tokens (its position embeddings" + (positions < positionTable(model) ? " less the virtual tokens" : "")
                    + "); use at most " + positions);
        }
    }

    /**
     * The longest input, in tokens, the model can take: the rows of its position-embedding table (BERT's
     * {@code max_position_embeddings}, GPT-2's {@code n_positions}) less the virtual tokens of prefix or prompt
     * tuning, which take positions too. {@link Integer#MAX_VALUE} for a model without such a table.
     */
    public static int maxInputTokens(SequenceClassifier model) {
        long table = positionTable(model);
        if (table == Integer.MAX_VALUE) return Integer.MAX_VALUE;
        long virtual = 0;
        for (Parameter p : model.parameters()) {
            String n = p.name();
            if (n.endsWith("prompt_encoder.embedding.weight") || n.endsWith("prefix_encoder.embedding.weight")) virtual += p.value().size(0);
        }
        return (int) Math.max(0, table - virtual);
    }

    private static long positionTable(SequenceClassifier model) {
        for (Parameter p : model.parameters()) {
            String n = p.name();
            if (n.endsWith("embeddings.position_embeddings.weight") || n.equals("transformer.wpe.weight") || n.endsWith(".wpe.weight")) {
                return p.value().size(0);
            }
        }
        return Integer.MAX_VALUE;
    }

    public Trainer addListener(TrainingListener listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
        return this;
    }

    public Batcher batcher() {
        return batcher;
    }

    public TrainingArguments args() {
        return args;
    }

    public List<String> labelNames() {
        return labelNames;
    }

    /**
     * Trains on {@code trainExamples}, evaluating on {@code evalExamples} (may be null or empty: then no evaluation,
     * no best model). Resumes from {@link TrainingArguments#resumeFromCheckpoint()} when set.
     *
     * @throws TrainingDivergedException when the loss or gradient norm becomes non-finite (no step is taken)
     */
    public TrainResult train(List<Example> trainExamples, List<Example> evalExamples) throws IOException {
        final long startNanos = System.nanoTime();
        Files.createDirectories(args.outputDir());
        int removed = Checkpoint.removeLeftovers(args.outputDir()); // what a killed run was writing
        if (removed > 0) LOG.info("{}: removed {} unfinished file(s) of an interrupted run", args.outputDir(), removed);

        // ---- data: tokenized once (truncated, unpadded); batches are formed per epoch
        checkLabels(trainExamples, "training");
        Batcher.Tokenized train = batcher.tokenize(trainExamples);
        Batcher.Tokenized eval = null;
        if (evalExamples != null && !evalExamples.isEmpty()) {
            checkLabels(evalExamples, "evaluation");
            eval = batcher.tokenize(evalExamples);
        }
        if (train.size() == 0) throw new IllegalArgumentException("no training examples");
        final int batchSize = args.perDeviceTrainBatchSize();
        final int accumulation = args.gradientAccumulationSteps();
        final int batchesPerEpoch = ceilDiv(train.size(), batchSize);
        final long stepsPerEpoch = ceilDiv(batchesPerEpoch, accumulation);
        final long totalSteps = args.maxSteps() > 0 ? args.maxSteps() : stepsPerEpoch * args.numTrainEpochs();
        final int numEpochs = (int) ceilDiv(totalSteps, stepsPerEpoch);

        // ---- loss, and AdamW + LR schedule over the trainable parameters only
        final double[] classWeights = args.classWeights().resolve(train.labels(), labelNames.size());
        final CrossEntropyLoss lossFn = new CrossEntropyLoss(classWeights);
        final List<Parameter> trainable = model.parameters().stream().filter(Parameter::trainable).toList();
        if (trainable.isEmpty()) throw new IllegalStateException("the model has no trainable parameters");
        final AdamW optimizer = new AdamW(trainable, new AdamW.Options(args.learningRate(), args.adamBeta1(),
                args.adamBeta2(), args.adamEpsilon(), args.weightDecay()));
        final LrSchedule schedule = LrSchedule.byName(args.lrSchedulerType(), args.learningRate(),
                LrSchedule.warmupSteps(args.warmupSteps(), args.warmupRatio(), totalSteps), totalSteps);

        Run run = new Run(trainable, totalSteps, train.size());
        if (args.resumeFromCheckpoint() != null) resume(run, optimizer, args.resumeFromCheckpoint());
        else Files.deleteIfExists(args.outputDir().resolve(LOG_FILE));
        logStart(run, trainable, train, eval, totalSteps, classWeights);
        for (TrainingListener l : listeners) l.onTrainBegin(args, totalSteps);

        model.train(true);
        model.zeroGrad();
        final int startEpoch = run.epoch, startBatch = run.batchIndex; // (0, 0), or where the checkpoint stopped
        try (Closeable release = () -> StepMemory.release(STEP_WORKSPACE)) {
            epochs:
            for (int epoch = startEpoch; epoch < numEpochs; epoch++) {
                List<Batcher.LabeledBatch> batches = batcher.trainBatches(train, batchSize, args.groupByLength(), args.seed(), epoch);
                int firstBatch = epoch == startEpoch ? startBatch : 0;
                for (int first = firstBatch; first < batches.size(); first += accumulation) {
                    List<Batcher.LabeledBatch> group = batches.subList(first, Math.min(batches.size(), first + accumulation));
                    double groupWeight = 0;
                    for (Batcher.LabeledBatch b : group) groupWeight += weightSum(b.labels(), classWeights);

                    // ---- forward and backward for each batch of the accumulation group; gradients add up (+=).
                    //      The step's temporaries live in a reused workspace (StepMemory explains why and the rule).
                    double loss = 0, gradNorm;
                    try (MemoryWorkspace ws = StepMemory.step(STEP_WORKSPACE)) {
                        for (int k = 0; k < group.size(); k++) {
                            Batcher.LabeledBatch b = group.get(k);
                            INDArray logits;
                            try (Dropout.Scope masks = Dropout.keyed(dropoutKey(args.seed(), epoch, first + k))) {
                                logits = model.forward(b.batch());                            // [B, T] ids → [B, C]
                            }
                            CrossEntropyLoss.Result ce = lossFn.compute(logits, b.labels());  // weighted mean, dL/dlogits
                            double share = weightSum(b.labels(), classWeights) / groupWeight; // batch's part of the group mean
                            model.backward(ce.dLogits().muli(share));                         // grads of trainable params
                            loss += ce.loss() * share;
                            run.countBatch(b);
                        }
                        // clip the accumulated gradients of the trainable parameters to a global norm (in place)
                        gradNorm = args.maxGradNorm() > 0
                                ? GradClip.clipGlobalNorm(trainable, args.maxGradNorm())
                                : GradClip.globalNorm(trainable);
                    }

                    // ---- one optimizer step: refuse non-finite, AdamW at the scheduled LR, clear gradients
                    long step = run.globalStep + 1;
                    if (!Double.isFinite(loss) || !Double.isFinite(gradNorm)) {
                        model.zeroGrad();
                        throw new TrainingDivergedException(step, "loss " + loss + ", gradient norm " + gradNorm, run.lastCheckpoint);
                    }
                    double lr = schedule.lr(optimizer.steps());
                    optimizer.step(lr, true);  // clears each gradient as it reads it (the trainable ones are all it steps)
                    memory.check(); // what was allocated outside the workspace is freed only after a GC

                    // ---- bookkeeping after the step
                    int next = first + group.size();
                    run.stepDone(loss, epoch, next, batches.size());
                    double epochF = epoch + (double) next / batches.size();
                    for (TrainingListener l : listeners) l.onOptimizerStep(step, totalSteps, loss);
                    boolean last = step >= totalSteps;
                    if (step % args.loggingSteps() == 0 || last) logTrain(run, epochF, lr, gradNorm, startNanos);
                    boolean epochEnd = next >= batches.size();
                    boolean evalNow = eval != null && (last
                            || args.evalStrategy() == TrainingArguments.EvalStrategy.STEPS && step % args.evalStepsResolved() == 0
                            || args.evalStrategy() == TrainingArguments.EvalStrategy.EPOCH && epochEnd);
                    boolean stop = false;
                    long pausedAt = System.nanoTime(); // evaluation and saving do not count against throughput
                    if (evalNow) {
                        EvalResult r = evaluate(eval, lossFn, classWeights);
                        model.train(true);
                        stop = afterEvaluation(run, r, epochF, trainable, startNanos, last);
                    }
                    if (args.saveSteps() > 0 && step % args.saveSteps() == 0) save(run, trainable, optimizer);
                    run.windowStart += System.nanoTime() - pausedAt;
                    if (last || stop) {
                        run.stoppedEarly = stop && !last;
                        break epochs;
                    }
                }
            }
        }
        model.train(false);
        return finish(run, trainable, eval, lossFn, classWeights, startNanos);
    }

    /**
     * Evaluates the model as it is (dropout off; the model stays in evaluation mode) with the unweighted loss.
     * {@link #train} evaluates with its own weighted loss instead.
     */
    public EvalResult evaluate(List<Example> examples) {
        checkLabels(examples, "evaluation");
        return evaluate(batcher.tokenize(examples), new CrossEntropyLoss(null), null);
    }

    private EvalResult evaluate(Batcher.Tokenized data, CrossEntropyLoss lossFn, double[] classWeights) {
        long t0 = System.nanoTime();
        model.train(false);
        int[] predictions = new int[data.size()];
        double lossSum = 0, weightTotal = 0;
        long done = 0, nextLog = t0 + EVAL_LOG_NANOS;
        for (Batcher.LabeledBatch b : batcher.evalBatches(data, args.perDeviceEvalBatchSize())) {
            double w = weightSum(b.labels(), classWeights);
            int[] argmax;
            try (MemoryWorkspace ws = StepMemory.step(EVAL_WORKSPACE)) {
                INDArray logits = model.forward(b.batch());
                lossSum += lossFn.compute(logits, b.labels()).loss() * w;
                argmax = logits.argMax(1).toIntVector();
            }
            weightTotal += w;
            for (int r = 0; r < b.size(); r++) predictions[b.indices()[r]] = argmax[r];
            memory.check();
            done += b.size();
            for (TrainingListener l : listeners) l.onEvaluateProgress(done, data.size());
            if (System.nanoTime() >= nextLog && done < data.size()) { // a long evaluation says where it is
                nextLog = System.nanoTime() + EVAL_LOG_NANOS;
                String line = String.format(Locale.ROOT, "evaluating: %d/%d examples", done, data.size());
                if (progressShown()) LOG.debug(line);
                else LOG.info(line);
            }
        }
        StepMemory.release(EVAL_WORKSPACE);
        ClassificationMetrics metrics = ClassificationMetrics.compute(data.labels(), predictions, labelNames.size());
        return new EvalResult(lossSum / weightTotal, metrics, predictions, (System.nanoTime() - t0) / 1e9);
    }

    // ------------------------------------------------------------------------------------------ bookkeeping

    /** Mutable progress of a run; {@link #state()} is what a checkpoint stores. */
    private static final class Run {
        final List<Parameter> trainable;
        final long totalSteps;
        final int trainSize;
        long globalStep;
        int epoch, batchIndex;
        double lossSinceLog, lossTotal;
        long stepsSinceLog, stepsThisRun;
        double lossThisRun;
        double bestMetric = Double.NaN;
        long bestStep = -1;
        Map<String, INDArray> bestWeights;
        EvalResult bestEval, lastEval;
        int evalsWithoutImprovement;
        boolean stoppedEarly;
        Path lastCheckpoint;
        // throughput window since the last train log entry, and totals for padding efficiency
        long windowStart = System.nanoTime(), windowSamples, windowTokens, realTokens, paddedTokens;
        final List<LogEntry> log = new ArrayList<>();

        Run(List<Parameter> trainable, long totalSteps, int trainSize) {
            this.trainable = trainable;
            this.totalSteps = totalSteps;
            this.trainSize = trainSize;
        }

        void countBatch(Batcher.LabeledBatch b) {
            windowSamples += b.size();
            windowTokens += b.realTokens();
            realTokens += b.realTokens();
            paddedTokens += b.paddedTokens();
        }

        void stepDone(double loss, int epochIndex, int nextBatch, int batchesInEpoch) {
            globalStep++;
            lossSinceLog += loss;
            stepsSinceLog++;
            lossTotal += loss;
            lossThisRun += loss;
            stepsThisRun++;
            epoch = nextBatch >= batchesInEpoch ? epochIndex + 1 : epochIndex;
            batchIndex = nextBatch >= batchesInEpoch ? 0 : nextBatch;
        }

        Checkpoint.State state(TrainingArguments args) {
            return new Checkpoint.State(globalStep, epoch, batchIndex, args.seed(), totalSteps, trainSize, lossSinceLog,
                    stepsSinceLog, lossTotal, bestMetric, bestStep, evalsWithoutImprovement,
                    trainable.stream().map(Parameter::name).toList(), args.perDeviceTrainBatchSize(),
                    args.gradientAccumulationSteps(), true, realTokens, paddedTokens);
        }
    }

    private void logTrain(Run run, double epoch, double lr, double gradNorm, long startNanos) throws IOException {
        double seconds = (System.nanoTime() - run.windowStart) / 1e9;
        LogEntry e = new LogEntry(run.globalStep, epoch, lr, run.lossSinceLog / run.stepsSinceLog, gradNorm,
                run.windowSamples / seconds, run.windowTokens / seconds, (System.nanoTime() - startNanos) / 1e9, null);
        run.lossSinceLog = 0;
        run.stepsSinceLog = 0;
        run.windowSamples = 0;
        run.windowTokens = 0;
        run.windowStart = System.nanoTime();
        appendLog(run, e);
        String line = String.format(Locale.ROOT, "step %d/%d  epoch %.2f  loss %.4f  lr %.3g  grad_norm %.3f  %.1f samples/s  %.0f tokens/s",
                e.step(), run.totalSteps, e.epoch(), e.trainLoss(), e.lr(), e.gradNorm(), e.samplesPerSecond(), e.tokensPerSecond());
        if (progressShown()) LOG.debug(line);
        else LOG.info(line);
        for (TrainingListener l : listeners) l.onStep(e);
    }

    /** Logs the evaluation, tracks the best model and early stopping; returns true when training should stop. */
    private boolean afterEvaluation(Run run, EvalResult r, double epoch, List<Parameter> trainable, long startNanos,
                                    boolean last) throws IOException {
        run.lastEval = r;
        appendLog(run, new LogEntry(run.globalStep, epoch, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN,
                (System.nanoTime() - startNanos) / 1e9, r));
        double value = r.metric(args.metricForBestModel());
        boolean better = Double.isNaN(run.bestMetric)
                || (args.greaterIsBetterResolved() ? value > run.bestMetric : value < run.bestMetric);
        LOG.info(String.format(Locale.ROOT, "eval at step %d (epoch %.2f): loss %.4f  accuracy %.4f  f1_macro %.4f  f1_weighted %.4f%s",
                run.globalStep, epoch, r.loss(), r.metrics().accuracy(), r.metrics().macroF1(), r.metrics().weightedF1(),
                better ? "  (best " + args.metricForBestModel() + ")" : ""));
        if (better) {
            run.bestMetric = value;
            run.bestStep = run.globalStep;
            run.bestEval = r;
            run.evalsWithoutImprovement = 0;
            if (args.loadBestModelAtEnd() && !last) {
                Map<String, INDArray> copy = new LinkedHashMap<>();
                for (Parameter p : trainable) copy.put(p.name(), p.value().dup());
                run.bestWeights = copy;
            } else if (last) {
                run.bestWeights = null; // the current weights are the best: nothing to restore
            }
        } else {
            run.evalsWithoutImprovement++;
        }
        for (TrainingListener l : listeners) l.onEvaluate(run.globalStep, epoch, r);
        boolean stop = args.earlyStoppingPatience() > 0 && run.evalsWithoutImprovement >= args.earlyStoppingPatience();
        if (stop && !last) {
            LOG.info("early stopping at step {}: {} evaluations without improvement of {} (best {} at step {})",
                    run.globalStep, run.evalsWithoutImprovement, args.metricForBestModel(), run.bestMetric, run.bestStep);
        }
        return stop;
    }

    private void save(Run run, List<Parameter> trainable, AdamW optimizer) throws IOException {
        Path dir = Checkpoint.save(args.outputDir(), run.state(args), trainable, optimizer, run.bestWeights, args);
        run.lastCheckpoint = dir;
        LOG.info("saved {}", dir);
        for (TrainingListener l : listeners) l.onSave(run.globalStep, dir);
    }

    /** The key of the dropout masks of batch {@code batch} of epoch {@code epoch}: a pure function of the position. */
    static long dropoutKey(long seed, int epoch, int batch) {
        return Dropout.mix(seed, epoch, batch);
    }

    /**
     * Loads weights, optimizer state and progress from a checkpoint, after checking it against this run, and cuts
     * the log back to its step.
     */
    private void resume(Run run, AdamW optimizer, Path dir) throws IOException {
        Checkpoint.Loaded c = Checkpoint.restore(dir, run.trainable, optimizer, args, run.trainSize, run.totalSteps, "training examples");
        Checkpoint.State s = c.state();
        run.globalStep = s.globalStep();
        run.epoch = s.epoch();
        run.batchIndex = s.batchIndex();
        run.lossSinceLog = s.lossSinceLog();
        run.stepsSinceLog = s.stepsSinceLog();
        run.lossTotal = s.lossTotal();
        run.bestMetric = s.bestMetric();
        run.bestStep = s.bestStep();
        run.evalsWithoutImprovement = s.evalsWithoutImprovement();
        run.realTokens = s.realTokens();
        run.paddedTokens = s.paddedTokens();
        run.lastCheckpoint = dir;
        if (c.best() != null) {
            run.bestWeights = new LinkedHashMap<>();
            for (Parameter p : run.trainable) {
                run.bestWeights.put(p.name(), c.best().require(p.name()).toINDArray(p.value().dataType()));
            }
        }
        truncateLog(s.globalStep());
        LOG.info("resumed from {} at step {} (epoch {}, batch {})", dir, s.globalStep(), s.epoch(), s.batchIndex());
    }

    /** Restores the best weights if asked, writes {@code metrics.json}, notifies listeners. */
    private TrainResult finish(Run run, List<Parameter> trainable, Batcher.Tokenized eval, CrossEntropyLoss lossFn,
                               double[] classWeights, long startNanos) throws IOException {
        boolean restored = false;
        EvalResult finalEval = run.lastEval;
        if (args.loadBestModelAtEnd() && run.bestWeights != null && run.bestStep != run.globalStep) {
            for (Parameter p : trainable) p.assign(run.bestWeights.get(p.name()));
            restored = true;
            // after a resume the best evaluation may predate this run: recompute it from the restored weights
            finalEval = run.bestEval != null ? run.bestEval : evaluate(eval, lossFn, classWeights);
            model.train(false);
            LOG.info("loaded the best model (step {}, {} = {})", run.bestStep, args.metricForBestModel(), run.bestMetric);
        } else if (finalEval == null && eval != null) { // resumed from a checkpoint at the very end: nothing ran
            finalEval = evaluate(eval, lossFn, classWeights);
        }
        double runtime = (System.nanoTime() - startNanos) / 1e9;
        double epoch = run.epoch + (double) run.batchIndex / ceilDiv(run.trainSize, args.perDeviceTrainBatchSize());
        TrainResult result = new TrainResult(run.globalStep, epoch, finalEval, run.bestStep, run.bestMetric, restored,
                run.stoppedEarly, run.globalStep == 0 ? Double.NaN : run.lossTotal / run.globalStep, runtime,
                run.paddedTokens == 0 ? 1.0 : (double) run.realTokens / run.paddedTokens, List.copyOf(run.log));
        writeMetrics(result);
        for (TrainingListener l : listeners) l.onEnd(result);
        return result;
    }

    private void writeMetrics(TrainResult r) throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("global_step", r.globalStep());
        m.put("epoch", r.epoch());
        m.put("train_loss", Double.isFinite(r.trainLoss()) ? r.trainLoss() : null);
        m.put("train_runtime_s", r.trainRuntimeSeconds());
        m.put("padding_efficiency", r.paddingEfficiency());
        m.put("metric_for_best_model", args.metricForBestModel());
        m.put("best_step", r.bestStep());
        m.put("best_metric", Double.isFinite(r.bestMetric()) ? r.bestMetric() : null);
        m.put("restored_best_model", r.restoredBest());
        m.put("stopped_early", r.stoppedEarly());
        m.put("label_names", labelNames);
        if (r.finalEval() != null) m.putAll(r.finalEval().toMap());
        Path file = args.outputDir().resolve(METRICS_FILE);
        AtomicFiles.write(file, tmp -> JSON.copy().enable(SerializationFeature.INDENT_OUTPUT).writeValue(tmp.toFile(), m));
    }

    private void appendLog(Run run, LogEntry e) throws IOException {
        run.log.add(e);
        try (BufferedWriter w = Files.newBufferedWriter(args.outputDir().resolve(LOG_FILE), StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
            w.write(JSON.writeValueAsString(e.toMap()));
            w.write('\n');
        }
    }

    /** Drops log lines of steps after {@code step}: they belong to the interrupted run past the checkpoint. */
    private void truncateLog(long step) throws IOException {
        Path file = args.outputDir().resolve(LOG_FILE);
        if (!Files.isRegularFile(file)) return;
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        List<String> keep = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank()) continue;
            JsonNode j;
            try {
                j = JSON.readTree(line);
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                if (i == lines.size() - 1) break; // the line a killed run was writing: it belongs after the checkpoint
                throw new IOException(file + ": line " + (i + 1) + " is not JSON: " + e.getOriginalMessage().replaceAll("\\s+", " "));
            }
            if (j.path("step").asLong() <= step) keep.add(line);
        }
        AtomicFiles.write(file, tmp -> Files.write(tmp, keep, StandardCharsets.UTF_8));
    }

    private void logStart(Run run, List<Parameter> trainable, Batcher.Tokenized train, Batcher.Tokenized eval,
                          long totalSteps, double[] classWeights) {
        long n = trainable.stream().mapToLong(Parameter::numel).sum();
        long all = model.parameters().stream().mapToLong(Parameter::numel).sum();
        LOG.info(String.format(Locale.ROOT, "training %,d of %,d parameters (%.4f%%) on %d examples (%d eval), %d steps "
                        + "(batch %d x accumulation %d, lr %.3g %s), class weights %s%s",
                n, all, 100.0 * n / all, train.size(), eval == null ? 0 : eval.size(), totalSteps,
                args.perDeviceTrainBatchSize(), args.gradientAccumulationSteps(), args.learningRate(), args.lrSchedulerType(),
                classWeights == null ? "none" : java.util.Arrays.toString(classWeights),
                run.globalStep > 0 ? ", resuming at step " + run.globalStep : ""));
    }

    /** Whether a listener shows progress itself (then progress lines go to the debug log). */
    private boolean progressShown() {
        for (TrainingListener l : listeners) if (l.showsProgress()) return true;
        return false;
    }

    /** {@code Σ w[y]} over a batch's labels (the count when unweighted): the denominator of its weighted mean loss. */
    static double weightSum(int[] labels, double[] classWeights) {
        if (classWeights == null) return labels.length;
        double s = 0;
        for (int y : labels) s += classWeights[y];
        return s;
    }

    private void checkLabels(List<Example> examples, String what) {
        for (Example e : examples) {
            if (e.label() >= labelNames.size()) {
                throw new IllegalArgumentException(what + " example " + e.source() + " has label " + e.label() + " but there are only "
                        + labelNames.size() + " labels " + labelNames);
            }
        }
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }

    /** The trainable parameters' values as a state dict (the parameters' dtype), e.g. to compare runs. */
    public static StateDict trainableStateDict(SequenceClassifier model) {
        List<Parameter> trainable = model.parameters().stream().filter(Parameter::trainable).toList();
        Map<String, Parameter> byName = new LinkedHashMap<>();
        for (Parameter p : trainable) byName.put(p.name(), p);
        return ModelWeights.stateDict(byName, Checkpoint.dtypeOf(trainable));
    }
}
