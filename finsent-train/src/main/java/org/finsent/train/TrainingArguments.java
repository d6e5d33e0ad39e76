package org.finsent.train;

import org.finsent.train.optim.LrSchedule;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * Everything that controls a {@link Trainer} run, with Hugging Face {@code TrainingArguments}' names and defaults
 * where they make sense, so a configuration reads the same as a Python script's and a result can be compared with
 * one. Build with {@link #builder(Path)}; every value is checked here, once, with a message naming the argument,
 * rather than failing hours into a run.
 *
 * <p>Deliberate differences from Hugging Face:
 * <ul>
 *   <li>{@code evalStrategy} defaults to {@link EvalStrategy#EPOCH} (Hugging Face: {@code "no"}), because
 *       {@code loadBestModelAtEnd} defaults to true here and needs evaluations to pick a best model;</li>
 *   <li>the best model's trainable weights are kept in memory (and in each checkpoint), so {@code saveSteps} need
 *       not be a multiple of {@code evalSteps};</li>
 *   <li>{@code earlyStoppingPatience} is an argument rather than a callback (0 = off; threshold 0).</li>
 * </ul>
 *
 * @param outputDir                 where {@code training_log.jsonl}, {@code metrics.json} and {@code checkpoint-<step>/} go
 * @param numTrainEpochs            passes over the training set (ignored when {@code maxSteps > 0})
 * @param maxSteps                  optimizer steps to run, overriding {@code numTrainEpochs} when {@code > 0}; -1 = off
 * @param perDeviceTrainBatchSize   examples per forward pass in training
 * @param perDeviceEvalBatchSize    examples per forward pass in evaluation
 * @param learningRate              AdamW's peak learning rate
 * @param weightDecay               AdamW's decoupled weight decay (Hugging Face's no-decay rule for biases and LayerNorm)
 * @param adamBeta1                 AdamW β1
 * @param adamBeta2                 AdamW β2
 * @param adamEpsilon               AdamW ε
 * @param warmupSteps               linear warm-up steps; wins over {@code warmupRatio} when {@code > 0}
 * @param warmupRatio               warm-up as a fraction of the total optimizer steps (rounded up)
 * @param lrSchedulerType           {@code linear}, {@code cosine}, {@code constant} or {@code constant_with_warmup}
 * @param gradientAccumulationSteps forward/backward passes per optimizer step
 * @param maxGradNorm               global-norm clipping threshold; 0 = no clipping (the norm is still computed and checked)
 * @param evalStrategy              when to evaluate during training
 * @param evalSteps                 optimizer steps between evaluations with {@link EvalStrategy#STEPS}; 0 = {@code loggingSteps}
 * @param loggingSteps              optimizer steps between log entries
 * @param saveSteps                 optimizer steps between checkpoints; 0 = never
 * @param metricForBestModel        {@code accuracy}, {@code f1_macro}, {@code f1_weighted}, {@code eval_loss}, ... ({@link EvalResult#metric})
 * @param greaterIsBetter           null = derived from the name (false for losses, true otherwise), as in Hugging Face
 * @param loadBestModelAtEnd        restore the best evaluation's trainable weights when training ends
 * @param earlyStoppingPatience     stop after this many evaluations without improvement; 0 = off
 * @param seed                      the only source of randomness in training: the data order and every dropout mask; model init has its own
 * @param maxSeqLength              truncation length in tokens, special tokens included
 * @param groupByLength             batch examples of similar length together (less padding, faster steps)
 * @param classWeights              class weights of the training loss
 * @param resumeFromCheckpoint      a {@code checkpoint-<step>} directory to continue from, or null
 */
public record TrainingArguments(Path outputDir, int numTrainEpochs, long maxSteps, int perDeviceTrainBatchSize,
                                int perDeviceEvalBatchSize, double learningRate, double weightDecay, double adamBeta1,
                                double adamBeta2, double adamEpsilon, long warmupSteps, double warmupRatio,
                                String lrSchedulerType, int gradientAccumulationSteps, double maxGradNorm,
                                EvalStrategy evalStrategy, long evalSteps, long loggingSteps, long saveSteps,
                                String metricForBestModel, Boolean greaterIsBetter, boolean loadBestModelAtEnd,
                                int earlyStoppingPatience, long seed, int maxSeqLength, boolean groupByLength,
                                ClassWeighting classWeights, Path resumeFromCheckpoint) {

    /** When evaluation runs during training (Hugging Face's {@code eval_strategy}). */
    public enum EvalStrategy {
        /** Every {@code evalSteps} optimizer steps. */
        STEPS,
        /** At the end of every epoch. */
        EPOCH,
        /** Never during training (only once at the end, if an evaluation set is given). */
        NO;

        /** {@code steps}, {@code epoch} or {@code no}, case-insensitive. */
        public static EvalStrategy parse(String s) {
            try {
                return valueOf(s.strip().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("evalStrategy must be steps, epoch or no, got '" + s + "'");
            }
        }
    }

    /** Names {@link EvalResult#metric} knows, without the optional {@code eval_} prefix. */
    static final Set<String> METRICS = Set.of("loss", "accuracy", "f1_macro", "f1_weighted", "precision_macro",
            "recall_macro", "precision_weighted", "recall_weighted");

    public TrainingArguments {
        Objects.requireNonNull(outputDir, "outputDir");
        Objects.requireNonNull(evalStrategy, "evalStrategy");
        Objects.requireNonNull(lrSchedulerType, "lrSchedulerType");
        Objects.requireNonNull(metricForBestModel, "metricForBestModel");
        Objects.requireNonNull(classWeights, "classWeights (use ClassWeighting.NONE)");
        if (maxSteps == 0 || maxSteps < -1) throw new IllegalArgumentException("maxSteps must be > 0, or -1 for off: " + maxSteps);
        if (maxSteps < 0 && numTrainEpochs < 1) throw new IllegalArgumentException("numTrainEpochs must be >= 1: " + numTrainEpochs);
        positive("perDeviceTrainBatchSize", perDeviceTrainBatchSize);
        positive("perDeviceEvalBatchSize", perDeviceEvalBatchSize);
        positive("gradientAccumulationSteps", gradientAccumulationSteps);
        positive("loggingSteps", loggingSteps);
        positive("maxSeqLength", maxSeqLength);
        finiteNonNegative("learningRate", learningRate);
        finiteNonNegative("weightDecay", weightDecay);
        finiteNonNegative("maxGradNorm", maxGradNorm);
        finiteNonNegative("adamEpsilon", adamEpsilon);
        if (!(adamBeta1 >= 0 && adamBeta1 < 1)) throw new IllegalArgumentException("adamBeta1 must be in [0, 1): " + adamBeta1);
        if (!(adamBeta2 >= 0 && adamBeta2 < 1)) throw new IllegalArgumentException("adamBeta2 must be in [0, 1): " + adamBeta2);
        if (warmupSteps < 0) throw new IllegalArgumentException("warmupSteps must be >= 0: " + warmupSteps);
        if (!(warmupRatio >= 0 && warmupRatio <= 1)) throw new IllegalArgumentException("warmupRatio must be in [0, 1]: " + warmupRatio);
        try {
            LrSchedule.byName(lrSchedulerType, learningRate, 0, 1);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("lrSchedulerType: " + e.getMessage(), e); // names the known schedules
        }
        if (evalSteps < 0) throw new IllegalArgumentException("evalSteps must be >= 0 (0 = loggingSteps): " + evalSteps);
        if (saveSteps < 0) throw new IllegalArgumentException("saveSteps must be >= 0 (0 = never): " + saveSteps);
        if (earlyStoppingPatience < 0) throw new IllegalArgumentException("earlyStoppingPatience must be >= 0 (0 = off): " + earlyStoppingPatience);
        String m = metricForBestModel.startsWith("eval_") ? metricForBestModel.substring(5) : metricForBestModel;
        if (!METRICS.contains(m)) {
            throw new IllegalArgumentException("metricForBestModel '" + metricForBestModel + "' is not one of "
                    + METRICS.stream().sorted().toList() + " (an eval_ prefix is allowed)");
        }
        if (evalStrategy == EvalStrategy.NO && loadBestModelAtEnd) {
            throw new IllegalArgumentException("loadBestModelAtEnd needs evaluations during training: set evalStrategy to "
                    + "steps or epoch, or loadBestModelAtEnd to false");
        }
        if (evalStrategy == EvalStrategy.NO && earlyStoppingPatience > 0) {
            throw new IllegalArgumentException("earlyStoppingPatience needs evaluations during training: set evalStrategy to steps or epoch");
        }
    }

    private static void positive(String name, long v) {
        if (v < 1) throw new IllegalArgumentException(name + " must be >= 1: " + v);
    }

    private static void finiteNonNegative(String name, double v) {
        if (!(v >= 0) || Double.isInfinite(v)) throw new IllegalArgumentException(name + " must be finite and >= 0: " + v);
    }

    /** Hugging Face's rule: a metric whose name ends in "loss" is minimised, everything else maximised. */
    public boolean greaterIsBetterResolved() {
        return greaterIsBetter != null ? greaterIsBetter : !metricForBestModel.endsWith("loss");
    }

    /** {@code evalSteps}, or {@code loggingSteps} when it is 0 (Hugging Face's fallback). */
    public long evalStepsResolved() {
        return evalSteps > 0 ? evalSteps : loggingSteps;
    }

    public static Builder builder(Path outputDir) {
        return new Builder(outputDir);
    }

    /** A builder holding these values. */
    public Builder toBuilder() {
        Builder b = new Builder(outputDir);
        b.numTrainEpochs = numTrainEpochs;
        b.maxSteps = maxSteps;
        b.perDeviceTrainBatchSize = perDeviceTrainBatchSize;
        b.perDeviceEvalBatchSize = perDeviceEvalBatchSize;
        b.learningRate = learningRate;
        b.weightDecay = weightDecay;
        b.adamBeta1 = adamBeta1;
        b.adamBeta2 = adamBeta2;
        b.adamEpsilon = adamEpsilon;
        b.warmupSteps = warmupSteps;
        b.warmupRatio = warmupRatio;
        b.lrSchedulerType = lrSchedulerType;
        b.gradientAccumulationSteps = gradientAccumulationSteps;
        b.maxGradNorm = maxGradNorm;
        b.evalStrategy = evalStrategy;
        b.evalSteps = evalSteps;
        b.loggingSteps = loggingSteps;
        b.saveSteps = saveSteps;
        b.metricForBestModel = metricForBestModel;
        b.greaterIsBetter = greaterIsBetter;
        b.loadBestModelAtEnd = loadBestModelAtEnd;
        b.earlyStoppingPatience = earlyStoppingPatience;
        b.seed = seed;
        b.maxSeqLength = maxSeqLength;
        b.groupByLength = groupByLength;
        b.classWeights = classWeights;
        b.resumeFromCheckpoint = resumeFromCheckpoint;
        return b;
    }

    /** Fluent builder; the defaults are the ones listed on each setter. */
    public static final class Builder {
        private Path outputDir;
        private int numTrainEpochs = 3;
        private long maxSteps = -1;
        private int perDeviceTrainBatchSize = 8;
        private int perDeviceEvalBatchSize = 8;
        private double learningRate = 5e-5;
        private double weightDecay = 0;
        private double adamBeta1 = 0.9;
        private double adamBeta2 = 0.999;
        private double adamEpsilon = 1e-8;
        private long warmupSteps = 0;
        private double warmupRatio = 0;
        private String lrSchedulerType = "linear";
        private int gradientAccumulationSteps = 1;
        private double maxGradNorm = 1.0;
        private EvalStrategy evalStrategy = EvalStrategy.EPOCH;
        private long evalSteps = 0;
        private long loggingSteps = 50;
        private long saveSteps = 500;
        private String metricForBestModel = "accuracy";
        private Boolean greaterIsBetter = null;
        private boolean loadBestModelAtEnd = true;
        private int earlyStoppingPatience = 0;
        private long seed = 42;
        private int maxSeqLength = 128;
        private boolean groupByLength = true;
        private ClassWeighting classWeights = ClassWeighting.NONE;
        private Path resumeFromCheckpoint = null;

        private Builder(Path outputDir) {
            this.outputDir = outputDir;
        }

        public Builder outputDir(Path v) { outputDir = v; return this; }
        /** Default 3. */
        public Builder numTrainEpochs(int v) { numTrainEpochs = v; return this; }
        /** Default -1 (off). */
        public Builder maxSteps(long v) { maxSteps = v; return this; }
        /** Default 8. */
        public Builder perDeviceTrainBatchSize(int v) { perDeviceTrainBatchSize = v; return this; }
        /** Default 8. */
        public Builder perDeviceEvalBatchSize(int v) { perDeviceEvalBatchSize = v; return this; }
        /** Default 5e-5. */
        public Builder learningRate(double v) { learningRate = v; return this; }
        /** Default 0. */
        public Builder weightDecay(double v) { weightDecay = v; return this; }
        /** Defaults 0.9, 0.999. */
        public Builder adamBetas(double b1, double b2) { adamBeta1 = b1; adamBeta2 = b2; return this; }
        /** Default 1e-8. */
        public Builder adamEpsilon(double v) { adamEpsilon = v; return this; }
        /** Default 0. */
        public Builder warmupSteps(long v) { warmupSteps = v; return this; }
        /** Default 0. */
        public Builder warmupRatio(double v) { warmupRatio = v; return this; }
        /** Default "linear". */
        public Builder lrSchedulerType(String v) { lrSchedulerType = v; return this; }
        /** Default 1. */
        public Builder gradientAccumulationSteps(int v) { gradientAccumulationSteps = v; return this; }
        /** Default 1.0. */
        public Builder maxGradNorm(double v) { maxGradNorm = v; return this; }
        /** Default EPOCH. */
        public Builder evalStrategy(EvalStrategy v) { evalStrategy = v; return this; }
        /** Default 0 (= loggingSteps). */
        public Builder evalSteps(long v) { evalSteps = v; return this; }
        /** Default 50. */
        public Builder loggingSteps(long v) { loggingSteps = v; return this; }
        /** Default 500; 0 = never. */
        public Builder saveSteps(long v) { saveSteps = v; return this; }
        /** Default "accuracy". */
        public Builder metricForBestModel(String v) { metricForBestModel = v; return this; }
        /** Default null (derived from the metric name). */
        public Builder greaterIsBetter(Boolean v) { greaterIsBetter = v; return this; }
        /** Default true. */
        public Builder loadBestModelAtEnd(boolean v) { loadBestModelAtEnd = v; return this; }
        /** Default 0 (off). */
        public Builder earlyStoppingPatience(int v) { earlyStoppingPatience = v; return this; }
        /** Default 42. */
        public Builder seed(long v) { seed = v; return this; }
        /** Default 128. */
        public Builder maxSeqLength(int v) { maxSeqLength = v; return this; }
        /** Default true. */
        public Builder groupByLength(boolean v) { groupByLength = v; return this; }
        /** Default {@link ClassWeighting#NONE}. */
        public Builder classWeights(ClassWeighting v) { classWeights = v; return this; }
        /** Default null. */
        public Builder resumeFromCheckpoint(Path v) { resumeFromCheckpoint = v; return this; }

        public TrainingArguments build() {
            return new TrainingArguments(outputDir, numTrainEpochs, maxSteps, perDeviceTrainBatchSize, perDeviceEvalBatchSize,
                    learningRate, weightDecay, adamBeta1, adamBeta2, adamEpsilon, warmupSteps, warmupRatio, lrSchedulerType,
                    gradientAccumulationSteps, maxGradNorm, evalStrategy, evalSteps, loggingSteps, saveSteps,
                    metricForBestModel, greaterIsBetter, loadBestModelAtEnd, earlyStoppingPatience, seed, maxSeqLength,
                    groupByLength, classWeights, resumeFromCheckpoint);
        }
    }
}
