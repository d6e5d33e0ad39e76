package org.finsent.core.data;

/**
 * What a reader does with a row it cannot turn into an {@link Example}.
 *
 * <p>{@link #FAIL} is the default because a silently shrunken data set changes every reported number; a
 * caller who knows the file is dirty opts into {@link #SKIP} and can still see how much was dropped in
 * {@link Dataset#skipped()} and why in {@link Dataset#skippedReasons()}.
 */
public enum BadRowPolicy {
    /** Throw a {@link DatasetException} naming {@code file:line} at the first bad row. */
    FAIL,
    /** Drop the row, count it, and keep the first few reasons. */
    SKIP
}
