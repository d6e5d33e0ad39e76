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

    void add(String text, int label, long line) {
        examples.add(new Example(text, label, source(line)));
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
