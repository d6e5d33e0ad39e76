package com.example.consumer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.finsent.core.data.Example;
import org.finsent.peft.LoraConfig;
import org.finsent.peft.Peft;
import org.finsent.peft.PeftModel;
import org.finsent.train.FineTunedModel;
import org.finsent.train.ModelSources;
import org.finsent.train.Predictor;
import org.finsent.train.Trainer;
import org.finsent.train.TrainingArguments;

/** Fine-tunes MiniLM with LoRA for a few steps, saves the model directory, loads it back and predicts. */
public final class ConsumerMain {
    public static void main(String[] args) throws Exception {
        List<String> labels = List.of("negative", "neutral", "positive");
        List<Example> train = List.of(
                new Example("Operating profit rose to EUR 13.1 mn .", 2, "consumer"),
                new Example("Net sales decreased by 5 % .", 0, "consumer"),
                new Example("The company will hold its annual meeting in March .", 1, "consumer"),
                new Example("Shares fell sharply after a profit warning .", 0, "consumer"),
                new Example("Orders grew strongly in the quarter .", 2, "consumer"),
                new Example("The board consists of five members .", 1, "consumer"));
        Path out = Files.createTempDirectory("finsent-consumer");

        ModelSources.Source base = ModelSources.load(ModelSources.MINILM, labels.size(), 42);
        PeftModel model = Peft.apply(base.model(), LoraConfig.bert(4, 8).withTargets("query", "value"));
        TrainingArguments training = TrainingArguments.builder(out).maxSteps(3).perDeviceTrainBatchSize(3)
                .learningRate(3e-3).maxSeqLength(32).saveSteps(0).build();
        new Trainer(model, base.tokenizer(), training, labels).train(train, null);
        FineTunedModel.of(base, model, labels, 32, Map.of()).save(out);

        List<Predictor.Prediction> predictions = FineTunedModel.load(out).predictor()
                .predict(List.of("Profit rose sharply.", "Sales fell."));
        for (Predictor.Prediction p : predictions) {
            if (!labels.contains(p.label())) throw new IllegalStateException("unexpected label " + p.label());
            System.out.println("consumer prediction: " + p);
        }
        System.out.println("consumer OK: trained, saved to " + out + ", loaded and predicted");
    }
}
