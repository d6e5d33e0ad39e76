package org.finsent.cli;

import org.finsent.core.data.BadRowPolicy;
import org.finsent.train.ClassWeighting;
import org.finsent.train.DataSources;
import org.finsent.train.FineTunedModel;
import org.finsent.app.FineTuning;
import org.finsent.train.Predictor;
import org.finsent.train.Techniques;
import org.finsent.train.TrainingArguments;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/**
 * {@code finsent train}: a model, a data set and one or more techniques → a fine-tuned model directory with the run's
 * log, metrics, resource summary and plots. The work is {@link FineTuning#run}, so a grid of runs calls the same
 * code; options mirror Hugging Face's {@code TrainingArguments} (defaults: the library's, see {@code --help}).
 */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Fine-tune a model on a labelled data set and write a model directory with the run's outputs.",
                "",
                "Models: all-MiniLM-L6-v2, bert-base-uncased (Maven artifacts), random:gpt2-tiny[:VOCAB_DIR] (untrained GPT-2 "
                        + "for testing the GPT-2 path), a local Hugging Face directory, hf:ORG/NAME[@REV].",
                "Data: fpb[:PATH] (FinancialPhraseBank txt, zip or folder), tweets[:PATH], csv:PATH, jsonl:PATH, "
                        + "hf:takala/financial_phrasebank; without PATH: $FINSENT_DATA, then the Hugging Face cache (finsent "
                        + "download), then the embedded copy (FinancialPhraseBank's development part, a subset; docs/DATA.md).",
                "A finished run in --output with the same settings is skipped; an unfinished one resumes from its last checkpoint."},
        footer = {"", "Example:", "  finsent train --model all-MiniLM-L6-v2 --data fpb --technique lora --epochs 3 --output runs/minilm-lora"})
