package org.finsent.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.finsent.train.FineTunedModel;
import org.finsent.train.Predictor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code finsent predict}: the study's {@code predict_sentiment} on a fine-tuned model directory. */
@Command(name = "predict", mixinStandardHelpOptions = true,
        description = {"Predict the sentiment of texts with a fine-tuned model directory (from finsent train).",
                "Texts come from the arguments, from --file (one per line), or from standard input (one per line)."},
        footer = {"", "Example:", "  finsent predict --model runs/minilm-lora \"Operating profit rose to EUR 13.1 mn .\"",
                "  cat news.txt | finsent predict --model runs/minilm-lora --json"})
public final class PredictCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "DIR", description = "Fine-tuned model directory.")
    Path model;

    @Parameters(arity = "0..*", paramLabel = "TEXT", description = "Texts to classify.")
    List<String> texts = new ArrayList<>();

    @Option(names = {"-f", "--file"}, paramLabel = "FILE", description = "Read texts from FILE, one per line ('-' = stdin).")
    Path file;

    @Option(names = "--json", description = "One JSON object per line: text, label, confidence, probabilities.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        List<String> in = new ArrayList<>(texts);
        if (file != null) in.addAll(Inputs.lines(file));
        if (texts.isEmpty() && file == null) in.addAll(Inputs.lines(Path.of("-")));
        in.removeIf(String::isBlank);
        if (in.isEmpty()) throw new IllegalArgumentException("no texts: pass them as arguments, with --file, or on standard input");
        FineTunedModel m = ServeCommand.loadChecked(model);
        List<Predictor.Prediction> ps = m.predictor().predict(in);
        PrintStream out = System.out;
        for (int i = 0; i < ps.size(); i++) {
            if (json) out.println(JSON.writeValueAsString(toMap(in.get(i), ps.get(i), m.labels())));
            else printPlain(out, in.get(i), ps.get(i), m.labels());
        }
        return FinSentCli.OK;
    }

    static Map<String, Object> toMap(String text, Predictor.Prediction p, List<String> labels) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("text", text);
        o.put("label", p.label());
        o.put("confidence", p.confidence());
        Map<String, Double> probs = new LinkedHashMap<>();
        for (int k = 0; k < labels.size(); k++) probs.put(labels.get(k), p.probabilities()[k]);
        o.put("probabilities", probs);
        return o;
    }

    static void printPlain(PrintStream out, String text, Predictor.Prediction p, List<String> labels) {
        StringBuilder probs = new StringBuilder();
        for (int k = 0; k < labels.size(); k++) {
            probs.append(k == 0 ? "" : " ").append(String.format(Locale.ROOT, "%s=%.3f", labels.get(k), p.probabilities()[k]));
        }
        out.printf(Locale.ROOT, "%-9s %.3f  [%s]  %s%n", p.label(), p.confidence(), probs, text);
    }
}
