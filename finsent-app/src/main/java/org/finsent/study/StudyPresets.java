package org.finsent.study;

import org.finsent.peft.AdapterConfig;
import org.finsent.peft.LoraConfig;
import org.finsent.peft.PeftMethod;
import org.finsent.peft.PrefixTuningConfig;
import org.finsent.peft.PromptTuningConfig;
import org.finsent.train.Techniques;
import org.finsent.train.TrainingArguments;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The comparative study's settings, exactly as its text lists them, as {@link TrainingArguments} and
 * {@link PeftMethod} values. Where the study is silent (GPT-2's weight decay, evaluation cadence and best-model
 * metric; the sequence length; the seed) BERT's values and this library's defaults are used, and
 * {@link #assumptions()} says so. Where it contradicts itself (GPT-2's learning rate: 2e-5 in its table, 2e-4 in its
 * text) {@link Gpt2LearningRate} lets the caller pick, defaulting to the table.
 */
public final class StudyPresets {
    private StudyPresets() {
    }

    /** The two model families the study tunes differently. */
    public enum Family {
        BERT, GPT2;

        /** {@code bert} or {@code gpt2} (a model's architecture name). */
        public static Family of(String architecture) {
            return switch (architecture.toLowerCase(Locale.ROOT)) {
                case "bert" -> BERT;
                case "gpt2" -> GPT2;
                default -> throw new IllegalArgumentException("no study preset for architecture '" + architecture + "' (bert or gpt2)");
            };
        }
    }

    /** GPT-2's learning rate: the study's table says 2e-5, its text 2e-4. */
    public enum Gpt2LearningRate {
        TABLE(2e-5), TEXT(2e-4);

        public final double value;

        Gpt2LearningRate(double value) {
            this.value = value;
        }
    }

    /** A fine-tuning technique of the grid. {@link #PROMPT} is not one of the study's four. */
    public enum Technique {
        FULL, LORA, ADAPTER, PREFIX, PROMPT;

        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static Technique parse(String s) {
            for (Technique t : values()) if (t.id().equals(s.strip().toLowerCase(Locale.ROOT))) return t;
            throw new IllegalArgumentException("unknown technique '" + s + "' (full, lora, adapter, prefix, prompt, "
                    + "or PEFT ones joined with '+', e.g. lora+adapter)");
        }

        /** {@code lora+adapter} → [LORA, ADAPTER]; full fine-tuning does not combine. */
        public static List<Technique> parseCombination(String s) {
            List<Technique> out = new ArrayList<>();
            for (String part : s.split("\\+")) {
                Technique t = parse(part);
                if (out.contains(t)) throw new IllegalArgumentException("technique '" + t.id() + "' repeated in '" + s + "'");
                out.add(t);
            }
            if (out.size() > 1 && out.contains(FULL)) throw new IllegalArgumentException("full fine-tuning cannot be combined: '" + s + "'");
            return out;
        }
    }

    // ---- the study's numbers (BERT / FinBERT)
    public static final int BERT_EPOCHS = 5;
    public static final double BERT_LR_PEFT = 2e-4;
    public static final double BERT_LR_FULL = 2e-5;
    public static final long BERT_WARMUP_STEPS = 300;
    public static final int BERT_LORA_R = 8;
    public static final double BERT_LORA_ALPHA = 16;
    public static final List<String> BERT_LORA_TARGETS = List.of("query", "key", "value");
    // ---- GPT-2
    public static final int GPT2_EPOCHS = 3;
    public static final long GPT2_WARMUP_STEPS = 100;
    public static final int GPT2_LORA_R = 32;
    public static final double GPT2_LORA_ALPHA = 64;
    public static final List<String> GPT2_LORA_TARGETS = List.of("c_attn");
    // ---- shared
    public static final int BATCH_SIZE = 8;
    public static final int GRADIENT_ACCUMULATION = 2;
    public static final double WEIGHT_DECAY = 0.01;
    public static final long EVAL_AND_LOGGING_STEPS = 100;
    public static final String BEST_METRIC = "accuracy";
    public static final double LORA_DROPOUT = 0.1;
    public static final int ADAPTER_REDUCTION_FACTOR = 16;
    public static final int PREFIX_VIRTUAL_TOKENS = 10;
    public static final int PREFIX_HIDDEN = 768;
    /** Prompt tuning is not in the study; its size matches the prefix's. */
    public static final int PROMPT_VIRTUAL_TOKENS = 10;
    /** Not stated by the study: a common choice that covers FinancialPhraseBank and tweets without truncating most. */
    public static final int MAX_SEQ_LENGTH = 128;
    public static final long SEED = 42;
    /** Checkpoints for resuming a cell (only the newest is kept); not a study setting. */
    public static final long SAVE_STEPS = 200;

