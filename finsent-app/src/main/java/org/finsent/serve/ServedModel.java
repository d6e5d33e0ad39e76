package org.finsent.serve;

import org.finsent.tokenizers.Tokenizer;
import org.finsent.tokenizers.TokenizerOptions;
import org.finsent.train.Predictor;
import org.finsent.train.Predictor.Prediction;

import java.util.List;
import java.util.Objects;
import java.util.function.Function;

/**
 * A model as the service needs it: a batched predict function, the tokenizer (to tell whether an input will be
 * truncated) and its {@link ModelInfo}.
 *
 * @param predict   texts to predictions, in order (usually {@link Predictor#predict(List)}); called from one
 *                  thread at a time by the {@link MicroBatcher}
 * @param tokenizer the tokenizer the predictor uses (its truncation options are ignored here)
 */
public record ServedModel(Function<List<String>, List<Prediction>> predict, Tokenizer tokenizer, ModelInfo info) {
    public ServedModel {
        Objects.requireNonNull(predict, "predict");
        Objects.requireNonNull(info, "info");
        tokenizer = tokenizer.withOptions(tokenizer.options().withPadding(TokenizerOptions.Padding.NONE)
                .withTruncation(0, TokenizerOptions.Truncation.NONE));
    }

    /** A model served by a {@link Predictor}. */
    public static ServedModel of(Predictor predictor, Tokenizer tokenizer, ModelInfo info) {
        return new ServedModel(predictor::predict, tokenizer, info);
    }

    /**
     * The text's length in tokens, special tokens included, before truncation: the input is truncated when this
     * exceeds {@link ModelInfo#maxSeqLength()}.
     */
    public int tokenCount(String text) {
        return tokenizer.encode(text).length();
    }
}