public final class TrainCommand implements Callable<Integer> {

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "SPEC", description = "Base model (see above).")
    String model;

    @Option(names = {"-d", "--data"}, defaultValue = "fpb", paramLabel = "SPEC", description = "Data set (see above). Default: ${DEFAULT-VALUE}.")
    String data;

    @Option(names = {"-t", "--technique"}, split = ",", defaultValue = "lora", paramLabel = "NAME",
            description = "lora, adapter, prefix, prompt (combinable: lora,adapter), full or head. Default: ${DEFAULT-VALUE}.")
    List<String> techniques;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "DIR", description = "Run and model directory.")
    Path output;

    @Option(names = "--overwrite", description = "Replace a run with other settings in --output (and rerun a finished one).")
    boolean overwrite;

    // ---- data
    @Option(names = "--agreement", defaultValue = "50", paramLabel = "LEVEL", description = "FinancialPhraseBank agreement: 50, 66, 75 or all. Default: ${DEFAULT-VALUE}.")
    String agreement;
    @Option(names = "--text-column", defaultValue = "text", paramLabel = "NAME", description = "csv/jsonl text column. Default: ${DEFAULT-VALUE}.")
    String textColumn;
    @Option(names = "--label-column", defaultValue = "label", paramLabel = "NAME", description = "csv/jsonl label column. Default: ${DEFAULT-VALUE}.")
    String labelColumn;
    @Option(names = "--labels", split = ",", defaultValue = "negative,neutral,positive", paramLabel = "NAME",
            description = "csv/jsonl class names by id. Default: ${DEFAULT-VALUE}.")
    List<String> labels;
    @Option(names = "--label-values", split = ",", paramLabel = "VALUE", description = "csv/jsonl: how each class appears in the file, by id (default: the names).")
    List<String> labelValues;
    @Option(names = "--skip-bad-rows", description = "Skip malformed rows (counted) instead of failing on the first.")
    boolean skipBadRows;
    @Option(names = "--split", split = ",", defaultValue = "0.8,0.1", paramLabel = "FRACTION",
            description = "Train and validation fractions (stratified, duplicate-safe; the rest is the test split). Default: ${DEFAULT-VALUE}.")
    List<Double> split;

    // ---- training arguments (Hugging Face names)
    @Option(names = "--epochs", defaultValue = "3", description = "num_train_epochs. Default: ${DEFAULT-VALUE}.")
    int epochs;
    @Option(names = "--max-steps", defaultValue = "-1", description = "max_steps (overrides --epochs when > 0). Default: ${DEFAULT-VALUE}.")
    long maxSteps;
    @Option(names = "--batch-size", defaultValue = "8", description = "per_device_train_batch_size. Default: ${DEFAULT-VALUE}.")
    int batchSize;
    @Option(names = "--eval-batch-size", defaultValue = "32", description = "per_device_eval_batch_size. Default: ${DEFAULT-VALUE}.")
    int evalBatchSize;
    @Option(names = {"--learning-rate", "--lr"}, description = "learning_rate. Default: 2e-4 for PEFT, 2e-5 for full (the study's).")
    Double learningRate;
    @Option(names = "--weight-decay", defaultValue = "0.01", description = "weight_decay. Default: ${DEFAULT-VALUE}.")
    double weightDecay;
    @Option(names = "--adam-beta1", defaultValue = "0.9", description = "adam_beta1. Default: ${DEFAULT-VALUE}.")
    double adamBeta1;
    @Option(names = "--adam-beta2", defaultValue = "0.999", description = "adam_beta2. Default: ${DEFAULT-VALUE}.")
    double adamBeta2;
    @Option(names = "--adam-epsilon", defaultValue = "1e-8", description = "adam_epsilon. Default: ${DEFAULT-VALUE}.")
    double adamEpsilon;
    @Option(names = "--warmup-steps", defaultValue = "0", description = "warmup_steps (wins over --warmup-ratio when > 0). Default: ${DEFAULT-VALUE}.")
    long warmupSteps;
    @Option(names = "--warmup-ratio", defaultValue = "0.1", description = "warmup_ratio. Default: ${DEFAULT-VALUE}.")
    double warmupRatio;
    @Option(names = "--lr-scheduler", defaultValue = "linear", description = "lr_scheduler_type: linear, cosine, constant, constant_with_warmup. Default: ${DEFAULT-VALUE}.")
    String lrScheduler;
    @Option(names = "--gradient-accumulation-steps", defaultValue = "1", description = "gradient_accumulation_steps. Default: ${DEFAULT-VALUE}.")
    int accumulation;
    @Option(names = "--max-grad-norm", defaultValue = "1.0", description = "max_grad_norm (0 = no clipping). Default: ${DEFAULT-VALUE}.")
    double maxGradNorm;
    @Option(names = "--eval-strategy", defaultValue = "epoch", description = "eval_strategy: steps, epoch or no. Default: ${DEFAULT-VALUE}.")
    String evalStrategy;
    @Option(names = "--eval-steps", defaultValue = "0", description = "eval_steps (0 = --logging-steps). Default: ${DEFAULT-VALUE}.")
    long evalSteps;
    @Option(names = "--logging-steps", defaultValue = "50", description = "logging_steps. Default: ${DEFAULT-VALUE}.")
    long loggingSteps;
    @Option(names = "--save-steps", defaultValue = "500", description = "save_steps (0 = no checkpoints). Default: ${DEFAULT-VALUE}.")
    long saveSteps;
    @Option(names = "--metric-for-best-model", defaultValue = "accuracy", description = "metric_for_best_model. Default: ${DEFAULT-VALUE}.")
    String metric;
    @Option(names = "--greater-is-better", description = "greater_is_better (default: from the metric name).")
    Boolean greaterIsBetter;
    @Option(names = "--no-load-best-model-at-end", negatable = false, description = "Keep the last weights instead of the best evaluation's.")
    boolean noLoadBest;
    @Option(names = "--early-stopping-patience", defaultValue = "0", description = "Evaluations without improvement before stopping (0 = off). Default: ${DEFAULT-VALUE}.")
    int patience;
    @Option(names = "--seed", defaultValue = "42", description = "Seed of the split, the head, the PEFT modules and the data order. Default: ${DEFAULT-VALUE}.")
    long seed;
    @Option(names = "--split-seed", paramLabel = "N", description = "Seed of the split alone (default: --seed): train with other seeds on the same split.")
    Long splitSeed;
    @Option(names = "--max-seq-length", defaultValue = "128", description = "Truncation length in tokens. Default: ${DEFAULT-VALUE}.")
    int maxSeqLength;
    @Option(names = "--no-group-by-length", negatable = false, description = "Plain shuffled batches (default: length-grouped).")
    boolean noGroupByLength;
    @Option(names = "--class-weights", defaultValue = "none", paramLabel = "none|balanced|W0,W1,...", description = "Loss class weights. Default: ${DEFAULT-VALUE}.")
    String classWeights;
    @Option(names = "--resume-from-checkpoint", paramLabel = "DIR", description = "Continue from this checkpoint-<step> directory.")
    Path resume;

    // ---- technique hyperparameters (the study's defaults)
    @Option(names = "--lora-r", defaultValue = "8", description = "LoRA rank. Default: ${DEFAULT-VALUE}.")
    int loraR;
    @Option(names = "--lora-alpha", defaultValue = "16", description = "LoRA alpha. Default: ${DEFAULT-VALUE}.")
    double loraAlpha;
    @Option(names = "--lora-dropout", defaultValue = "0.1", description = "LoRA dropout. Default: ${DEFAULT-VALUE}.")
    double loraDropout;
    @Option(names = "--lora-targets", split = ",", paramLabel = "MODULE", description = "LoRA target modules (default: query,key,value for BERT; c_attn for GPT-2).")
    List<String> loraTargets = new ArrayList<>();
    @Option(names = "--adapter-reduction-factor", defaultValue = "16", description = "Pfeiffer adapter reduction factor. Default: ${DEFAULT-VALUE}.")
    int reductionFactor;
    @Option(names = "--prefix-tokens", defaultValue = "10", description = "Prefix virtual tokens. Default: ${DEFAULT-VALUE}.")
    int prefixTokens;
    @Option(names = "--prefix-hidden", defaultValue = "768", description = "Prefix projection width. Default: ${DEFAULT-VALUE}.")
    int prefixHidden;
    @Option(names = "--no-prefix-projection", negatable = false, description = "Prefix without the reparameterisation MLP.")
    boolean noPrefixProjection;
    @Option(names = "--prompt-tokens", defaultValue = "10", description = "Prompt-tuning virtual tokens. Default: ${DEFAULT-VALUE}.")
    int promptTokens;
    @Option(names = "--prompt-init-text", paramLabel = "TEXT", description = "Initialise the prompt from this text's embeddings (default: random).")
    String promptInitText;

    @Option(names = "--predict", paramLabel = "TEXT", description = "After training, predict these texts with the model (repeatable).")
    List<String> predict = new ArrayList<>();

    /** The run as a library call; {@code compare} builds the same spec per grid cell. */
    FineTuning.Spec spec() {
        Techniques t = new Techniques(techniques, loraR, loraAlpha, loraDropout, loraTargets, reductionFactor, prefixTokens,
                !noPrefixProjection, prefixHidden, promptTokens, promptInitText, seed);
        boolean full = t.names().contains("full");
        TrainingArguments args = TrainingArguments.builder(output)
                .numTrainEpochs(epochs).maxSteps(maxSteps).perDeviceTrainBatchSize(batchSize).perDeviceEvalBatchSize(evalBatchSize)
                .learningRate(learningRate != null ? learningRate : full ? 2e-5 : 2e-4)
                .weightDecay(weightDecay).adamBetas(adamBeta1, adamBeta2).adamEpsilon(adamEpsilon)
                .warmupSteps(warmupSteps).warmupRatio(warmupRatio).lrSchedulerType(lrScheduler)
                .gradientAccumulationSteps(accumulation).maxGradNorm(maxGradNorm)
                .evalStrategy(TrainingArguments.EvalStrategy.parse(evalStrategy)).evalSteps(evalSteps)
                .loggingSteps(loggingSteps).saveSteps(saveSteps).metricForBestModel(metric).greaterIsBetter(greaterIsBetter)
                .loadBestModelAtEnd(!noLoadBest && !evalStrategy.equalsIgnoreCase("no")).earlyStoppingPatience(patience).seed(seed)
                .maxSeqLength(maxSeqLength).groupByLength(!noGroupByLength).classWeights(ClassWeighting.parse(classWeights))
                .resumeFromCheckpoint(resume).build();
        if (split.size() != 2) throw new IllegalArgumentException("--split takes two fractions, train and validation: " + split);
        DataSources.Options o = new DataSources.Options(DataSources.agreement(agreement), textColumn, labelColumn, labels,
                labelValues, skipBadRows ? BadRowPolicy.SKIP : BadRowPolicy.FAIL);
        return new FineTuning.Spec(model, data, o, t, args, split.get(0), split.get(1), splitSeed);
    }

    @Override
    public Integer call() throws Exception {
        long t0 = System.nanoTime();
        FineTuning.Outcome r = FineTuning.run(spec(), overwrite);
        PrintStream out = System.out;
        out.println();
        out.printf(Locale.ROOT, "%s %s in %.1f s%n", r.skipped() ? "Already finished (skipped):" : "Fine-tuned model written to",
                output.toAbsolutePath(), (System.nanoTime() - t0) / 1e9);
        if (r.data() != null) out.println("data: " + r.data());
        printMetrics(out, "validation", r.metrics(), "eval_");
        printMetrics(out, "test", r.testMetrics(), "test_");
        // a run shorter than one sampling interval has no CPU figure (CPU % needs two ticks)
        if (r.resources() != null && r.resources().processCpuPercent() != null && r.resources().processRssBytes() != null) {
            var s = r.resources();
            out.printf(Locale.ROOT, "resources: %.1f s, process CPU avg %.0f%% max %.0f%% (of %d cores), RSS avg %.0f MB max %.0f MB%n",
                    s.wallTimeSeconds(), s.processCpuPercent().avg(), s.processCpuPercent().max(), s.logicalCores(),
                    s.processRssBytes().avg() / 1e6, s.processRssBytes().max() / 1e6);
        }
        try (Stream<Path> files = Files.list(output)) {
            out.println("files: " + String.join(", ", files.filter(Files::isRegularFile).map(p -> p.getFileName().toString()).sorted().toList()));
        }
        if (!predict.isEmpty()) {
            FineTunedModel m = r.model() != null ? r.model() : FineTunedModel.load(output);
            List<Predictor.Prediction> ps = m.predictor().predict(predict);
            out.println("predictions:");
            for (int i = 0; i < ps.size(); i++) PredictCommand.printPlain(out, predict.get(i), ps.get(i), m.labels());
        }
        return FinSentCli.OK;
    }

    static void printMetrics(PrintStream out, String name, Map<String, Object> m, String prefix) {
        if (!m.containsKey(prefix + "accuracy")) return;
        out.printf(Locale.ROOT, "%-10s accuracy %.4f  precision_w %.4f  recall_w %.4f  f1_w %.4f  f1_macro %.4f  (%s examples)%n", name + ":",
                num(m, prefix + "accuracy"), num(m, prefix + "precision_weighted"), num(m, prefix + "recall_weighted"),
                num(m, prefix + "f1_weighted"), num(m, prefix + "f1_macro"), m.get(prefix + "samples"));
    }

    private static double num(Map<String, Object> m, String k) {
        return m.get(k) instanceof Number n ? n.doubleValue() : Double.NaN;
    }
}
