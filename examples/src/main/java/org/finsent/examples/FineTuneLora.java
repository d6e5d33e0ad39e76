package org.finsent.examples;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.finsent.core.data.Splits;
import org.finsent.peft.LoraConfig;
import org.finsent.peft.Peft;
import org.finsent.peft.PeftModel;
import org.finsent.train.DataSources;
import org.finsent.train.EvalResult;
import org.finsent.train.FineTunedModel;
import org.finsent.train.ModelSources;
import org.finsent.train.Trainer;
import org.finsent.train.TrainingArguments;

/**
 * Fine-tunes all-MiniLM-L6-v2 with LoRA on FinancialPhraseBank and prints the validation and test metrics.
 *
 * <pre>java org.finsent.examples.FineTuneLora [MAX_STEPS] [OUTPUT_DIR]</pre>
 * Without MAX_STEPS it trains three epochs (about two minutes on two cores).
 */
public final class FineTuneLora {
    public static void main(String[] args) throws Exception {
        long maxSteps = args.length > 0 ? Long.parseLong(args[0]) : -1;
        Path out = Path.of(args.length > 1 ? args[1] : "runs/example-lora");

        // 1. Data: FinancialPhraseBank (FINSENT_DATA, a hub download, or the embedded copy), split 80/10/10.
        DataSources.Loaded fpb = DataSources.load("fpb", DataSources.Options.defaults());
        List<String> labels = fpb.labelNames();
        Splits.Result split = Splits.stratified(fpb.dataset().examples(), 0.8, 0.1, 42);

        // 2. Model: the pretrained encoder with a new 3-class head; LoRA r=8 on query, key and value.
        ModelSources.Source base = ModelSources.load(ModelSources.MINILM, labels.size(), 42);
        PeftModel model = Peft.apply(base.model(), LoraConfig.bert(8, 16).withTargets("query", "key", "value"));
        System.out.println(model.trainableParametersReport());

        // 3. Train, evaluate on the held-out test split, save a model directory.
        TrainingArguments training = TrainingArguments.builder(out).numTrainEpochs(3).maxSteps(maxSteps)
                .perDeviceTrainBatchSize(16).learningRate(3e-3).maxSeqLength(64).saveSteps(0).build();
        Trainer trainer = new Trainer(model, base.tokenizer(), training, labels);
        EvalResult validation = trainer.train(split.train(), split.validation()).finalEval();
        EvalResult test = trainer.evaluate(split.test());
        FineTunedModel.of(base, model, labels, 64, Map.of("test_accuracy", test.metrics().accuracy())).save(out);

        System.out.printf("validation accuracy %.4f  macro F1 %.4f%n", validation.metrics().accuracy(), validation.metrics().macroF1());
        System.out.printf("test       accuracy %.4f  macro F1 %.4f%n", test.metrics().accuracy(), test.metrics().macroF1());
        System.out.println(test.metrics().classificationReport(labels.toArray(String[]::new)));
        System.out.println("model directory: " + out.toAbsolutePath());
    }
}
