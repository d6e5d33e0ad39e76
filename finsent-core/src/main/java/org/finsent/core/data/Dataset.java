package org.finsent.core.data;

import java.util.List;
import java.util.Objects;

/**
 * What a reader produced: the examples plus an account of what it dropped. The account is part of the result,
 * not a log line, so that an experiment can record (and a test can assert) how many rows a
 * {@link BadRowPolicy#SKIP} run lost.
 *
 * @param examples       the examples in file order (unmodifiable)
 * @param skipped        how many rows were dropped under {@link BadRowPolicy#SKIP}
 * @param skippedReasons {@code file:line: problem} for the first {@value #MAX_REASONS} dropped rows
 */
public record Dataset(List<Example> examples, int skipped, List<String> skippedReasons) {

    /** How many skip reasons are kept; enough to diagnose a systematic problem without keeping a copy of a bad file. */
    public static final int MAX_REASONS = 20;

    public Dataset {
        examples = List.copyOf(Objects.requireNonNull(examples, "examples"));
        skippedReasons = List.copyOf(Objects.requireNonNull(skippedReasons, "skippedReasons"));
        if (skipped < skippedReasons.size()) throw new IllegalArgumentException("skipped < number of reasons");
    }

    public int size() {
        return examples.size();
    }

    /** Examples per class id, indices 0..numClasses-1; rejects labels outside that range. */
    public int[] labelCounts(int numClasses) {
        int[] counts = new int[numClasses];
        for (Example e : examples) {
            if (e.label() >= numClasses) {
                throw new IllegalArgumentException("label " + e.label() + " of " + e.source() + " >= numClasses " + numClasses);
            }
            counts[e.label()]++;
        }
        return counts;
    }
}
