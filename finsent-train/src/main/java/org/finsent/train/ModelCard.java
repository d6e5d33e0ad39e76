package org.finsent.train;

import org.finsent.core.io.AtomicFiles;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The {@code README.md} of a saved model directory, in Hugging Face's model card format: YAML front matter
 * ({@code base_model}, {@code library_name: finsent}, {@code pipeline_tag}, {@code tags}, {@code datasets},
 * {@code metrics}), then the evaluation table, the training arguments, and how to load the directory with Python
 * (Transformers, PEFT) and with FinSent.
 */
public final class ModelCard {
    public static final String FILE = "README.md";
    private static final Pattern PLAIN = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._/+-]*");

    private ModelCard() {
    }

    /**
     * What the card says about training, when known (null fields: not recorded).
     *
     * @param data              the data spec ({@code fpb}, {@code tweets}, {@code hf:...}, {@code csv:PATH}, ...)
     * @param dataSource        where the data were read from (a path, or the embedded copy)
     * @param trainingArguments Hugging Face {@code TrainingArguments} names and values
     */
    public record Training(String data, String dataSource, Map<String, Object> trainingArguments) {
        public Training {
            trainingArguments = trainingArguments == null ? Map.of() : new LinkedHashMap<>(trainingArguments);
        }
    }

    /** Writes {@code dir/README.md}. */
    public static void write(Path dir, FineTunedModel.Info info, Training training) throws IOException {
        String md = markdown(info, training);
        AtomicFiles.write(dir.resolve(FILE), tmp -> Files.writeString(tmp, md, StandardCharsets.UTF_8));
    }

    /** The card's text. */
    public static String markdown(FineTunedModel.Info info, Training training) {
        List<String> techniques = info.techniques();
        boolean full = techniques.contains("full") || techniques.contains("head");
        String base = FineTunedModel.pythonName(info.baseModel());
        StringBuilder y = new StringBuilder("---\n");
        y.append("base_model: ").append(yaml(base)).append('\n');
        y.append("library_name: finsent\n");
        y.append("pipeline_tag: text-classification\n");
        List<String> tags = new ArrayList<>(List.of("finsent", "text-classification", "financial-sentiment", info.architecture()));
        if (!full) tags.add("peft");
        for (String t : techniques) tags.add(t.equals("adapter") ? "pfeiffer-adapter" : t.equals("head") ? "head-only" : t);
        list(y, "tags", tags);
        String dataset = training == null ? null : hubDataset(training.data());
        if (dataset != null) list(y, "datasets", List.of(dataset));
        list(y, "metrics", List.of("accuracy", "f1"));
        y.append("---\n\n");

        StringBuilder md = y;
        md.append("# ").append(String.join(" + ", techniques)).append(" fine-tune of ").append(base)
                .append(" for sentiment classification\n\n");
        md.append("Written by [FinSent](https://github.com/finsent/finsent) ").append(info.finsentVersion()).append(": a ")
                .append(info.architecture().equals("gpt2") ? "GPT-2" : "BERT").append(" sequence classifier with ")
                .append(info.labels().size()).append(" labels (").append(String.join(", ", info.labels())).append("), ")
                .append(full ? (techniques.contains("head") ? "only the classification head trained" : "every weight fine-tuned")
                        : "trained with " + String.join(" and ", techniques) + " (parameter-efficient fine-tuning)")
                .append("; ").append(String.format(Locale.ROOT, "%,d", info.trainableParameters())).append(" of ")
                .append(String.format(Locale.ROOT, "%,d", info.totalParameters())).append(" parameters trained. Inputs are "
                        + "truncated to ").append(info.maxSeqLength()).append(" tokens.\n\n");
        if (info.baseModel().startsWith(ModelSources.RANDOM_GPT2)) {
            md.append("**The base model is FinSent's randomly initialised test GPT-2 (`").append(info.baseModel())
                    .append("`): it has no pretrained knowledge and no counterpart on the Hugging Face hub.**\n\n");
        }

        md.append("## Evaluation\n\n");
        if (training != null && training.data() != null) {
            md.append("Data: `").append(training.data()).append('`');
            if (training.dataSource() != null) md.append(" (read from `").append(training.dataSource()).append("`)");
            if (training.dataSource() != null && training.dataSource().startsWith("classpath:")) {
                md.append(", FinSent's embedded copy");
                if (training.dataSource().contains("Sentences_50Agree.dev")) {
                    md.append(": the development part of FinancialPhraseBank (3,875 of 4,846 sentences, a subset)");
                }
            }
            md.append(".\n\n");
        }
        md.append(evaluationTable(info.metrics()));

        md.append("\n## Training arguments\n\n");
        if (training == null || training.trainingArguments().isEmpty()) {
            md.append("Not recorded (the directory was saved through the library API).\n");
        } else {
            md.append("| argument | value |\n|---|---|\n");
            for (var e : training.trainingArguments().entrySet()) {
                md.append("| ").append(e.getKey()).append(" | ").append(e.getValue() == null ? "" : String.valueOf(e.getValue())
                        .replace("|", "\\|")).append(" |\n");
            }
        }

        md.append("\n## How to load it\n\n### Python\n\n");
        md.append(pythonSection(info, base, full));
        md.append("\n### FinSent\n\n```java\nFineTunedModel model = FineTunedModel.load(Path.of(\"DIR\"));\n"
                + "List<Predictor.Prediction> p = model.predictor().predict(List.of(\"Operating profit rose to EUR 13.1 mn.\"));\n```\n\n"
                + "```bash\nfinsent predict --model DIR \"Operating profit rose to EUR 13.1 mn.\"\n```\n\n");
        md.append("DIR is this directory. Its files: docs/OUTPUTS.md in the FinSent repository.\n");
        return md.toString();
    }

    private static String pythonSection(FineTunedModel.Info info, String base, boolean full) {
        int n = info.labels().size();
        StringBuilder labels = new StringBuilder("id2label = {");
        for (int i = 0; i < n; i++) labels.append(i == 0 ? "" : ", ").append(i).append(": \"").append(info.labels().get(i)).append('"');
        labels.append("}\nlabel2id = {v: k for k, v in id2label.items()}\n");
        String head = "from transformers import AutoModelForSequenceClassification, AutoTokenizer\n";
        if (full) {
            return "```python\n" + head + "model = AutoModelForSequenceClassification.from_pretrained(\"DIR\")\n"
                    + "tokenizer = AutoTokenizer.from_pretrained(\"DIR\")\n```\n";
        }
        StringBuilder s = new StringBuilder();
        List<String> t = info.techniques();
        boolean several = t.size() > 1;
        if (info.baseModel().startsWith(ModelSources.RANDOM_GPT2)) {
            s.append("Python cannot rebuild this base model (it is FinSent's seeded random GPT-2); load the directory with "
                    + "FinSent.\n");
            return s.toString();
        }
        if (several) {
            s.append("This model combines ").append(String.join(" and ", t)).append(", one sub-directory per method. Python "
                    + "PEFT loads one method per directory, so it cannot rebuild the combination as FinSent runs it; each "
                    + "PEFT sub-directory loads on its own as shown below (with DIR/<method>).\n\n");
        }
        List<String> peftMethods = t.stream().filter(m -> !m.equals("adapter")).toList();
        if (!peftMethods.isEmpty()) {
            s.append("With [PEFT](https://github.com/huggingface/peft) (").append(String.join(", ", peftMethods)).append("):\n\n```python\n")
                    .append(head).append("from peft import PeftModel\n\n").append(labels)
                    .append("base = AutoModelForSequenceClassification.from_pretrained(\"").append(base).append("\", num_labels=")
                    .append(n).append(", id2label=id2label, label2id=label2id)\n")
                    .append("model = PeftModel.from_pretrained(base, \"DIR").append(several ? "/" + peftMethods.get(0) : "").append("\")\n")
                    .append("tokenizer = AutoTokenizer.from_pretrained(\"DIR\")\n```\n");
            if (info.architecture().equals("gpt2")) {
                s.append("\nGPT-2 has no padding token: set `base.config.pad_token_id = tokenizer.eos_token_id` "
                        + "(`tokenizer.pad_token = tokenizer.eos_token`) before batching.\n");
            }
        }
        if (t.contains("adapter")) {
            s.append(peftMethods.isEmpty() ? "" : "\n").append("The Pfeiffer bottleneck adapter is not a PEFT method: it is saved "
                    + "in the layout of the [`adapters`](https://github.com/adapter-hub/adapters) library "
                    + "(`adapter_config.json`, `adapter.safetensors`), which loads it into the base model; the classification head "
                    + "is a plain Transformers head in `model_head.safetensors`:\n\n```python\nimport adapters\n"
                    + "from safetensors.torch import load_file\n").append(head).append('\n').append(labels)
                    .append("model = AutoModelForSequenceClassification.from_pretrained(\"").append(base).append("\", num_labels=")
                    .append(n).append(", id2label=id2label, label2id=label2id)\nadapters.init(model)\n")
                    .append("name = model.load_adapter(\"DIR").append(several ? "/adapter" : "").append("\", set_active=True)\n")
                    .append("model.load_state_dict(load_file(\"DIR").append(several ? "/adapter" : "")
                    .append("/model_head.safetensors\"), strict=False)\n```\n\nFinSent's tests check these files against "
                            + "golden tensors, not against a run of the `adapters` library.\n");
        }
        return s.toString();
    }

    private static String evaluationTable(Map<String, Object> m) {
        String[][] cols = {{"accuracy", "accuracy"}, {"F1 (weighted)", "f1_weighted"}, {"F1 (macro)", "f1_macro"},
                {"precision (weighted)", "precision_weighted"}, {"recall (weighted)", "recall_weighted"}, {"loss", "loss"},
                {"examples", "samples"}};
        List<String[]> present = new ArrayList<>();
        for (String[] c : cols) if (m.containsKey("eval_" + c[1]) || m.containsKey("test_" + c[1])) present.add(c);
        if (present.isEmpty()) return "No evaluation recorded.\n";
        StringBuilder s = new StringBuilder("| split |");
        for (String[] c : present) s.append(' ').append(c[0]).append(" |");
        s.append("\n|---|").append("---:|".repeat(present.size())).append('\n');
        for (String[] split : new String[][]{{"validation", "eval_"}, {"test", "test_"}}) {
            boolean any = present.stream().anyMatch(c -> m.containsKey(split[1] + c[1]));
            if (!any) continue;
            s.append("| ").append(split[0]).append(" |");
            for (String[] c : present) s.append(' ').append(format(m.get(split[1] + c[1]))).append(" |");
            s.append('\n');
        }
        return s.toString();
    }

    private static String format(Object v) {
        if (v == null) return "";
        if (v instanceof Double || v instanceof Float) return String.format(Locale.ROOT, "%.4f", ((Number) v).doubleValue());
        return String.valueOf(v);
    }

    /** The hub id of a data spec's data set, when it has one. */
    static String hubDataset(String spec) {
        if (spec == null) return null;
        String s = spec.strip();
        if (s.equals("fpb") || s.startsWith("fpb:")) return DataSources.FPB_HUB;
        if (s.equals("tweets") || s.startsWith("tweets:")) return DataSources.TWEETS_HUB;
        if (s.startsWith("hf:")) {
            String id = s.substring(3);
            return id.contains("@") ? id.substring(0, id.indexOf('@')) : id;
        }
        return null;
    }

    private static void list(StringBuilder y, String key, List<String> values) {
        y.append(key).append(":\n");
        for (String v : values) y.append("- ").append(yaml(v)).append('\n');
    }

    /** A YAML scalar: plain when safe, else double-quoted with escapes. */
    static String yaml(String v) {
        if (PLAIN.matcher(v).matches() && !List.of("true", "false", "null", "yes", "no", "on", "off").contains(v.toLowerCase(Locale.ROOT))) {
            return v;
        }
        return '"' + v.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }
}
