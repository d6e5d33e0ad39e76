package org.finsent.examples;

import java.nio.file.Path;
import java.util.List;
import org.finsent.core.data.Splits;
import org.finsent.peft.Peft;
import org.finsent.peft.PeftModel;
import org.finsent.peft.PrefixTuningConfig;
import org.finsent.train.DataSources;
import org.finsent.train.EvalResult;
import org.finsent.train.ModelSources;
import org.finsent.train.Predictor;
import org.finsent.train.Trainer;
import org.finsent.train.TrainingArguments;

/**
 * Prefix tuning of a GPT-2 sequence classifier on FinancialPhraseBank: 10 virtual key/value tokens per layer through
 * a projection MLP, the GPT-2 weights frozen.
 *
 * <pre>java org.finsent.examples.Gpt2PrefixTuning MODEL [MAX_STEPS] [OUTPUT_DIR]</pre>
 * MODEL is a Hugging Face GPT-2 directory ({@code config.json}, {@code model.safetensors}, {@code vocab.json},
 * {@code merges.txt}), {@code hf:openai-community/gpt2}, or {@code random:gpt2-tiny:VOCAB_DIR}: a randomly
 * initialised 2-layer GPT-2 with the real vocabulary, which runs the whole path but learns nothing about GPT-2.
 */
public final class Gpt2PrefixTuning {
    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: Gpt2PrefixTuning MODEL [MAX_STEPS] [OUTPUT_DIR]   (MODEL: a GPT-2 directory, hf:openai-community/gpt2, "
                    + "or random:gpt2-tiny:VOCAB_DIR)");
            System.exit(2);
        }
        long maxSteps = args.length > 1 ? Long.parseLong(args[1]) : 200;
        Path out = Path.of(args.length > 2 ? args[2] : "runs/example-gpt2-prefix");

        DataSources.Loaded fpb = DataSources.load("fpb", DataSources.Options.defaults());
        List<String> labels = fpb.labelNames();
        Splits.Result split = Splits.stratified(fpb.dataset().examples(), 0.8, 0.1, 42);

        ModelSources.Source base = ModelSources.load(args[0], labels.size(), 42);
        PeftModel model = Peft.apply(base.model(), PrefixTuningConfig.study());
        System.out.println(model.trainableParametersReport());

        TrainingArguments training = TrainingArguments.builder(out).maxSteps(maxSteps)
                .perDeviceTrainBatchSize(16).learningRate(1e-2).maxSeqLength(64).saveSteps(0).build();
        Trainer trainer = new Trainer(model, base.tokenizer(), training, labels);
        trainer.train(split.train(), split.validation());
        EvalResult test = trainer.evaluate(split.test());
        System.out.printf("test accuracy %.4f  macro F1 %.4f%n", test.metrics().accuracy(), test.metrics().macroF1());

        // GPT-2 classifies from the last real token; left or right padding gives the same answer.
        Predictor predictor = Predictor.of(model, trainer);
        for (String text : List.of("Operating profit rose to EUR 13.1 mn.", "The company cut its forecast.")) {
            System.out.println(predictor.predict(text) + "  " + text);
        }
    }
}
