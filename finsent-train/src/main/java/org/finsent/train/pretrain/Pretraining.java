package org.finsent.train.pretrain;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.finsent.train.TrainingArguments;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One pretraining run from a model spec to a model directory: load ({@link LanguageModel#load}), train
 * ({@link Pretrainer}), save as {@code BertForMaskedLM} / {@code GPT2LMHeadModel} with the tokenizer files and a
 * {@link PretrainingRecord} of how it was made.
 */
public final class Pretraining {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Pretraining() {
    }

    /**
     * @param mlmProbability masked-LM selection probability (BERT; ignored for GPT-2)
     * @param wholeWord      whole-word masking (BERT)
     */
    public static Pretrainer.Result run(String spec, List<String> texts, TrainingArguments args, double mlmProbability,
                                        boolean wholeWord) throws IOException {
        return run(spec, texts, args, mlmProbability, wholeWord, null);
    }

    /**
     * As {@link #run(String, List, TrainingArguments, double, boolean)}; with {@code lora} (null: full weights) only
     * LoRA factors train, and they are merged into the base weights before saving, so the directory holds a plain
     * {@code BertForMaskedLM} / {@code GPT2LMHeadModel}.
     */
    public static Pretrainer.Result run(String spec, List<String> texts, TrainingArguments args, double mlmProbability,
                                        boolean wholeWord, org.finsent.peft.LoraConfig lora) throws IOException {
        return run(spec, texts, args, mlmProbability, wholeWord, lora, List.of());
    }

    /**
     * As {@link #run(String, List, TrainingArguments, double, boolean, org.finsent.peft.LoraConfig)}, naming where the
     * texts came from ({@code sources}, in words) in the directory's {@link PretrainingRecord}.
     */
    public static Pretrainer.Result run(String spec, List<String> texts, TrainingArguments args, double mlmProbability,
                                        boolean wholeWord, org.finsent.peft.LoraConfig lora, List<String> sources) throws IOException {
        LanguageModel.Loaded l = LanguageModel.load(spec, args.seed());
        MlmMasking masking = l.model() instanceof LanguageModel.Masked ? MlmMasking.forTokenizer(l.tokenizer(), mlmProbability, wholeWord) : null;
        List<org.finsent.peft.LoraLinear> loras = lora == null ? List.of() : LanguageModel.applyLora(l.model(), lora);
        Pretrainer.Result r = new Pretrainer(l.model(), l.tokenizer(), args, masking).train(texts);
        for (var m : loras) m.merge();
        l.model().save(args.outputDir());
        LanguageModel.copyTokenizerFiles(l.tokenizerFiles(), args.outputDir());
        PretrainingRecord.of(spec, lora == null ? "full" : "lora", sources, texts, args, masking, r).write(args.outputDir(), texts);
        return r;
    }

    /**
     * Texts of a file: one per line (blank lines skipped), or for {@code .jsonl} the {@code "text"} field of each
     * line's object.
     */
    public static List<String> readTexts(Path file) throws IOException {
        List<String> out = new ArrayList<>();
        boolean jsonl = file.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".jsonl");
        int n = 0;
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            n++;
            if (line.isBlank()) continue;
            if (!jsonl) {
                out.add(line.strip());
                continue;
            }
            JsonNode j;
            try {
                j = JSON.readTree(line);
            } catch (IOException e) {
                throw new IOException(file + ": line " + n + " is not JSON");
            }
            JsonNode t = j.get("text");
            if (t == null || !t.isTextual()) throw new IOException(file + ": line " + n + " has no string field \"text\"");
            if (!t.asText().isBlank()) out.add(t.asText());
        }
        return out;
    }
}
