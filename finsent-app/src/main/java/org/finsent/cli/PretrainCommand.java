package org.finsent.cli;

import org.finsent.core.data.Example;
import org.finsent.core.data.Splits;
import org.finsent.report.RunReporter;
import org.finsent.train.Checkpoint;
import org.finsent.train.DataSources;
import org.finsent.train.TrainingArguments;
import org.finsent.train.pretrain.Pretrainer;
import org.finsent.train.pretrain.Pretraining;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code finsent pretrain}: continued (domain- or task-adaptive) pretraining of a BERT model with the masked-LM
 * objective or of GPT-2 with the causal-LM objective, on raw texts; writes a model directory that Transformers opens
 * as {@code BertForMaskedLM} / {@code GPT2LMHeadModel} and that {@code train} and {@code compare} take as a base.
 * docs/PRETRAINING.md has the details.
 */
@Command(name = "pretrain", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Continue pretraining a BERT (masked LM) or GPT-2 (causal LM) model on raw texts and write a model directory.",
                "",
                "Texts: --text FILE... (one text per line, or .jsonl with a \"text\" field), and/or --data SPEC for the training "
                        + "split of a labelled data set (the split train uses: stratified, --split-fractions, --split-seed); its "
                        + "validation and test texts are never read into pretraining.",
                "An unfinished run in --output resumes from its last checkpoint."},
        footer = {"", "Example:", "  finsent pretrain --model bert-base-uncased --data fpb --output runs/bert-tapt-fpb --epochs 3"})
