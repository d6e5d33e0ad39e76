package org.finsent.core.metrics;

/**
 * scikit-learn's {@code zero_division} argument: the value a metric takes when its denominator is zero (precision of
 * a class that is never predicted, recall of a class that never occurs, F1 of a class that does neither).
 *
 * <p>It matters in practice: early in fine-tuning a model often predicts only the majority class (neutral), and
 * whether the other classes then count as 0 or 1 moves macro F1 a lot. The default, like scikit-learn's, is
 * {@link #WARN}: use 0 and say so.
 */
public enum ZeroDivision {
    /** Use 0.0 and record a warning naming the class ({@link ClassificationMetrics#warnings()}); sklearn's {@code "warn"}. */
    WARN,
    /** Use 0.0 silently; sklearn's {@code zero_division=0}. */
    ZERO,
    /** Use 1.0 silently; sklearn's {@code zero_division=1}. */
    ONE;

    double value() {
        return this == ONE ? 1.0 : 0.0;
    }
}