    /**
     * Knobs for quick runs, each null when not used; recorded in the results next to the numbers they changed.
     *
     * @param epochs     training epochs instead of the preset's
     * @param maxSteps   optimizer steps, overriding epochs
     * @param sampleSize use a stratified sample of this many examples of each data set (before splitting)
     * @param maxLength  truncation length instead of {@link #MAX_SEQ_LENGTH}
     * @param evalSteps  evaluation and logging interval instead of 100 steps
     * @param seed       training seed (head and PEFT initialisation, dropout, data order) instead of {@link #SEED};
     *                   the split keeps {@link #SEED}, so runs with several seeds are tested on the same examples
     */
    public record Overrides(Integer epochs, Long maxSteps, Integer sampleSize, Integer maxLength, Long evalSteps, Long seed) {
        public static final Overrides NONE = new Overrides(null, null, null, null, null, null);

        /** Without a seed override. */
        public Overrides(Integer epochs, Long maxSteps, Integer sampleSize, Integer maxLength, Long evalSteps) {
            this(epochs, maxSteps, sampleSize, maxLength, evalSteps, null);
        }

        public Overrides {
            if (epochs != null && epochs < 1) throw new IllegalArgumentException("--epochs must be >= 1: " + epochs);
            if (maxSteps != null && maxSteps < 1) throw new IllegalArgumentException("--max-steps must be >= 1: " + maxSteps);
            if (sampleSize != null && sampleSize < 30) throw new IllegalArgumentException("--sample must be >= 30: " + sampleSize);
            if (maxLength != null && maxLength < 8) throw new IllegalArgumentException("--max-length must be >= 8: " + maxLength);
            if (evalSteps != null && evalSteps < 1) throw new IllegalArgumentException("--eval-steps must be >= 1: " + evalSteps);
        }

        public boolean isEmpty() {
            return asMap().isEmpty();
        }

