package org.finsent.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.finsent.core.io.DType;
import org.finsent.core.io.SafeTensors;
import org.finsent.core.io.StateDict;
import org.finsent.core.io.TensorData;
import org.finsent.core.nn.Parameter;
import org.finsent.train.optim.AdamW;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

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
 *       The batch order is a pure function of (seed, epoch) ({@link Batcher}), so (seed, epoch, batch index) is
 *       the complete RNG state of the data pipeline.</li>
 * </ul>
 * Dropout masks come from generators inside the model that cannot be saved, so a run with dropout resumes with
 * different masks (statistically equivalent, not bit-identical); with dropout 0 a resume is bit-identical.
 *
 * <p>The directory is written under a temporary name and renamed into place with {@code ATOMIC_MOVE}: a crash
 * while saving leaves either the complete checkpoint or none, never a half-written one that a resume would load.
 */
public final class Checkpoint {
    public static final String WEIGHTS = "trainable.safetensors";
    public static final String OPTIMIZER = "optimizer.safetensors";
    public static final String BEST = "best_trainable.safetensors";
    public static final String STATE = "trainer_state.json";
    public static final String PREFIX = "checkpoint-";

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
     */
    public record State(long globalStep, int epoch, int batchIndex, long seed, long totalSteps, int trainSize,
                        double lossSinceLog, long stepsSinceLog, double lossTotal, double bestMetric, long bestStep,
                        int evalsWithoutImprovement, List<String> trainableNames) {
        public State {
            trainableNames = List.copyOf(trainableNames);
        }
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
        Path tmp = Files.createTempDirectory(outputDir, ".tmp-" + PREFIX + state.globalStep() + "-");
        try {
            DType dtype = dtypeOf(trainable);
            StateDict weights = new StateDict();
            for (Parameter p : trainable) weights.put(tensor(p.name(), p.value(), dtype));
            SafeTensors.write(tmp.resolve(WEIGHTS), weights, Map.of("format", "pt"));

            StateDict opt = new StateDict();
            for (Map.Entry<String, AdamW.ParamState> e : optimizer.state().params().entrySet()) {
                opt.put(tensor(e.getKey() + ".exp_avg", e.getValue().m(), dtype));
                opt.put(tensor(e.getKey() + ".exp_avg_sq", e.getValue().v(), dtype));
                opt.put(TensorData.of(e.getKey() + ".step", new long[]{e.getValue().step()}, 1));
            }
            SafeTensors.write(tmp.resolve(OPTIMIZER), opt, Map.of("optimizer", "AdamW", "steps", Long.toString(optimizer.steps())));

            if (best != null) {
                StateDict b = new StateDict();
                for (Map.Entry<String, INDArray> e : best.entrySet()) b.put(tensor(e.getKey(), e.getValue(), dtype));
                SafeTensors.write(tmp.resolve(BEST), b, Map.of("format", "pt"));
            }
            JSON.writeValue(tmp.resolve(STATE).toFile(), toJson(state, optimizer.steps(), args));
            moveIntoPlace(tmp, target);
        } finally {
            if (Files.exists(tmp)) deleteRecursively(tmp);
        }
        return target;
    }

    /** Reads a checkpoint directory written by {@link #save}. */
    public static Loaded load(Path dir) throws IOException {
        Path stateFile = dir.resolve(STATE);
        if (!Files.isRegularFile(stateFile)) {
            throw new NoSuchFileException(stateFile.toString(), null, "not a checkpoint directory (no " + STATE + ")");
        }
        JsonNode j = JSON.readTree(stateFile.toFile());
        List<String> names = new ArrayList<>();
        j.path("trainable_parameters").forEach(n -> names.add(n.asText()));
        State state = new State(j.path("global_step").asLong(), j.path("rng").path("epoch").asInt(),
                j.path("rng").path("batch_index").asInt(), j.path("rng").path("seed").asLong(), j.path("total_steps").asLong(),
                j.path("train_size").asInt(), j.path("loss_since_log").asDouble(), j.path("steps_since_log").asLong(),
                j.path("loss_total").asDouble(), j.path("best_metric").isNumber() ? j.path("best_metric").asDouble() : Double.NaN,
                j.path("best_step").asLong(-1), j.path("evals_without_improvement").asInt(), names);
        StateDict weights = SafeTensors.read(dir.resolve(WEIGHTS));
        StateDict opt = SafeTensors.read(dir.resolve(OPTIMIZER));
        Map<String, AdamW.ParamState> params = new LinkedHashMap<>();
        for (String n : opt.names()) {
            if (!n.endsWith(".step")) continue;
            String p = n.substring(0, n.length() - ".step".length());
            TensorData m = opt.require(p + ".exp_avg"), v = opt.require(p + ".exp_avg_sq");
            DataType type = m.dtype() == DType.F64 ? DataType.DOUBLE : DataType.FLOAT;
            params.put(p, new AdamW.ParamState(opt.require(n).toLongs()[0], m.toINDArray(type), v.toINDArray(type)));
        }
        AdamW.State optimizer = new AdamW.State(j.path("scheduler").path("step").asLong(), params);
        StateDict best = Files.isRegularFile(dir.resolve(BEST)) ? SafeTensors.read(dir.resolve(BEST)) : null;
        return new Loaded(dir, state, weights, optimizer, best);
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
        j.putObject("rng").put("seed", s.seed()).put("epoch", s.epoch()).put("batch_index", s.batchIndex());
        j.putObject("scheduler").put("step", optimizerSteps);
        j.put("loss_since_log", s.lossSinceLog()).put("steps_since_log", s.stepsSinceLog()).put("loss_total", s.lossTotal());
        if (Double.isFinite(s.bestMetric())) j.put("best_metric", s.bestMetric());
        else j.putNull("best_metric");
        j.put("best_step", s.bestStep()).put("evals_without_improvement", s.evalsWithoutImprovement());
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
