package org.finsent.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.finsent.core.io.AtomicFiles;
import org.finsent.core.io.DType;
import org.finsent.core.io.SafeTensors;
import org.finsent.core.io.StateDict;
import org.finsent.core.io.TensorData;
import org.finsent.core.model.ModelWeights;
import org.finsent.core.nn.Parameter;
import org.finsent.train.optim.AdamW;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A {@code checkpoint-<step>/} directory: everything needed to continue training as if it had never stopped.
 * <ul>
 *   <li>{@value #WEIGHTS}: the trainable parameters (Hugging Face names), in the parameters' own dtype so a
 *       resume is bit-exact. Frozen weights are not saved: they are whatever the caller loaded, and for PEFT they
 *       are >99 % of the model;</li>
 *   <li>{@value #OPTIMIZER}: AdamW's state per parameter as PyTorch names it, {@code <param>.exp_avg},
 *       {@code <param>.exp_avg_sq} and {@code <param>.step} (I64);</li>
 *   <li>{@value #BEST}: the best evaluation's trainable weights, if there was one (load-best-at-end must pick the
 *       same model after a resume);</li>
 *   <li>{@value #STATE}: global step, the position in the data (epoch and batch index), the scheduler step, the
 *       best metric and step, the early-stopping counter, the loss sums behind the next log line, and the seed.
 *       The batch order is a pure function of (seed, epoch) ({@link Batcher}) and every dropout mask of a batch a
 *       pure function of (seed, epoch, batch index) (the trainer draws them in a {@link
 *       org.finsent.core.nn.Dropout#keyed keyed scope}), so {@code rng} = (seed, epoch, batch index) is the
 *       complete random state of training: a resumed run is bit-identical to the uninterrupted one, dropout
 *       included.</li>
 * </ul>
 *
 * <p>The directory is written under a temporary name and renamed into place with {@code ATOMIC_MOVE}: a crash
 * while saving leaves either the complete checkpoint or none, never a half-written one that a resume would load
 * (the {@code .tmp-checkpoint-*} leftover of such a crash is removed by {@link #removeLeftovers}).
 *
 * <p>{@link #load} trusts nothing: every field of {@value #STATE} is checked for presence, type and range, the
 * position in the data against the data size and batch size the state records, and the optimizer state against
 * the weights, so an edited or damaged checkpoint is refused with a {@link CheckpointException} naming the file.
 */
public final class Checkpoint {
    private static final Logger LOG = LoggerFactory.getLogger(Checkpoint.class);
    public static final String WEIGHTS = "trainable.safetensors";
    public static final String OPTIMIZER = "optimizer.safetensors";
    public static final String BEST = "best_trainable.safetensors";
    public static final String STATE = "trainer_state.json";
    public static final String PREFIX = "checkpoint-";
    /** Value of {@code rng.dropout} in {@value #STATE}: how the run's dropout masks were drawn. */
    static final String DROPOUT_KEYED = "keyed by (seed, epoch, batch_index)";

    /** Test seam: called after each file of a checkpoint is written into the temporary directory (null: none). */
    static volatile java.util.function.BiConsumer<Path, String> afterFileWritten;

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private Checkpoint() {
    }

    /**
     * The loop's position and bookkeeping.
     *
     * @param globalStep             optimizer steps done (also the LR scheduler's step)
     * @param epoch                  epoch of the next batch
     * @param batchIndex             index of the next batch within that epoch's batch list
     * @param seed                   the data-order seed
     * @param totalSteps             the run's planned optimizer steps (schedules depend on it)
     * @param trainSize              number of training examples (the batch lists depend on it)
     * @param lossSinceLog           sum of step losses since the last train log entry
     * @param stepsSinceLog          number of those steps
     * @param lossTotal              sum of all step losses so far
     * @param bestMetric             best {@code metricForBestModel} so far, NaN if none
     * @param bestStep               its step, -1 if none
     * @param evalsWithoutImprovement the early-stopping counter
     * @param trainableNames         names of the trainable parameters, to refuse a checkpoint of another setup
     * @param batchSize              examples per batch (the batch lists depend on it)
     * @param accumulation           batches per optimizer step
     * @param keyedDropout           whether the run drew its dropout masks keyed by (seed, epoch, batch index);
     *                               false for a checkpoint written before they were
     * @param realTokens             non-padding tokens of the batches trained so far (for the padding efficiency)
     * @param paddedTokens           computed tokens, padding included, of those batches
     */
    public record State(long globalStep, int epoch, int batchIndex, long seed, long totalSteps, int trainSize,
                        double lossSinceLog, long stepsSinceLog, double lossTotal, double bestMetric, long bestStep,
                        int evalsWithoutImprovement, List<String> trainableNames, int batchSize, int accumulation,
                        boolean keyedDropout, long realTokens, long paddedTokens) {
        public State {
            trainableNames = List.copyOf(trainableNames);
        }

        /** Batches per epoch for this state's data size and batch size. */
        public int batchesPerEpoch() {
            return (trainSize + batchSize - 1) / batchSize;
        }

        /** Optimizer steps per epoch (a short last group of an epoch still steps). */
        public long stepsPerEpoch() {
            return (batchesPerEpoch() + accumulation - 1) / accumulation;
        }
    }

    /**
     * Reads the checkpoint in {@code dir}, checks it against the run that resumes from it (the same trainable
     * parameters, data size, batch size × accumulation; a step within the run's total) and restores the trainable
     * weights and AdamW's state into it. Every refusal names the file; a different seed or total only warns. Shared by
     * {@link Trainer} and the pretraining loop, which differ only in what they do with the returned state.
     *
     * @param examples what the data are called in messages ("training examples", "texts")
     */
    public static Loaded restore(Path dir, List<Parameter> trainable, AdamW optimizer, TrainingArguments args, int trainSize,
                                 long totalSteps, String examples) throws IOException {
        Loaded c = load(dir);
        State s = c.state();
        Path stateFile = dir.resolve(STATE);
        List<String> names = trainable.stream().map(Parameter::name).toList();
        if (!names.equals(s.trainableNames())) {
            throw new CheckpointException(stateFile, "written for other trainable parameters: the checkpoint has "
                    + s.trainableNames().size() + " (" + first(s.trainableNames()) + "), the model " + names.size() + " ("
                    + first(names) + "); apply the same model and PEFT methods before resuming");
        }
        if (s.trainSize() != trainSize) {
            throw new CheckpointException(stateFile, "written for " + s.trainSize() + " " + examples + ", this run has "
                    + trainSize + ": its position in the data means nothing here (resume with the same data and split)");
        }
        if (s.batchSize() != args.perDeviceTrainBatchSize() || s.accumulation() != args.gradientAccumulationSteps()) {
            throw new CheckpointException(stateFile, "written with batch size " + s.batchSize() + " x accumulation " + s.accumulation()
                    + ", this run has " + args.perDeviceTrainBatchSize() + " x " + args.gradientAccumulationSteps()
                    + " (resume with the same batch size and accumulation)");
        }
        if (s.globalStep() > totalSteps) {
            throw new CheckpointException(stateFile, "global_step " + s.globalStep() + " is beyond this run's " + totalSteps
                    + " steps (raise max steps or epochs, or start a new run)");
        }
        Map<String, Parameter> byName = new LinkedHashMap<>();
        for (Parameter p : trainable) byName.put(p.name(), p);
        ModelWeights.LoadReport report = ModelWeights.load(byName, c.weights(), dir.resolve(WEIGHTS).toString());
        if (!report.missing().isEmpty() || !report.unexpected().isEmpty()) {
            throw new CheckpointException(dir.resolve(WEIGHTS), "trainable weights do not match: " + report);
        }
        try {
            optimizer.loadState(c.optimizer());
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(dir.resolve(OPTIMIZER), e.getMessage(), e);
        }
        if (s.seed() != args.seed() || s.totalSteps() != totalSteps) {
            LOG.warn("{}: resuming with a different seed / total steps ({} / {} in the checkpoint, {} / {} now): the data order, "
                    + "dropout masks or LR schedule differ from the interrupted run", dir, s.seed(), s.totalSteps(), args.seed(), totalSteps);
        }
        if (!s.keyedDropout()) {
            LOG.warn("{}: written by a version that did not key dropout masks by position: with dropout on, the resumed run "
                    + "draws other masks than the interrupted one would have", dir);
        }
        return c;
    }

    private static String first(List<String> names) {
        return names.isEmpty() ? "none" : names.get(0) + (names.size() > 1 ? ", ..." : "");
    }

    /** A checkpoint read back: state, weights, optimizer state and (optional) best weights. */
    public record Loaded(Path dir, State state, StateDict weights, AdamW.State optimizer, StateDict best) {
    }

    /**
     * Writes {@code outputDir/checkpoint-<step>} atomically (replacing an older one of the same step).
     *
     * @param best the best model's trainable weights by name, or null
     */
    public static Path save(Path outputDir, State state, List<Parameter> trainable, AdamW optimizer,
                            Map<String, INDArray> best, TrainingArguments args) throws IOException {
        Path target = outputDir.resolve(PREFIX + state.globalStep());
        Path tmp = AtomicFiles.createTempDirectory(outputDir, ".tmp-" + PREFIX + state.globalStep() + "-");
        try {
            DType dtype = dtypeOf(trainable);
            StateDict weights = new StateDict();
            for (Parameter p : trainable) weights.put(tensor(p.name(), p.value(), dtype));
            SafeTensors.write(tmp.resolve(WEIGHTS), weights, Map.of("format", "pt"));
            written(tmp, WEIGHTS);

            StateDict opt = new StateDict();
            for (Map.Entry<String, AdamW.ParamState> e : optimizer.state().params().entrySet()) {
                opt.put(tensor(e.getKey() + ".exp_avg", e.getValue().m(), dtype));
                opt.put(tensor(e.getKey() + ".exp_avg_sq", e.getValue().v(), dtype));
                opt.put(TensorData.of(e.getKey() + ".step", new long[]{e.getValue().step()}, 1));
            }
            SafeTensors.write(tmp.resolve(OPTIMIZER), opt, Map.of("optimizer", "AdamW", "steps", Long.toString(optimizer.steps())));
            written(tmp, OPTIMIZER);

            if (best != null) {
                StateDict b = new StateDict();
                for (Map.Entry<String, INDArray> e : best.entrySet()) b.put(tensor(e.getKey(), e.getValue(), dtype));
                SafeTensors.write(tmp.resolve(BEST), b, Map.of("format", "pt"));
                written(tmp, BEST);
            }
            JSON.writeValue(tmp.resolve(STATE).toFile(), toJson(state, optimizer.steps(), args));
            written(tmp, STATE);
            moveIntoPlace(tmp, target);
        } finally {
            if (Files.exists(tmp)) deleteRecursively(tmp);
        }
        return target;
    }

    private static void written(Path tmp, String file) {
        var hook = afterFileWritten;
        if (hook != null) hook.accept(tmp, file);
    }

    /**
     * Reads a checkpoint directory written by {@link #save} and checks it against itself.
     *
     * @throws CheckpointException naming the file, when a file is missing, unreadable or disagrees with the others
     */
    public static Loaded load(Path dir) throws IOException {
        Path stateFile = dir.resolve(STATE);
        if (!Files.isRegularFile(stateFile)) {
            throw new CheckpointException(stateFile, "missing: " + dir + " is not a checkpoint directory (no " + STATE + ")");
        }
        JsonNode j;
        try {
            j = JSON.readTree(stateFile.toFile());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new CheckpointException(stateFile, "malformed JSON: " + e.getOriginalMessage().replaceAll("\\s+", " "), e);
        }
        State state = parseState(stateFile, j);

        Path weightsFile = dir.resolve(WEIGHTS), optFile = dir.resolve(OPTIMIZER), bestFile = dir.resolve(BEST);
        StateDict weights = read(weightsFile);
        if (!new java.util.HashSet<>(weights.names()).equals(new java.util.HashSet<>(state.trainableNames()))) {
            throw new CheckpointException(weightsFile, "holds " + weights.size() + " tensors, but " + STATE + " lists "
                    + state.trainableNames().size() + " trainable parameters" + firstDifference(weights.names(), state.trainableNames()));
        }
        StateDict opt = read(optFile);
        Map<String, AdamW.ParamState> params = new LinkedHashMap<>();
        for (String p : state.trainableNames()) {
            long[] shape = weights.require(p).shape();
            TensorData m = opt.get(p + ".exp_avg"), v = opt.get(p + ".exp_avg_sq"), step = opt.get(p + ".step");
            if (m == null || v == null || step == null) {
                throw new CheckpointException(optFile, "no AdamW state (exp_avg, exp_avg_sq, step) for the trainable parameter " + p);
            }
            if (!java.util.Arrays.equals(m.shape(), shape) || !java.util.Arrays.equals(v.shape(), shape)) {
                throw new CheckpointException(optFile, p + ": exp_avg " + java.util.Arrays.toString(m.shape()) + " / exp_avg_sq "
                        + java.util.Arrays.toString(v.shape()) + " do not match the weight's shape " + java.util.Arrays.toString(shape)
                        + " in " + WEIGHTS);
            }
            long[] steps = step.toLongs();
            if (steps.length != 1 || steps[0] < 0 || steps[0] > state.globalStep()) {
                throw new CheckpointException(optFile, p + ".step is " + java.util.Arrays.toString(steps) + ", expected one count in [0, "
                        + state.globalStep() + "] (global_step in " + STATE + ")");
            }
            DataType type = m.dtype() == DType.F64 ? DataType.DOUBLE : DataType.FLOAT;
            params.put(p, new AdamW.ParamState(steps[0], m.toINDArray(type), v.toINDArray(type)));
        }
        int expected = 3 * state.trainableNames().size();
        if (opt.size() != expected) {
            throw new CheckpointException(optFile, "holds " + opt.size() + " tensors; the " + state.trainableNames().size()
                    + " trainable parameters of " + STATE + " need " + expected);
        }
        AdamW.State optimizer = new AdamW.State(state.globalStep(), params);
        StateDict best = null;
        if (Files.isRegularFile(bestFile)) {
            best = read(bestFile);
            for (String p : state.trainableNames()) {
                TensorData t = best.get(p);
                if (t == null || !java.util.Arrays.equals(t.shape(), weights.require(p).shape())) {
                    throw new CheckpointException(bestFile, p + (t == null ? " is missing" : " has shape " + java.util.Arrays.toString(t.shape())
                            + ", not " + java.util.Arrays.toString(weights.require(p).shape())));
                }
            }
            if (state.bestStep() < 0) throw new CheckpointException(stateFile, "best_step is -1 (no best model) but " + BEST + " exists");
        }
        return new Loaded(dir, state, weights, optimizer, best);
    }

    private static StateDict read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new CheckpointException(file, "missing (a checkpoint holds " + WEIGHTS + ", " + OPTIMIZER + " and " + STATE + ")");
        try {
            return SafeTensors.read(file);
        } catch (CheckpointException e) {
            throw e;
        } catch (IOException e) {
            String m = String.valueOf(e.getMessage());
            throw new CheckpointException(file, m.contains(file.getFileName().toString()) ? m.replace(file + ": ", "") : m, e);
        }
    }

    private static String firstDifference(java.util.Collection<String> file, List<String> listed) {
        for (String n : listed) if (!file.contains(n)) return " (e.g. " + n + " is missing)";
        for (String n : file) if (!listed.contains(n)) return " (e.g. " + n + " is not listed)";
        return "";
    }

    /** Every field of {@value #STATE}, type- and range-checked, and the position checked against the data size. */
    private static State parseState(Path f, JsonNode j) throws CheckpointException {
        if (!j.isObject()) throw new CheckpointException(f, "expected a JSON object");
        long globalStep = integer(f, j, "global_step", 0, Long.MAX_VALUE);
        long totalSteps = integer(f, j, "total_steps", 1, Long.MAX_VALUE);
        int trainSize = (int) integer(f, j, "train_size", 1, Integer.MAX_VALUE);
        JsonNode rng = object(f, j, "rng");
        long seed = integer(f, rng, "rng.seed", Long.MIN_VALUE, Long.MAX_VALUE);
        int epoch = (int) integer(f, rng, "rng.epoch", 0, Integer.MAX_VALUE);
        int batchIndex = (int) integer(f, rng, "rng.batch_index", 0, Integer.MAX_VALUE);
        boolean keyedDropout = DROPOUT_KEYED.equals(rng.path("dropout").asText(null));
        long schedulerStep = integer(f, object(f, j, "scheduler"), "scheduler.step", 0, Long.MAX_VALUE);
        double lossSinceLog = number(f, j, "loss_since_log");
        long stepsSinceLog = integer(f, j, "steps_since_log", 0, Long.MAX_VALUE);
        double lossTotal = number(f, j, "loss_total");
        JsonNode bm = j.get("best_metric");
        if (bm == null || !(bm.isNull() || bm.isNumber())) throw new CheckpointException(f, "best_metric must be a number or null");
        double bestMetric = bm.isNull() ? Double.NaN : bm.asDouble();
        long bestStep = integer(f, j, "best_step", -1, Long.MAX_VALUE);
        int evals = (int) integer(f, j, "evals_without_improvement", 0, Integer.MAX_VALUE);
        JsonNode names = j.get("trainable_parameters");
        if (names == null || !names.isArray() || names.isEmpty()) throw new CheckpointException(f, "trainable_parameters must be a non-empty array of names");
        List<String> trainable = new ArrayList<>();
        for (JsonNode n : names) {
            if (!n.isTextual() || n.asText().isEmpty()) throw new CheckpointException(f, "trainable_parameters holds a non-name: " + n);
            trainable.add(n.asText());
        }
        if (new java.util.HashSet<>(trainable).size() != trainable.size()) throw new CheckpointException(f, "trainable_parameters repeats a name");
        JsonNode a = object(f, j, "training_args");
        int batchSize = (int) integer(f, a, "training_args.per_device_train_batch_size", 1, Integer.MAX_VALUE);
        int accumulation = (int) integer(f, a, "training_args.gradient_accumulation_steps", 1, Integer.MAX_VALUE);
        // absent from checkpoints of older versions: then the padding efficiency covers the resumed part only
        long realTokens = j.has("real_tokens") ? integer(f, j, "real_tokens", 0, Long.MAX_VALUE) : 0;
        long paddedTokens = j.has("padded_tokens") ? integer(f, j, "padded_tokens", realTokens, Long.MAX_VALUE) : 0;
        State s = new State(globalStep, epoch, batchIndex, seed, totalSteps, trainSize, lossSinceLog, stepsSinceLog, lossTotal,
                bestMetric, bestStep, evals, trainable, batchSize, accumulation, keyedDropout, realTokens, paddedTokens);

        // ---- the fields against each other
        if (globalStep > totalSteps) {
            throw new CheckpointException(f, "global_step " + globalStep + " is beyond total_steps " + totalSteps);
        }
        if (schedulerStep != globalStep) {
            throw new CheckpointException(f, "scheduler.step " + schedulerStep + " differs from global_step " + globalStep);
        }
        if (stepsSinceLog > globalStep) {
            throw new CheckpointException(f, "steps_since_log " + stepsSinceLog + " is more than global_step " + globalStep);
        }
        if (bestStep > globalStep) throw new CheckpointException(f, "best_step " + bestStep + " is after global_step " + globalStep);
        if ((bestStep < 0) != Double.isNaN(bestMetric)) {
            throw new CheckpointException(f, "best_step " + bestStep + " and best_metric " + (Double.isNaN(bestMetric) ? "null" : bestMetric)
                    + " disagree (both set, or neither)");
        }
        int batches = s.batchesPerEpoch();
        if (batchIndex >= batches || batchIndex % accumulation != 0) {
            throw new CheckpointException(f, "rng.batch_index " + batchIndex + " is not the start of an optimizer step in an epoch of "
                    + batches + " batches (" + trainSize + " examples, batch size " + batchSize + ", accumulation " + accumulation + ")");
        }
        long position = (long) epoch * s.stepsPerEpoch() + batchIndex / accumulation;
        if (position != globalStep) {
            throw new CheckpointException(f, "global_step " + globalStep + " does not match the position in the data: epoch " + epoch
                    + ", batch " + batchIndex + " is step " + position + " (" + s.stepsPerEpoch() + " steps per epoch for "
                    + trainSize + " examples, batch size " + batchSize + ", accumulation " + accumulation + ")");
        }
        return s;
    }

    private static JsonNode object(Path f, JsonNode j, String name) throws CheckpointException {
        JsonNode n = j.get(name);
        if (n == null || !n.isObject()) throw new CheckpointException(f, "missing object '" + name + "'");
        return n;
    }

    private static long integer(Path f, JsonNode j, String path, long min, long max) throws CheckpointException {
        String field = path.substring(path.lastIndexOf('.') + 1);
        JsonNode n = j.get(field);
        if (n == null || !n.isIntegralNumber() || !n.canConvertToLong()) {
            throw new CheckpointException(f, "'" + path + "' must be an integer" + (n == null ? " (missing)" : ", not " + n));
        }
        long v = n.asLong();
        if (v < min || v > max) {
            throw new CheckpointException(f, "'" + path + "' is " + v + ", outside [" + min + ", " + (max == Long.MAX_VALUE ? "..." : max) + "]");
        }
        return v;
    }

    private static double number(Path f, JsonNode j, String name) throws CheckpointException {
        JsonNode n = j.get(name);
        if (n == null || !n.isNumber() || !Double.isFinite(n.asDouble())) {
            throw new CheckpointException(f, "'" + name + "' must be a finite number" + (n == null ? " (missing)" : ", not " + n));
        }
        return n.asDouble();
    }

    /**
     * Removes what an interrupted {@link #save} or {@code metrics.json} write leaves in {@code outputDir}: the
     * {@code .tmp-checkpoint-*} and {@code .old-checkpoint-*} directories and the {@code metrics.json*.tmp} and
     * {@code training_log.jsonl*.tmp} files. Only
     * one run may use an output directory at a time, so whatever is there is a dead run's.
     *
     * @return how many were removed
     */
    public static int removeLeftovers(Path outputDir) throws IOException {
        if (!Files.isDirectory(outputDir)) return 0;
        List<Path> dead;
        try (Stream<Path> s = Files.list(outputDir)) {
            dead = s.filter(p -> {
                String n = p.getFileName().toString();
                return n.startsWith(".tmp-" + PREFIX) || n.startsWith(".old-" + PREFIX) || (n.startsWith(Trainer.METRICS_FILE) || n.startsWith(Trainer.LOG_FILE)) && n.endsWith(".tmp");
            }).toList();
        }
        for (Path p : dead) deleteRecursively(p);
        return dead.size();
    }

    /** The {@code checkpoint-<step>} directory with the highest step in {@code outputDir}, or null. */
    public static Path latest(Path outputDir) throws IOException {
        if (!Files.isDirectory(outputDir)) return null;
        try (Stream<Path> s = Files.list(outputDir)) {
            return s.filter(p -> p.getFileName().toString().matches(PREFIX + "\\d+") && Files.isRegularFile(p.resolve(STATE)))
                    .max(Comparator.comparingLong(p -> Long.parseLong(p.getFileName().toString().substring(PREFIX.length()))))
                    .orElse(null);
        }
    }

    private static ObjectNode toJson(State s, long optimizerSteps, TrainingArguments args) {
        ObjectNode j = JSON.createObjectNode();
        j.put("global_step", s.globalStep()).put("total_steps", s.totalSteps()).put("train_size", s.trainSize());
        j.putObject("rng").put("seed", s.seed()).put("epoch", s.epoch()).put("batch_index", s.batchIndex())
                .put("dropout", DROPOUT_KEYED);
        j.putObject("scheduler").put("step", optimizerSteps);
        j.put("loss_since_log", s.lossSinceLog()).put("steps_since_log", s.stepsSinceLog()).put("loss_total", s.lossTotal());
        if (Double.isFinite(s.bestMetric())) j.put("best_metric", s.bestMetric());
        else j.putNull("best_metric");
        j.put("best_step", s.bestStep()).put("evals_without_improvement", s.evalsWithoutImprovement());
        j.put("real_tokens", s.realTokens()).put("padded_tokens", s.paddedTokens());
        ArrayNode names = j.putArray("trainable_parameters");
        s.trainableNames().forEach(names::add);
        ObjectNode a = j.putObject("training_args");
        a.put("learning_rate", args.learningRate()).put("lr_scheduler_type", args.lrSchedulerType())
                .put("per_device_train_batch_size", args.perDeviceTrainBatchSize())
                .put("gradient_accumulation_steps", args.gradientAccumulationSteps())
                .put("num_train_epochs", args.numTrainEpochs()).put("max_steps", args.maxSteps())
                .put("weight_decay", args.weightDecay()).put("max_grad_norm", args.maxGradNorm())
                .put("warmup_steps", args.warmupSteps()).put("warmup_ratio", args.warmupRatio())
                .put("metric_for_best_model", args.metricForBestModel()).put("seed", args.seed())
                .put("max_seq_length", args.maxSeqLength()).put("group_by_length", args.groupByLength())
                .put("class_weights", args.classWeights().toString());
        return j;
    }

    static DType dtypeOf(List<Parameter> params) {
        return !params.isEmpty() && params.get(0).value().dataType() == DataType.DOUBLE ? DType.F64 : DType.F32;
    }

    private static TensorData tensor(String name, INDArray a, DType dtype) {
        long[] shape = a.shape();
        return dtype == DType.F64
                ? TensorData.of(name, a.castTo(DataType.DOUBLE).dup('c').data().asDouble(), shape)
                : TensorData.ofFloats(name, DType.F32, a.castTo(DataType.FLOAT).dup('c').data().asFloat(), shape);
    }

    /** Renames {@code tmp} to {@code target}; an existing target is renamed away first and deleted after. */
    static void moveIntoPlace(Path tmp, Path target) throws IOException {
        Path old = null;
        if (Files.exists(target)) {
            old = target.resolveSibling(".old-" + target.getFileName() + "-" + System.nanoTime());
            atomicMove(target, old);
        }
        atomicMove(tmp, target);
        if (old != null) deleteRecursively(old);
    }

    private static void atomicMove(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to);
        }
    }

    static void deleteRecursively(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(q);
        }
    }
}
