package org.finsent.train.pretrain;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.finsent.core.io.AtomicFiles;
import org.finsent.core.model.Batch;
import org.finsent.core.model.LanguageModelLoss;
import org.finsent.core.nn.Dropout;
import org.finsent.core.nn.Parameter;
import org.finsent.tokenizers.Tokenizer;
import org.finsent.tokenizers.TokenizerOptions;
import org.finsent.train.Checkpoint;
import org.finsent.train.LogEntry;
import org.finsent.train.StepMemory;
import org.finsent.train.Trainer;
import org.finsent.train.TrainingArguments;
import org.finsent.train.TrainingDivergedException;
import org.finsent.train.optim.AdamW;
import org.finsent.train.optim.GradClip;
import org.finsent.train.optim.LrSchedule;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Continued pretraining of a {@link LanguageModel} on raw texts: masked LM ({@link MlmMasking}) for BERT, causal LM
 * for GPT-2. The loop is {@link Trainer}'s without evaluation: batches → loss → gradients (accumulated over
 * {@code gradientAccumulationSteps} batches, each weighted by its share of the group's predictions, so the step's
 * loss is the mean over all predicted tokens of the group) → global-norm clipping → {@link AdamW} at the
 * {@link LrSchedule} rate. It writes the same {@code training_log.jsonl} ({@link LogEntry}: loss, lr, grad_norm)
 * and {@link Checkpoint}s, and resumes from one exactly: the data order is a pure function of (seed, epoch), the
 * masks of (seed, epoch, example index), the dropout masks of (seed, epoch, batch index).
 *
 * <p>Why a loop of its own rather than {@link Trainer} over an objective: Trainer's loop is built around labelled
 * classification batches (class weights, evaluation, best model, early stopping) and its batches come from
 * {@link org.finsent.train.Batcher}'s labelled examples; generalising it would have touched every part of a class
 * the other fine-tuning work depends on. This class reuses its pieces (Checkpoint, AdamW, LrSchedule, GradClip,
 * LogEntry, TrainingArguments, the dropout keys) instead.
 *
 * <p>The output directory ends up a Hugging Face model directory ({@code config.json}, {@code model.safetensors},
 * tokenizer files, written by the caller) next to the log, {@code metrics.json} and the checkpoints.
 */
