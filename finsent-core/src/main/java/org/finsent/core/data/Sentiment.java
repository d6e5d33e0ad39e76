package org.finsent.core.data;

import java.util.Locale;
import java.util.Optional;

/**
 * The three sentiment classes with the study's fixed ids. The ids are part of every saved classifier head and
 * every metrics table, so they are fixed here once instead of being derived from whatever order a data file
 * happens to list its labels in.
 */
public enum Sentiment {
    NEGATIVE(0, "negative"),
    NEUTRAL(1, "neutral"),
    POSITIVE(2, "positive");

    /** Number of classes; the size of a classifier head for this task. */
    public static final int COUNT = 3;

    private static final Sentiment[] BY_ID = {NEGATIVE, NEUTRAL, POSITIVE};

    private final int id;
    private final String label;

    Sentiment(int id, String label) {
        this.id = id;
        this.label = label;
    }

    /** The class id used as the training target and as the row/column index of confusion matrices. */
    public int id() {
        return id;
    }

    /** The lower-case name as written in FinancialPhraseBank files ({@code negative}, ...). */
    public String label() {
        return label;
    }

    /** @throws IllegalArgumentException when {@code id} is not 0, 1 or 2 */
    public static Sentiment fromId(int id) {
        if (id < 0 || id >= BY_ID.length) throw new IllegalArgumentException("no sentiment with id " + id + " (expected 0..2)");
        return BY_ID[id];
    }

    /**
     * The class named {@code name}, compared exactly after trimming. Exact (case-sensitive) on purpose: the
     * FinancialPhraseBank files only ever use the lower-case names, so anything else signals a corrupted line
     * that should be reported rather than silently accepted.
     */
    public static Optional<Sentiment> fromLabel(String name) {
        if (name == null) return Optional.empty();
        String n = name.strip();
        for (Sentiment s : BY_ID) if (s.label.equals(n)) return Optional.of(s);
        return Optional.empty();
    }

    /** {@code ["negative", "neutral", "positive"]} in id order, ready for a classification report. */
    public static String[] labels() {
        String[] out = new String[BY_ID.length];
        for (Sentiment s : BY_ID) out[s.id] = s.label;
        return out;
    }

    @Override
    public String toString() {
        return label.toUpperCase(Locale.ROOT);
    }
}
