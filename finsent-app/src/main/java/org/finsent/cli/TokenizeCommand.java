package org.finsent.cli;

import org.finsent.tokenizers.Encoding;
import org.finsent.tokenizers.Tokenizer;
import org.finsent.tokenizers.TokenizerLoader;
import org.finsent.tokenizers.TokenizerOptions;
import org.finsent.train.ModelSources;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code finsent tokenize}: shows how GPT-2 BPE and BERT WordPiece split a text (tokens, ids, character spans).
 * GPT-2's files come from {@code --gpt2} (default {@code $FINSENT_SHARED/models/gpt2}, else
 * {@code ../shared/models/gpt2}); BERT's from {@code --bert} (default: the bert-base-uncased vocabulary in the
 * MiniLM {@code tokenizer.json} on the classpath).
 */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = {"Tokenize text with GPT-2 byte-level BPE and BERT WordPiece and print tokens, ids and spans.",
                "With --input: tokenize each line of a file with --tokenizer and write one {\"ids\":[...]} JSON line per "
                        + "input line to --output: special tokens, truncation and padding as the tokenizer files configure "
                        + "them (Hugging Face's Tokenizer.from_file(...).encode(line).ids); --max-length truncates."},
        footer = {"", "Examples:", "  finsent tokenize 'Operating profit rose to EUR 13.1 mn'",
                "  finsent tokenize --tokenizer models/finbert --input sentences.txt --output ids.jsonl",
                "  finsent tokenize --tokenizer models/finbert --input texts.jsonl --output ids.jsonl   (texts.jsonl: {\"text\": ...} per line)"})
public final class TokenizeCommand implements Callable<Integer> {
    static final String DEFAULT_TEXT = "Operating profit rose to EUR 13.1 mn from EUR 8.7 mn — Nokia's outlook: “positive”.";
    static final String MINILM_RESOURCE = "all-minilm-l6-v2-tokenizer.json";

    @Parameters(arity = "0..*", paramLabel = "TEXT", description = "Text to tokenize (default: a FinancialPhraseBank-style sentence).")
    List<String> text = new ArrayList<>();

    @Option(names = "--pair", paramLabel = "TEXT", description = "Second text of a pair (BERT: [CLS] a [SEP] b [SEP]).")
    String pair;

    @Option(names = "--gpt2", paramLabel = "DIR", description = "GPT-2 tokenizer: a directory with vocab.json + merges.txt or tokenizer.json.")
    Path gpt2;

    @Option(names = "--bert", paramLabel = "PATH", description = "BERT tokenizer: a directory (tokenizer.json or vocab.txt) or a tokenizer.json file.")
    Path bert;

    @Option(names = "--max-length", paramLabel = "N", description = "Truncate to N tokens (special tokens included).")
    int maxLength;

    @Option(names = "--tokenizer", paramLabel = "DIR", description = "With --input: tokenizer directory (tokenizer.json, vocab.txt, "
            + "or vocab.json + merges.txt) or tokenizer.json file.")
    Path tokenizer;

    @Option(names = "--input", paramLabel = "FILE", description = "Tokenize every line of FILE ('-' = stdin), or with JSONL "
            + "the \"text\" of each line's object; needs --tokenizer and --output.")
    Path input;

    @Option(names = "--input-format", defaultValue = "auto", paramLabel = "FORMAT", description = "lines (one text per line), "
            + "jsonl (one {\"text\": ...} object per line, so texts may hold line breaks) or auto (jsonl for a .jsonl file). "
            + "Default: ${DEFAULT-VALUE}.")
    String inputFormat;

    @Option(names = "--output", paramLabel = "FILE.jsonl", description = "With --input: where the JSON lines go ('-' = stdout).")
    Path output;

