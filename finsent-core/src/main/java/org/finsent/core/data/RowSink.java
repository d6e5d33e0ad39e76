package org.finsent.core.data;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** Collects the examples of one file and applies the {@link BadRowPolicy} in one place for every reader. */
final class RowSink {
    private final String file;
    private final BadRowPolicy policy;
    private final List<Example> examples = new ArrayList<>();
    private final List<String> reasons = new ArrayList<>();
    private int skipped;

    RowSink(String file, BadRowPolicy policy) {
        this.file = Objects.requireNonNull(file, "file");
        this.policy = Objects.requireNonNull(policy, "policy");
    }

    String source(long line) {
        return DatasetException.location(file, line);
    }

    /**
     * Longest text an example may have. Sentiment inputs are sentences and posts; a text of a million characters is
     * a broken file (a quote never closed, a binary file), and tokenizing it would cost far more than its bytes.
     */
    static final int MAX_TEXT_CHARS = 1_000_000;

    /** Largest data file read (files are read whole; labelled sentiment sets are megabytes). */
    static final long MAX_FILE_BYTES = 1L << 30;

    /** An example, unless its text is longer than {@link #MAX_TEXT_CHARS} (then a bad row). */
    void add(String text, int label, long line) throws DatasetException {
        if (text.length() > MAX_TEXT_CHARS) {
            bad(line, "text of " + text.length() + " characters is longer than " + MAX_TEXT_CHARS
                    + " (a quote or line break missing?)");
            return;
        }
        examples.add(new Example(text, label, source(line)));
    }

    /** The bytes of a data file, refused (naming it) when it is larger than {@link #MAX_FILE_BYTES}. */
    static byte[] readFile(java.nio.file.Path file) throws java.io.IOException {
        long size = java.nio.file.Files.size(file);
        if (size > MAX_FILE_BYTES) throw tooLarge(file.toString(), size);
        return java.nio.file.Files.readAllBytes(file);
    }

    /** The bytes of a stream, refused (naming it) past {@link #MAX_FILE_BYTES}. */
    static byte[] readStream(java.io.InputStream in, String name) throws java.io.IOException {
        byte[] b = in.readNBytes((int) MAX_FILE_BYTES + 1);
        if (b.length > MAX_FILE_BYTES) throw tooLarge(name, b.length);
        return b;
    }

    private static DatasetException tooLarge(String file, long size) {
        return new DatasetException(file, 0, "file of " + size + " bytes is larger than the " + MAX_FILE_BYTES
                + " bytes a data file may have (split it)");
    }

    /** A bad row: throws under FAIL, counts it under SKIP. */
    void bad(long line, String problem) throws DatasetException {
        if (policy == BadRowPolicy.FAIL) throw new DatasetException(file, line, problem);
        skipped++;
        if (reasons.size() < Dataset.MAX_REASONS) reasons.add(source(line) + ": " + problem);
    }

    Dataset finish() {
        return new Dataset(examples, skipped, reasons);
    }
}