public final class Pretrainer {
    private static final Logger LOG = LoggerFactory.getLogger(Pretrainer.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long ORDER_SALT = 0x4F52444552L;

    private static final String STEP_WORKSPACE = "finsent-pretrain-step";

    private final StepMemory memory = new StepMemory();
    private final LanguageModel model;
    private final Tokenizer tokenizer;
    private final TrainingArguments args;
    private final MlmMasking masking; // null: causal LM

    /** What a run did. */
    public record Result(long globalStep, double trainLoss, double runtimeSeconds, List<LogEntry> log) {
    }

    public Pretrainer(LanguageModel model, Tokenizer tokenizer, TrainingArguments args, MlmMasking masking) {
        this.model = model;
        this.args = args;
        this.masking = masking;
        if ((model instanceof LanguageModel.Masked) != (masking != null)) {
            throw new IllegalArgumentException(model.architecture() + (masking == null ? " needs" : " takes no") + " MLM masking");
        }
        if (args.maxSeqLength() > model.maxPositions()) {
            throw new IllegalArgumentException("max sequence length " + args.maxSeqLength() + " is more than the model takes ("
                    + model.maxPositions() + " positions); use at most " + model.maxPositions());
        }
        this.tokenizer = tokenizer.withOptions(tokenizer.options().withPadding(TokenizerOptions.Padding.NONE)
                .withTruncation(args.maxSeqLength()));
    }

    /** Token ids of each text (truncated, unpadded); texts that give fewer than two tokens are dropped. */
    public List<int[]> tokenize(List<String> texts) {
        List<int[]> out = new ArrayList<>(texts.size());
        for (String t : texts) {
            int[] ids = tokenizer.encode(t).ids();
            if (ids.length >= 2) out.add(ids);
        }
        return out;
    }

    public Result train(List<String> texts) throws IOException {
        long start = System.nanoTime();
        Path out = args.outputDir();
        Files.createDirectories(out);
        Checkpoint.removeLeftovers(out);
        List<int[]> data = tokenize(texts);
        if (data.isEmpty()) throw new IllegalArgumentException("no text to pretrain on (every line empty or a single token)");
        int batchSize = args.perDeviceTrainBatchSize(), accumulation = args.gradientAccumulationSteps();
        int batchesPerEpoch = (data.size() + batchSize - 1) / batchSize;
        long stepsPerEpoch = (batchesPerEpoch + accumulation - 1) / accumulation;
        long totalSteps = args.maxSteps() > 0 ? args.maxSteps() : stepsPerEpoch * args.numTrainEpochs();
        int numEpochs = (int) ((totalSteps + stepsPerEpoch - 1) / stepsPerEpoch);

        List<Parameter> trainable = model.parameters().stream().filter(Parameter::trainable).toList();
        AdamW optimizer = new AdamW(trainable, new AdamW.Options(args.learningRate(), args.adamBeta1(), args.adamBeta2(),
                args.adamEpsilon(), args.weightDecay()));
        LrSchedule schedule = LrSchedule.byName(args.lrSchedulerType(), args.learningRate(),
                LrSchedule.warmupSteps(args.warmupSteps(), args.warmupRatio(), totalSteps), totalSteps);
        Progress p = new Progress();
        if (args.resumeFromCheckpoint() != null) resume(p, trainable, optimizer, data.size(), totalSteps);
        else Files.deleteIfExists(out.resolve(Trainer.LOG_FILE));
        long params = trainable.stream().mapToLong(Parameter::numel).sum();
        LOG.info(String.format(Locale.ROOT, "pretraining %s (%s): %,d parameters on %d texts, %d steps (batch %d x accumulation %d, lr %.3g)%s",
                model.architecture(), masking == null ? "causal LM" : "masked LM p=" + masking.probability() + (masking.wholeWord() ? ", whole words" : ""),
                params, data.size(), totalSteps, batchSize, accumulation, args.learningRate(),
                p.globalStep > 0 ? ", resuming at step " + p.globalStep : ""));

        model.train(true);
        for (Parameter q : trainable) q.zeroGrad();
        int startEpoch = p.epoch, startBatch = p.batchIndex;
        long windowStart = System.nanoTime(), windowSamples = 0, windowTokens = 0;
        try {
            epochs:
            for (int epoch = startEpoch; epoch < numEpochs && p.globalStep < totalSteps; epoch++) {   // a finished run: nothing to do
                int[] order = order(data.size(), args.seed(), epoch);
                for (int first = epoch == startEpoch ? startBatch : 0; first < batchesPerEpoch; first += accumulation) {
                    int groupEnd = Math.min(batchesPerEpoch, first + accumulation);
                    List<Batch> batches = new ArrayList<>();
                    List<int[][]> labels = new ArrayList<>();
                    int groupPredictions = 0;
                    for (int k = first; k < groupEnd; k++) {
                        int[][][] bl = batch(data, order, k, batchSize, epoch);
                        Batch b = new Batch(bl[0], new int[bl[0].length][bl[0][0].length], bl[1]);
                        batches.add(b);
                        labels.add(bl[2]);
                        groupPredictions += model.predictions(b, bl[2]);
                    }
                    double loss = 0, gradNorm;
                    // the step's temporaries live in a reused workspace, as in Trainer (StepMemory explains why and the rule)
                    try (MemoryWorkspace ws = StepMemory.step(STEP_WORKSPACE)) {
                        for (int k = 0; k < batches.size(); k++) {
                            Batch b = batches.get(k);
                            int n = model.predictions(b, labels.get(k));
                            double share = groupPredictions == 0 ? 0 : (double) n / groupPredictions;
                            try (Dropout.Scope s = Dropout.keyed(Dropout.mix(args.seed(), epoch, first + k))) {
                                LanguageModelLoss.Result r = model.step(b, labels.get(k), true, share);
                                loss += r.loss() * share;
                            }
                            windowSamples += b.batchSize();
                            for (int[] m : b.attentionMask()) for (int v : m) windowTokens += v;
                        }
                        gradNorm = args.maxGradNorm() > 0 ? GradClip.clipGlobalNorm(trainable, args.maxGradNorm()) : GradClip.globalNorm(trainable);
                    }
                    long step = p.globalStep + 1;
                    if (!Double.isFinite(loss) || !Double.isFinite(gradNorm)) {
                        throw new TrainingDivergedException(step, "loss " + loss + ", gradient norm " + gradNorm, p.lastCheckpoint);
                    }
                    double lr = schedule.lr(optimizer.steps());
                    optimizer.step(lr, true);  // and clears the gradients it reads
                    memory.check();            // what was allocated outside the workspace is freed only after a GC

                    p.globalStep = step;
                    p.lossSinceLog += loss;
                    p.stepsSinceLog++;
                    p.lossTotal += loss;
                    boolean epochEnd = groupEnd >= batchesPerEpoch;
                    p.epoch = epochEnd ? epoch + 1 : epoch;
                    p.batchIndex = epochEnd ? 0 : groupEnd;
                    boolean last = step >= totalSteps;
                    if (step % args.loggingSteps() == 0 || last) {
                        double secs = (System.nanoTime() - windowStart) / 1e9;
                        LogEntry e = new LogEntry(step, epoch + (double) groupEnd / batchesPerEpoch, lr, p.lossSinceLog / p.stepsSinceLog,
                                gradNorm, windowSamples / secs, windowTokens / secs, (System.nanoTime() - start) / 1e9, null);
                        p.log.add(e);
                        appendLog(e);
                        LOG.info(String.format(Locale.ROOT, "step %d/%d  epoch %.2f  loss %.4f  lr %.3g  grad_norm %.3f",
                                step, totalSteps, e.epoch(), e.trainLoss(), lr, gradNorm));
                        p.lossSinceLog = 0;
                        p.stepsSinceLog = 0;
                        windowStart = System.nanoTime();
                        windowSamples = windowTokens = 0;
                    }
                    if (args.saveSteps() > 0 && step % args.saveSteps() == 0) {
                        p.lastCheckpoint = Checkpoint.save(out, state(p, trainable, totalSteps, data.size()), trainable, optimizer, null, args);
                        LOG.info("saved {}", p.lastCheckpoint);
                    }
                    if (last) break epochs;
                }
            }
        } finally {
            StepMemory.release(STEP_WORKSPACE); // it holds a step's worth of memory
        }
        model.train(false);
        double runtime = (System.nanoTime() - start) / 1e9;
        Result result = new Result(p.globalStep, p.globalStep == 0 ? Double.NaN : p.lossTotal / p.globalStep, runtime, List.copyOf(p.log));
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("global_step", result.globalStep());
        m.put("train_loss", Double.isFinite(result.trainLoss()) ? result.trainLoss() : null);
        m.put("train_runtime_s", runtime);
        m.put("objective", masking == null ? "causal_lm" : "masked_lm");
        if (masking != null) {
            m.put("mlm_probability", masking.probability());
            m.put("whole_word_mask", masking.wholeWord());
        }
        m.put("architecture", model.architecture());
        m.put("texts", data.size());
        AtomicFiles.write(out.resolve(Trainer.METRICS_FILE), tmp -> JSON.copy().enable(SerializationFeature.INDENT_OUTPUT).writeValue(tmp.toFile(), m));
        return result;
    }

    /** The data order of an epoch: a permutation that is a pure function of (seed, epoch). */
    static int[] order(int n, long seed, int epoch) {
        int[] o = new int[n];
        for (int i = 0; i < n; i++) o[i] = i;
        SplittableRandom r = new SplittableRandom(Dropout.mix(seed, epoch, ORDER_SALT));
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1), t = o[i];
            o[i] = o[j];
            o[j] = t;
        }
        return o;
    }

    /**
     * Batch {@code k} of an epoch: {ids, attention mask, labels}, right-padded to its longest text. Masked LM: the
     * example's masks keyed by its index in the data; causal LM: labels are the ids, -100 at padding.
     */
    private int[][][] batch(List<int[]> data, int[] order, int k, int batchSize, int epoch) {
        int from = k * batchSize, to = Math.min(order.length, from + batchSize), len = 0;
        for (int i = from; i < to; i++) len = Math.max(len, data.get(order[i]).length);
        int pad = Math.max(tokenizer.padId(), 0);
        int[][] ids = new int[to - from][len], mask = new int[to - from][len], labels = new int[to - from][len];
        for (int i = from; i < to; i++) {
            int e = order[i];
            int[] src = data.get(e), in = src, lab = src;
            if (masking != null) {
                MlmMasking.Masked mk = masking.mask(src, null, args.seed(), epoch, e);
                in = mk.inputIds();
                lab = mk.labels();
            }
            int r = i - from;
            Arrays.fill(ids[r], pad);
            Arrays.fill(labels[r], LanguageModelLoss.IGNORE);
            System.arraycopy(in, 0, ids[r], 0, in.length);
            System.arraycopy(lab, 0, labels[r], 0, lab.length);
            Arrays.fill(mask[r], 0, in.length, 1);
        }
        return new int[][][]{ids, mask, labels};
    }

    private static final class Progress {
        long globalStep, stepsSinceLog;
        int epoch, batchIndex;
        double lossSinceLog, lossTotal;
        Path lastCheckpoint;
        final List<LogEntry> log = new ArrayList<>();
    }

    private Checkpoint.State state(Progress p, List<Parameter> trainable, long totalSteps, int trainSize) {
        return new Checkpoint.State(p.globalStep, p.epoch, p.batchIndex, args.seed(), totalSteps, trainSize, p.lossSinceLog,
                p.stepsSinceLog, p.lossTotal, Double.NaN, -1, 0, trainable.stream().map(Parameter::name).toList(),
                args.perDeviceTrainBatchSize(), args.gradientAccumulationSteps(), true, 0, 0);
    }

    private void resume(Progress p, List<Parameter> trainable, AdamW optimizer, int trainSize, long totalSteps) throws IOException {
        Path dir = args.resumeFromCheckpoint();
        Checkpoint.State s = Checkpoint.restore(dir, trainable, optimizer, args, trainSize, totalSteps, "texts").state();
        p.globalStep = s.globalStep();
        p.epoch = s.epoch();
        p.batchIndex = s.batchIndex();
        p.lossSinceLog = s.lossSinceLog();
        p.stepsSinceLog = s.stepsSinceLog();
        p.lossTotal = s.lossTotal();
        p.lastCheckpoint = dir;
        truncateLog(s.globalStep());
        LOG.info("resumed from {} at step {} (epoch {}, batch {})", dir, s.globalStep(), s.epoch(), s.batchIndex());
    }

    private void appendLog(LogEntry e) throws IOException {
        try (BufferedWriter w = Files.newBufferedWriter(args.outputDir().resolve(Trainer.LOG_FILE), StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
            w.write(JSON.writeValueAsString(e.toMap()));
            w.write('\n');
        }
    }

    /** Drops log lines after {@code step} (the interrupted run's, past its checkpoint). */
    private void truncateLog(long step) throws IOException {
        Path file = args.outputDir().resolve(Trainer.LOG_FILE);
        if (!Files.isRegularFile(file)) return;
        List<String> keep = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (line.isBlank()) continue;
            JsonNode j;
            try {
                j = JSON.readTree(line);
            } catch (IOException e) {
                break; // the line a killed run was writing
            }
            if (j.path("step").asLong() <= step) keep.add(line);
        }
        AtomicFiles.write(file, tmp -> Files.write(tmp, keep, StandardCharsets.UTF_8));
    }
}