    @Override
    public Integer call() throws IOException {
        if (this.input != null || tokenizer != null || output != null) return tokenizeFile();
        String input = text.isEmpty() ? DEFAULT_TEXT : String.join(" ", text);
        PrintStream out = System.out;
        out.println("text: " + input + (pair == null ? "" : "\npair: " + pair));
        Map<String, Tokenizer> tokenizers = new LinkedHashMap<>();
        Path gpt2Dir = gpt2 != null ? gpt2 : sharedDir().resolve("models/gpt2");
        if (gpt2 != null || Files.isDirectory(gpt2Dir)) {
            tokenizers.put("GPT-2 byte-level BPE (" + gpt2Dir + ")", Tokenizer.load(gpt2Dir));
        } else {
            System.err.println("GPT-2: no tokenizer files at " + gpt2Dir + " (pass --gpt2 DIR with vocab.json + merges.txt,"
                    + " or set FINSENT_SHARED); skipping GPT-2");
        }
        if (bert != null) {
            tokenizers.put("BERT WordPiece (" + bert + ")", Tokenizer.load(bert));
        } else {
            try (InputStream in = TokenizeCommand.class.getClassLoader().getResourceAsStream(MINILM_RESOURCE)) {
                if (in == null) throw new IOException("classpath resource " + MINILM_RESOURCE + " missing; pass --bert");
                tokenizers.put("BERT WordPiece (bert-base-uncased vocabulary, from the MiniLM tokenizer.json)",
                        TokenizerLoader.fromTokenizerJson(in, Path.of(MINILM_RESOURCE)));
            }
        }
        for (var e : tokenizers.entrySet()) {
            TokenizerOptions opts = TokenizerOptions.DEFAULTS;
            if (maxLength > 0) opts = opts.withTruncation(maxLength);
            Tokenizer t = e.getValue().withOptions(opts);
            Encoding enc = t.encode(input, pair);
            out.println();
            out.println(e.getKey() + ": " + enc.length() + " tokens");
            out.printf("  %4s  %-18s %7s  %-5s %s%n", "#", "token", "id", "type", "span in text");
            for (int i = 0; i < enc.length(); i++) {
                String src = enc.sequenceIds()[i] == 1 ? pair : input;
                String span = enc.specialTokensMask()[i] == 1 ? "(added)"
                        : enc.startOffsets()[i] + ".." + enc.endOffsets()[i] + " \""
                        + src.substring(enc.startOffsets()[i], enc.endOffsets()[i]) + "\"";
                out.printf("  %4d  %-18s %7d  %-5d %s%n", i, enc.tokens()[i], enc.ids()[i], enc.typeIds()[i], span);
            }
            out.println("  decoded: " + t.decode(enc.ids(), true));
        }
        return 0;
    }

    /** {@code --input}: one {"ids":[...]} line per input text. */
    private int tokenizeFile() throws IOException {
        if (input == null || tokenizer == null || output == null) {
            throw new IllegalArgumentException("--tokenizer, --input and --output go together");
        }
        if (!text.isEmpty()) throw new IllegalArgumentException("give either TEXT arguments or --input, not both");
        Inputs.refuseOutputOverInput(input, output);
        Inputs.Format format = Inputs.Format.parse(inputFormat);
        Tokenizer t = Tokenizer.load(tokenizer);
        // the file's own truncation/padding apply, as in Hugging Face's Tokenizer.from_file(...).encode(line)
        if (maxLength > 0) t = t.withOptions(t.options().withTruncation(maxLength));
        List<String> lines = Inputs.texts(input, format);
        ObjectMapper json = new ObjectMapper();
        boolean stdout = output.toString().equals("-");
        // stdout is flushed, not closed, at the end
        try (Writer w = stdout ? new OutputStreamWriter(new java.io.FilterOutputStream(System.out) {
            @Override
            public void close() throws IOException {
                flush();
            }
        }, StandardCharsets.UTF_8)
                : Files.newBufferedWriter(output, StandardCharsets.UTF_8)) {
            for (String line : lines) {
                w.write(json.writeValueAsString(Map.of("ids", t.encode(line).ids())));
                w.write('\n');
            }
        }
        if (!stdout) System.err.println("wrote " + lines.size() + " lines to " + output);
        return FinSentCli.OK;
    }

    /** {@code $FINSENT_SHARED}, else {@code shared} beside the repository root (see {@link ModelSources#sharedDir()}). */
    static Path sharedDir() {
        return ModelSources.sharedDir();
    }
}