        /** The overrides that are set, by option name (for results.json and the report). */
        public Map<String, Object> asMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            if (epochs != null) m.put("epochs", epochs);
            if (maxSteps != null) m.put("max_steps", maxSteps);
            if (sampleSize != null) m.put("sample_size", sampleSize);
            if (maxLength != null) m.put("max_length", maxLength);
            if (evalSteps != null) m.put("eval_steps", evalSteps);
            if (seed != null) m.put("seed", seed);
            return m;
        }
    }

    /** The study's training arguments for a family and technique, with {@code overrides} applied. */
    public static TrainingArguments arguments(Family family, List<Technique> techniques, Path outputDir,
                                              Gpt2LearningRate gpt2Lr, Overrides overrides) {
        boolean full = techniques.contains(Technique.FULL);
        TrainingArguments.Builder b = TrainingArguments.builder(outputDir)
                .perDeviceTrainBatchSize(BATCH_SIZE).perDeviceEvalBatchSize(32)
                .gradientAccumulationSteps(GRADIENT_ACCUMULATION)
                .weightDecay(WEIGHT_DECAY)
                .evalStrategy(TrainingArguments.EvalStrategy.STEPS).evalSteps(EVAL_AND_LOGGING_STEPS)
                .loggingSteps(EVAL_AND_LOGGING_STEPS)
                .metricForBestModel(BEST_METRIC).loadBestModelAtEnd(true)
                .saveSteps(SAVE_STEPS).maxSeqLength(MAX_SEQ_LENGTH).seed(SEED);
        switch (family) {
            case BERT -> b.numTrainEpochs(BERT_EPOCHS).learningRate(full ? BERT_LR_FULL : BERT_LR_PEFT).warmupSteps(BERT_WARMUP_STEPS);
            case GPT2 -> b.numTrainEpochs(GPT2_EPOCHS).learningRate(gpt2Lr.value).warmupSteps(GPT2_WARMUP_STEPS);
        }
        if (overrides.epochs() != null) b.numTrainEpochs(overrides.epochs());
        if (overrides.maxSteps() != null) b.maxSteps(overrides.maxSteps());
        if (overrides.maxLength() != null) b.maxSeqLength(overrides.maxLength());
        if (overrides.evalSteps() != null) {
            b.evalSteps(overrides.evalSteps()).loggingSteps(overrides.evalSteps()).saveSteps(2 * overrides.evalSteps());
        }
        if (overrides.seed() != null) b.seed(overrides.seed());
        return b.build();
    }

    /** The study's PEFT settings for a family and technique ({@link PeftMethod.Baseline#FULL_FINE_TUNING} for full). */
    public static PeftMethod method(Family family, Technique technique) {
        return switch (technique) {
            case FULL -> PeftMethod.Baseline.FULL_FINE_TUNING;
            case LORA -> family == Family.BERT
                    ? new LoraConfig(BERT_LORA_R, BERT_LORA_ALPHA, LORA_DROPOUT, LoraConfig.Bias.NONE, BERT_LORA_TARGETS, null, false, SEED)
                    : new LoraConfig(GPT2_LORA_R, GPT2_LORA_ALPHA, LORA_DROPOUT, LoraConfig.Bias.NONE, GPT2_LORA_TARGETS, null, false, SEED);
            case ADAPTER -> new AdapterConfig("pfeiffer", ADAPTER_REDUCTION_FACTOR, SEED);
            case PREFIX -> new PrefixTuningConfig(PREFIX_VIRTUAL_TOKENS, true, PREFIX_HIDDEN, SEED);
            case PROMPT -> PromptTuningConfig.random(PROMPT_VIRTUAL_TOKENS);
        };
    }

    public static PeftMethod[] methods(Family family, List<Technique> techniques) {
        return techniques.stream().map(t -> method(family, t)).toArray(PeftMethod[]::new);
    }

    /** The same settings as {@link org.finsent.train.Techniques}, what {@link org.finsent.app.FineTuning} takes. */
    public static Techniques techniques(Family family, List<Technique> techniques) {
        return techniques(family, techniques, SEED);
    }

    /** The same, with the PEFT modules initialised from {@code seed}. */
    public static Techniques techniques(Family family, List<Technique> techniques, long seed) {
        boolean bert = family == Family.BERT;
        return new Techniques(techniques.stream().map(Technique::id).toList(), bert ? BERT_LORA_R : GPT2_LORA_R,
                bert ? BERT_LORA_ALPHA : GPT2_LORA_ALPHA, LORA_DROPOUT, bert ? BERT_LORA_TARGETS : GPT2_LORA_TARGETS,
                ADAPTER_REDUCTION_FACTOR, PREFIX_VIRTUAL_TOKENS, true, PREFIX_HIDDEN, PROMPT_VIRTUAL_TOKENS, null, seed);
    }

    /** Where the study is silent or contradicts itself, and what these presets do there (for the report). */
    public static List<String> assumptions() {
        return List.of(
                "GPT-2 learning rate: the study's table says 2e-5, its text 2e-4; the table's value is the default "
                        + "(`--gpt2-lr text` picks 2e-4).",
                "GPT-2 weight decay, evaluation/logging cadence and best-model metric are not stated: BERT's "
                        + "(0.01, every 100 steps, accuracy) are used.",
                "Maximum sequence length is not stated: " + MAX_SEQ_LENGTH + " tokens.",
                "Learning-rate schedule: linear decay after the warm-up (Hugging Face's default); gradient clipping at 1.0.",
                "Evaluation batch size 32 (does not change results); seed " + SEED + " for splits, initialisation and shuffling (`--seed N` changes the last two only).",
                "Prompt tuning (not in the study): " + PROMPT_VIRTUAL_TOKENS + " randomly initialised virtual tokens, the PEFT learning rate.");
    }
}
