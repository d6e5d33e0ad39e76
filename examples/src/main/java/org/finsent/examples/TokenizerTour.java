package org.finsent.examples;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.finsent.tokenizers.Encoding;
import org.finsent.tokenizers.Tokenizer;
import org.finsent.tokenizers.TokenizerOptions;

/**
 * The tokenizers on their own (finsent-tokenizers has no ND4J): load from a Hugging Face directory, encode with
 * offsets, pad a batch, decode.
 *
 * <pre>java org.finsent.examples.TokenizerTour TOKENIZER_DIR [TOKENIZER_DIR ...]</pre>
 * A directory holds {@code tokenizer.json}, or {@code vocab.txt} (BERT WordPiece), or {@code vocab.json} +
 * {@code merges.txt} (GPT-2 byte-level BPE).
 */
public final class TokenizerTour {
    public static void main(String[] args) throws Exception {
        if (args.length == 0) {
            System.err.println("usage: TokenizerTour TOKENIZER_DIR [TOKENIZER_DIR ...]");
            System.exit(2);
        }
        String text = "Operating profit rose to EUR 13.1 mn from EUR 8.7 mn .";
        for (String dir : args) {
            // a tokenizer.json's own padding/truncation sections become its options; start from none here
            Tokenizer tokenizer = Tokenizer.load(Path.of(dir)).withOptions(TokenizerOptions.DEFAULTS);
            Encoding e = tokenizer.encode(text);
            System.out.println(dir + ": " + e.ids().length + " ids " + Arrays.toString(e.ids()));
            for (int i = 0; i < e.ids().length; i++) {
                // offsets are UTF-16 indices into the input String; special tokens have an empty span
                System.out.printf("  %6d  %-12s '%s'%n", e.ids()[i], e.tokens()[i],
                        text.substring(e.startOffsets()[i], e.endOffsets()[i]));
            }
            System.out.println("  decoded: " + tokenizer.decode(e.ids(), true));

            // a padded batch (GPT-2 has no pad token: pad with <|endoftext|>, on the left for classification)
            int padId = tokenizer.padId() >= 0 ? tokenizer.padId() : tokenizer.specialTokens().getOrDefault("<|endoftext|>", 0);
            Tokenizer padded = tokenizer.withOptions(TokenizerOptions.DEFAULTS.withPadding(TokenizerOptions.Padding.LONGEST)
                    .withPadId(padId).withTruncation(16));
            for (Encoding b : padded.encodeBatch(List.of("Shares fell.", "Net sales increased by 5 % in the quarter ."))) {
                System.out.println("  batch row: " + Arrays.toString(b.ids()) + " mask " + Arrays.toString(b.attentionMask()));
            }
        }
    }
}
