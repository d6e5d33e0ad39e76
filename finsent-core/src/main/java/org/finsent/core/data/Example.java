package org.finsent.core.data;

import java.util.Objects;

/**
 * One labelled text. {@code source} (for example {@code Sentences_50Agree.txt:17}) travels with the example so
 * that a misclassified or suspicious example can be traced back to the exact line of the original file, which
 * matters for a data set whose labels are annotator majorities.
 *
 * @param text   the text exactly as in the file (no trimming; preprocessing is a separate, explicit step)
 * @param label  the class id (for the sentiment readers a {@link Sentiment#id()})
 * @param source where the example came from, {@code file:line}
 */
public record Example(String text, int label, String source) {
    public Example {
        Objects.requireNonNull(text, "text");
        Objects.requireNonNull(source, "source");
        if (label < 0) throw new IllegalArgumentException("negative label " + label + " for " + source);
    }

    /** This example with another text; used by preprocessing, which must not lose the label or the source. */
    public Example withText(String newText) {
        return new Example(newText, label, source);
    }
}
