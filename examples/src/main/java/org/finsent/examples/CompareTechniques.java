package org.finsent.examples;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.finsent.core.data.Example;
import org.finsent.core.data.Splits;
import org.finsent.peft.PeftModel;
import org.finsent.peft.AdapterConfig;
import org.finsent.peft.LoraConfig;
import org.finsent.peft.Peft;
import org.finsent.peft.PeftMethod;
import org.finsent.peft.PrefixTuningConfig;
import org.finsent.train.DataSources;
import org.finsent.train.EvalResult;
import org.finsent.train.ModelSources;
import org.finsent.train.Trainer;
import org.finsent.train.TrainingArguments;

/**
 * Full fine-tuning, LoRA, a Pfeiffer adapter and prefix tuning of all-MiniLM-L6-v2 on the same sample of
 * FinancialPhraseBank: trainable parameters, test accuracy and training time side by side.
 *
 * <pre>java org.finsent.examples.CompareTechniques [SAMPLE_SIZE] [MAX_STEPS] [OUTPUT_DIR]</pre>
 * A sample this small says little about which technique is better (the study, {@code finsent compare}, does that
 * with seeds and confidence intervals); it shows how the techniques plug into the same training loop.
 */
public final class CompareTechniques {
    public static void main(String[] args) throws Exception {
        int sample = args.length > 0 ? Integer.parseInt(args[0]) : 600;
        long maxSteps = args.length > 1 ? Long.parseLong(args[1]) : 60;
        Path out = Path.of(args.length > 2 ? args[2] : "runs/example-compare");

        DataSources.Loaded fpb = DataSources.load("fpb", DataSources.Options.defaults());
        List<String> labels = fpb.labelNames();
        List<Example> all = fpb.dataset().examples();
        Splits.Result split = Splits.stratified(all.subList(0, Math.min(sample, all.size())), 0.8, 0.1, 42);

        List<String> rows = new ArrayList<>();
        for (String technique : List.of("full", "lora", "adapter", "prefix")) {
            ModelSources.Source base = ModelSources.load(ModelSources.MINILM, labels.size(), 42);
            PeftMethod method = switch (technique) {
                case "lora" -> LoraConfig.bert(8, 16).withTargets("query", "key", "value");
                case "adapter" -> AdapterConfig.pfeiffer("pfeiffer");
                case "prefix" -> PrefixTuningConfig.study();
                default -> PeftMethod.Baseline.FULL_FINE_TUNING;
            };
            PeftModel model = Peft.apply(base.model(), method);
            // learning rates for a short run (full fine-tuning moves every weight, so it takes a far smaller one)
            double lr = technique.equals("full") ? 5e-5 : technique.equals("prefix") ? 1e-2 : 3e-3;
            TrainingArguments training = TrainingArguments.builder(out.resolve(technique))
                    .maxSteps(maxSteps).perDeviceTrainBatchSize(16).learningRate(lr).maxSeqLength(64).saveSteps(0).build();
            Trainer trainer = new Trainer(model, base.tokenizer(), training, labels);
            long t0 = System.nanoTime();
            trainer.train(split.train(), split.validation());
            double seconds = (System.nanoTime() - t0) / 1e9;
            EvalResult test = trainer.evaluate(split.test());
            long trainable = model.trainableParameters().stream().mapToLong(p -> p.value().length()).sum();
            rows.add(String.format("%-8s %12d %10.4f %10.1f", technique, trainable, test.metrics().accuracy(), seconds));
        }
        System.out.printf("%-8s %12s %10s %10s%n", "method", "trainable", "test acc", "train s");
        rows.forEach(System.out::println);
    }
}
