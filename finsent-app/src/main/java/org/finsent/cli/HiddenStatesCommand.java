package org.finsent.cli;

import org.finsent.core.io.SafeTensors;
import org.finsent.core.io.StateDict;
import org.finsent.core.io.TensorData;
import org.finsent.core.model.Batch;
import org.finsent.core.model.BertForSequenceClassification;
import org.finsent.core.model.Gpt2ForSequenceClassification;
import org.finsent.core.model.SequenceClassifier;
import org.finsent.tokenizers.Encoding;
import org.finsent.tokenizers.Tokenizer;
import org.finsent.tokenizers.TokenizerOptions;
import org.finsent.train.ModelSources;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code finsent hidden-states}: the encoder's (decoder's) last hidden states for each input line, to compare the
 * forward pass with another runtime (PyTorch's {@code model(**enc).last_hidden_state}).
 */
@Command(name = "hidden-states", mixinStandardHelpOptions = true,
        description = {"Write the last hidden states of a model for each line of a file as safetensors: tensor \"<i>\" "
                + "(0-based index of the input text: its line, or its JSONL object) is [T, H] float32, T the line's token count (special tokens included, no padding).",
                "BERT: the encoder output before the pooler; GPT-2: after the final layer norm (ln_f)."},
        footer = {"", "Example:", "  finsent hidden-states --model all-MiniLM-L6-v2 --input sentences.txt --output hidden.safetensors"})
public final class HiddenStatesCommand implements Callable<Integer> {

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "SPEC",
            description = "all-MiniLM-L6-v2, bert-base-uncased, random:gpt2-tiny[:DIR], a Hugging Face directory, hf:ORG/NAME.")
    String model;

    @Option(names = {"-i", "--input"}, required = true, paramLabel = "FILE", description = "UTF-8 text, one input per line ('-' = stdin), "
            + "or JSONL: one {\"text\": ...} object per line.")
    Path input;

    @Option(names = "--input-format", defaultValue = "auto", paramLabel = "FORMAT", description = "lines, jsonl (texts may hold line "
            + "breaks) or auto (jsonl for a .jsonl file). Default: ${DEFAULT-VALUE}.")
    String inputFormat;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "FILE", description = "The .safetensors file to write.")
    Path output;

    @Option(names = "--max-length", paramLabel = "N", description = "Truncate each line to N tokens. Default: the model's positions, at most 512.")
    Integer maxLength;

    @Override
    public Integer call() throws Exception {
        Inputs.refuseOutputOverInput(input, output);
        List<String> lines = Inputs.texts(input, Inputs.Format.parse(inputFormat));
        if (lines.isEmpty()) throw new IllegalArgumentException(input + " has no texts");
        // the classification head is never read here: its absence or size is not worth a warning
        ModelSources.Source src = ModelSources.loadBase(model, 2, 0);
        SequenceClassifier m = src.model();
        m.train(false);
        int limit = org.finsent.train.Trainer.maxInputTokens(m);
        if (maxLength == null) maxLength = Math.min(512, limit);
        if (maxLength < 1 || maxLength > limit) {
            throw new IllegalArgumentException("--max-length must be in [1, " + limit + "] for " + model + " (its positions): " + maxLength);
        }
        // every last-layer row, not just the ones the classifier's head reads ([CLS] / the last token)
        if (m instanceof BertForSequenceClassification b) b.bert.poolerRowsOnly(false);
        if (m instanceof Gpt2ForSequenceClassification g) g.transformer.lastTokenOnly(false);
        Tokenizer tok = src.tokenizer().withOptions(src.tokenizer().options().withTruncation(maxLength)
                .withPadding(TokenizerOptions.Padding.NONE));
        StateDict out = new StateDict();
        for (int i = 0; i < lines.size(); i++) {
            Encoding e = tok.encode(lines.get(i));
            if (e.length() == 0) throw new IllegalArgumentException(input + ": text " + (i + 1) + " has no tokens (empty line?)");
            Batch batch = Batch.of(List.of(e));
            INDArray h; // [B·T, H] with B = 1
            if (m instanceof BertForSequenceClassification b) h = b.bert.forward(batch);
            else if (m instanceof Gpt2ForSequenceClassification g) h = g.transformer.forward(batch);
            else throw new IllegalStateException("unsupported model " + m.getClass().getSimpleName());
            long t = e.length(), hidden = m.hiddenSize();
            float[] values = h.reshape(t, hidden).castTo(DataType.FLOAT).dup('c').data().asFloat();
            out.put(TensorData.of(String.valueOf(i), values, t, hidden));
        }
        SafeTensors.write(output, out, Map.of("format", "pt", "model", model, "max_length", String.valueOf(maxLength)));
        System.out.println("wrote " + lines.size() + " tensors [T, " + m.hiddenSize() + "] to " + output);
        return FinSentCli.OK;
    }
}
