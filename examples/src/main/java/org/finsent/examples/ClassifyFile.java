package org.finsent.examples;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.finsent.train.FineTunedModel;
import org.finsent.train.Predictor;

/**
 * Loads a saved model directory (base + adapter, as {@code finsent train} or {@link FineTuneLora} writes it) and
 * classifies a file of texts, one per line: label, confidence and every class's probability.
 *
 * <pre>java org.finsent.examples.ClassifyFile MODEL_DIR TEXTS.txt</pre>
 */
public final class ClassifyFile {
    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: ClassifyFile MODEL_DIR TEXTS.txt");
            System.exit(2);
        }
        FineTunedModel model = FineTunedModel.load(Path.of(args[0]));   // re-reads the base model its finsent.json names
        List<String> texts = Files.readAllLines(Path.of(args[1]), StandardCharsets.UTF_8).stream()
                .filter(line -> !line.isBlank()).toList();

        List<Predictor.Prediction> predictions = model.predictor().predict(texts);   // batched, padded per batch
        for (int i = 0; i < texts.size(); i++) {
            Predictor.Prediction p = predictions.get(i);
            System.out.printf("%-8s %.3f  %s%n", p.label(), p.confidence(), texts.get(i));
        }
    }
}