public final class PretrainCommand implements Callable<Integer> {

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "SPEC", description = "Base model, as for train (BERT or GPT-2).")
    String model;
    @Option(names = "--text", arity = "1..*", paramLabel = "FILE", description = "Text files (one per line, or .jsonl {\"text\": ...}).")
    List<Path> textFiles = new ArrayList<>();
    @Option(names = {"-d", "--data"}, paramLabel = "SPEC", description = "A labelled data set (as for train) whose training split's texts are added.")
    String data;
    @Option(names = "--split", defaultValue = "train", paramLabel = "NAME", description = "The split of --data to read: train only. Default: ${DEFAULT-VALUE}.")
    String split;
    @Option(names = "--split-fractions", split = ",", defaultValue = "0.8,0.1", paramLabel = "FRACTION",
            description = "Train and validation fractions of --data, as train's --split. Default: ${DEFAULT-VALUE}.")
    List<Double> splitFractions;
    @Option(names = "--split-seed", defaultValue = "42", paramLabel = "N", description = "Seed of the split of --data (the study's: 42). Default: ${DEFAULT-VALUE}.")
    long splitSeed;
    @Option(names = {"-o", "--output"}, required = true, paramLabel = "DIR", description = "Run and model directory.")
    Path output;

    @Option(names = "--mlm-probability", defaultValue = "0.15", description = "Masked-LM selection probability (BERT). Default: ${DEFAULT-VALUE}.")
    double mlmProbability;
    @Option(names = "--whole-word-mask", description = "Mask whole words (a WordPiece token and its ## continuations) together.")
    boolean wholeWordMask;
    @Option(names = {"-t", "--technique"}, defaultValue = "full", paramLabel = "NAME",
            description = "full, or lora (LoRA on the encoder, merged into the weights at save). Default: ${DEFAULT-VALUE}.")
    String technique;
    @Option(names = "--lora-r", defaultValue = "8", description = "LoRA rank. Default: ${DEFAULT-VALUE}.")
    int loraR;
    @Option(names = "--lora-alpha", defaultValue = "16", description = "LoRA alpha. Default: ${DEFAULT-VALUE}.")
    double loraAlpha;
    @Option(names = "--lora-dropout", defaultValue = "0.1", description = "LoRA dropout. Default: ${DEFAULT-VALUE}.")
    double loraDropout;
    @Option(names = "--lora-targets", split = ",", paramLabel = "MODULE", description = "LoRA target modules (default: query,value for BERT; c_attn for GPT-2).")
    List<String> loraTargets;

    @Option(names = "--epochs", defaultValue = "3", description = "num_train_epochs. Default: ${DEFAULT-VALUE}.")
    int epochs;
    @Option(names = "--max-steps", defaultValue = "-1", description = "max_steps (overrides --epochs when > 0). Default: ${DEFAULT-VALUE}.")
    long maxSteps;
    @Option(names = "--batch-size", defaultValue = "8", description = "per_device_train_batch_size. Default: ${DEFAULT-VALUE}.")
    int batchSize;
    @Option(names = "--gradient-accumulation-steps", defaultValue = "1", description = "gradient_accumulation_steps. Default: ${DEFAULT-VALUE}.")
    int accumulation;
    @Option(names = {"--learning-rate", "--lr"}, defaultValue = "5e-5", description = "learning_rate. Default: ${DEFAULT-VALUE}.")
    double lr;
    @Option(names = "--weight-decay", defaultValue = "0.01", description = "weight_decay. Default: ${DEFAULT-VALUE}.")
    double weightDecay;
    @Option(names = "--warmup-ratio", defaultValue = "0.06", description = "warmup_ratio. Default: ${DEFAULT-VALUE}.")
    double warmupRatio;
    @Option(names = "--lr-scheduler", defaultValue = "linear", description = "lr_scheduler_type. Default: ${DEFAULT-VALUE}.")
    String lrScheduler;
    @Option(names = "--max-grad-norm", defaultValue = "1.0", description = "max_grad_norm (0 = no clipping). Default: ${DEFAULT-VALUE}.")
    double maxGradNorm;
    @Option(names = "--max-seq-length", defaultValue = "128", description = "Truncation length in tokens. Default: ${DEFAULT-VALUE}.")
    int maxSeqLength;
    @Option(names = "--logging-steps", defaultValue = "50", description = "logging_steps. Default: ${DEFAULT-VALUE}.")
    long loggingSteps;
    @Option(names = "--save-steps", defaultValue = "500", description = "save_steps (0 = no checkpoints). Default: ${DEFAULT-VALUE}.")
    long saveSteps;
    @Option(names = "--seed", defaultValue = "42", description = "Seed of the data order, the masks, dropout and a new head. Default: ${DEFAULT-VALUE}.")
    long seed;
    @Option(names = "--resume-from-checkpoint", paramLabel = "DIR", description = "Continue from this checkpoint (default: the latest in --output).")
    Path resume;

    @Override
    public Integer call() throws Exception {
        if (!technique.equals("full") && !technique.equals("lora")) {
            throw new IllegalArgumentException("--technique " + technique + " is not available for pretraining: use full or lora");
        }
        if (!split.equals("train")) {
            throw new IllegalArgumentException("--split " + split + ": pretraining reads the training split only (validation and test "
                    + "texts would leak into the evaluation)");
        }
        List<String> texts = new ArrayList<>(), sources = new ArrayList<>();
        for (Path f : textFiles) {
            if (!Files.isRegularFile(f)) throw new java.nio.file.NoSuchFileException(f.toString(), null, "no such text file");
            List<String> read = Pretraining.readTexts(f);
            texts.addAll(read);
            sources.add("text file " + f.getFileName() + ": " + read.size() + " texts");
        }
        if (data != null) {
            List<String> train = trainingTexts(data, splitFractions, splitSeed);
            texts.addAll(train);
            sources.add(String.format(Locale.ROOT, "data %s: training split (stratified %s train, %s validation, split seed %d): %d texts",
                    data, splitFractions.get(0), splitFractions.get(1), splitSeed, train.size()));
        }
        if (textFiles.isEmpty() && data == null) throw new IllegalArgumentException("give --text FILE... or --data SPEC");
        if (texts.isEmpty()) throw new IllegalArgumentException("the texts given are all empty");
        Path from = resume != null ? resume : Checkpoint.latest(output);
        TrainingArguments args = TrainingArguments.builder(output).numTrainEpochs(epochs).maxSteps(maxSteps).perDeviceTrainBatchSize(batchSize)
                .gradientAccumulationSteps(accumulation).learningRate(lr).weightDecay(weightDecay).warmupRatio(warmupRatio)
                .lrSchedulerType(lrScheduler).maxGradNorm(maxGradNorm).maxSeqLength(maxSeqLength).loggingSteps(loggingSteps)
                .saveSteps(saveSteps).seed(seed).resumeFromCheckpoint(from).build();
        long t0 = System.nanoTime();
        org.finsent.peft.LoraConfig lora = null;
        if (technique.equals("lora")) {
            List<String> targets = loraTargets != null ? loraTargets : null;
            lora = new org.finsent.peft.LoraConfig(loraR, loraAlpha, loraDropout, org.finsent.peft.LoraConfig.Bias.NONE,
                    targets != null ? targets : List.of("query", "value", "c_attn"), null, false, seed);
        }
        Pretrainer.Result r = Pretraining.run(model, texts, args, mlmProbability, wholeWordMask, lora, sources);
        List<Path> plots = RunReporter.writePlots(output, List.of());
        PrintStream out = System.out;
        out.printf(Locale.ROOT, "Pretrained model written to %s in %.1f s: %d steps on %d texts, mean loss %.4f%n",
                output.toAbsolutePath(), (System.nanoTime() - t0) / 1e9, r.globalStep(), texts.size(), r.trainLoss());
        if (from != null) out.println("resumed from " + from);
        out.println("plots: " + plots.stream().map(p -> p.getFileName().toString()).toList());
        return FinSentCli.OK;
    }

    /** The texts of the training split of a labelled data set, split as {@code train} splits it. */
    static List<String> trainingTexts(String dataSpec, List<Double> fractions, long splitSeed) throws java.io.IOException {
        if (fractions.size() != 2) throw new IllegalArgumentException("--split-fractions takes two numbers: train,validation");
        List<Example> examples = DataSources.load(dataSpec, DataSources.Options.defaults()).dataset().examples();
        return Splits.stratified(examples, fractions.get(0), fractions.get(1), splitSeed).train().stream().map(Example::text).toList();
    }
}
