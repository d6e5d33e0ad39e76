package org.finsent.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.finsent.core.data.BadRowPolicy;
import org.finsent.core.data.Example;
import org.finsent.core.data.Splits;
import org.finsent.core.metrics.ClassificationMetrics;
import org.finsent.report.ProgressBars;
import org.finsent.report.RunReporter;
import org.finsent.train.DataSources;
import org.finsent.train.EvalResult;
import org.finsent.train.FineTunedModel;
import org.finsent.app.FineTuning;
import org.finsent.train.Trainer;
import org.finsent.train.TrainingArguments;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code finsent evaluate}: a fine-tuned model directory on a data set → metrics JSON and confusion-matrix PNGs. */
@Command(name = "evaluate", mixinStandardHelpOptions = true,
        description = {"Evaluate a fine-tuned model directory on a labelled data set: accuracy, precision/recall/F1 "
                + "(per class, macro, weighted; scikit-learn's definitions), confusion matrix.",
                "Writes <output>/evaluation.json and <output>/evaluation_confusion_matrix[_normalized].png and prints a "
                        + "classification report."},
        footer = {"", "Example:", "  finsent evaluate --model runs/minilm-lora --data fpb --split test"})
public final class EvaluateCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "DIR", description = "Fine-tuned model directory.")
    Path model;

    @Option(names = {"-d", "--data"}, defaultValue = "fpb", paramLabel = "SPEC",
            description = "fpb[:PATH], tweets[:PATH], csv:PATH, jsonl:PATH, hf:takala/financial_phrasebank. Default: ${DEFAULT-VALUE}.")
    String data;

    @Option(names = "--split", defaultValue = "all", paramLabel = "all|train|validation|test",
            description = "Evaluate all examples, or one split of them made exactly as the training run made it "
                    + "(fractions and seed from the model's run_spec.json). Default: ${DEFAULT-VALUE}.")
    String split;

    @Option(names = {"-o", "--output"}, paramLabel = "DIR", description = "Where to write the JSON and PNGs (default: the model directory).")
    Path output;

    @Option(names = "--agreement", defaultValue = "50", description = "FinancialPhraseBank agreement: 50, 66, 75 or all. Default: ${DEFAULT-VALUE}.")
    String agreement;
    @Option(names = "--text-column", defaultValue = "text", description = "csv/jsonl text column. Default: ${DEFAULT-VALUE}.")
    String textColumn;
    @Option(names = "--label-column", defaultValue = "label", description = "csv/jsonl label column. Default: ${DEFAULT-VALUE}.")
    String labelColumn;
    @Option(names = "--label-values", split = ",", description = "csv/jsonl: how each of the model's classes appears in the file, by id.")
    List<String> labelValues;
    @Option(names = "--skip-bad-rows", description = "Skip malformed rows instead of failing.")
    boolean skipBadRows;
    @Option(names = "--batch-size", defaultValue = "32", description = "Examples per forward pass. Default: ${DEFAULT-VALUE}.")
    int batchSize;

    @Override
    public Integer call() throws Exception {
        FineTunedModel m = FineTunedModel.load(model);
        DataSources.Options o = new DataSources.Options(DataSources.agreement(agreement), textColumn, labelColumn, m.labels(),
                labelValues, skipBadRows ? BadRowPolicy.SKIP : BadRowPolicy.FAIL);
        DataSources.Loaded d = DataSources.load(data, o);
        if (!d.labelNames().equals(m.labels())) {
            throw new IllegalArgumentException("the data's labels " + d.labelNames() + " are not the model's " + m.labels());
        }
        List<Example> examples = select(d.dataset().examples());
        Path out = output != null ? output : model;
        Files.createDirectories(out);
        TrainingArguments args = TrainingArguments.builder(out).maxSeqLength(m.maxSeqLength()).perDeviceEvalBatchSize(batchSize).build();
        Trainer evaluator = new Trainer(m.model(), m.tokenizer(), args, m.labels());
        ProgressBars bars = ProgressBars.forConsole();
        if (bars != null) evaluator.addListener(bars);
        EvalResult r = evaluator.evaluate(examples);
        ClassificationMetrics cm = r.metrics();

        Map<String, Object> j = new LinkedHashMap<>();
        j.put("model", model.toAbsolutePath().toString());
        j.put("data", data);
        j.put("source", d.source());
        j.put("split", split);
        j.put("samples", examples.size());
        j.put("loss", r.loss());
        j.put("accuracy", cm.accuracy());
        j.put("precision_macro", cm.macroPrecision());
        j.put("recall_macro", cm.macroRecall());
        j.put("f1_macro", cm.macroF1());
        j.put("precision_weighted", cm.weightedPrecision());
        j.put("recall_weighted", cm.weightedRecall());
        j.put("f1_weighted", cm.weightedF1());
        Map<String, Object> perClass = new LinkedHashMap<>();
        for (int k = 0; k < m.labels().size(); k++) {
            perClass.put(m.labels().get(k), Map.of("precision", cm.precision(k), "recall", cm.recall(k), "f1", cm.f1(k),
                    "support", cm.support(k)));
        }
        j.put("per_class", perClass);
        j.put("labels", m.labels());
        j.put("confusion_matrix", cm.confusionMatrix().toArray());
        j.put("runtime_s", r.runtimeSeconds());
        Path json = out.resolve("evaluation.json");
        JSON.writerWithDefaultPrettyPrinter().writeValue(json.toFile(), j);
        List<Path> pngs = RunReporter.confusionMatrices(out, "evaluation_", split.equals("all") ? "all " + examples.size()
                + " examples" : split + " split", cm.confusionMatrix().toArray(), m.labels());

        System.out.println(cm.classificationReport(m.labels().toArray(String[]::new), 4));
        System.out.printf(java.util.Locale.ROOT, "accuracy %.4f on %d examples (%s, split %s)%n", cm.accuracy(), examples.size(),
                d.source(), split);
        System.out.println("wrote " + json + ", " + pngs.get(0).getFileName() + ", " + pngs.get(1).getFileName());
        return FinSentCli.OK;
    }

    /** The requested split, re-made with the training run's fractions and seed. */
    private List<Example> select(List<Example> all) throws Exception {
        if (split.equals("all")) return all;
        Path specFile = model.resolve(FineTuning.SPEC_FILE);
        if (!Files.isRegularFile(specFile)) {
            throw new IllegalArgumentException("--split " + split + " needs " + specFile + " (written by finsent train) to re-make the split");
        }
        JsonNode s = JSON.readTree(specFile.toFile());
        Splits.Result r = Splits.stratified(all, s.path("train_fraction").asDouble(), s.path("validation_fraction").asDouble(),
                FineTuning.splitSeed(s));
        return switch (split) {
            case "train" -> r.train();
            case "validation" -> r.validation();
            case "test" -> r.test();
            default -> throw new IllegalArgumentException("--split must be all, train, validation or test: " + split);
        };
    }
}
