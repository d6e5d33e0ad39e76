package org.finsent.train;

import org.finsent.train.optim.ClassWeights;

import java.util.Arrays;
import java.util.Locale;

/**
 * Which class weights the training loss uses: none (plain mean cross-entropy), scikit-learn's {@code "balanced"}
 * weights computed from the <em>training</em> labels (FinancialPhraseBank is ~59 % neutral, so an unweighted loss
 * lets the model lean on the majority class), or fixed values. One small type instead of an {@code Object}
 * field, so the three cases cannot be confused and the CLI can {@link #parse} a string.
 *
 * @param mode   {@code "none"}, {@code "balanced"} or {@code "fixed"}
 * @param values the fixed weights (mode {@code "fixed"} only, else null)
 */
public record ClassWeighting(String mode, double[] values) {
    public static final ClassWeighting NONE = new ClassWeighting("none", null);
    public static final ClassWeighting BALANCED = new ClassWeighting("balanced", null);

    public ClassWeighting {
        switch (mode) {
            case "none", "balanced" -> {
                if (values != null) throw new IllegalArgumentException("class weighting '" + mode + "' takes no values");
            }
            case "fixed" -> {
                if (values == null || values.length == 0) throw new IllegalArgumentException("fixed class weights need values");
                for (double v : values) {
                    if (!(v > 0) || Double.isInfinite(v)) {
                        throw new IllegalArgumentException("class weights must be finite and > 0: " + Arrays.toString(values));
                    }
                }
                values = values.clone();
            }
            default -> throw new IllegalArgumentException("class weighting must be none, balanced or fixed, got '" + mode + "'");
        }
    }

    /** Fixed weights, one per class id. */
    public static ClassWeighting of(double... values) {
        return new ClassWeighting("fixed", values);
    }

    /** {@code "none"}, {@code "balanced"}, or comma-separated numbers such as {@code "1.8,0.6,1.1"}. */
    public static ClassWeighting parse(String s) {
        String t = s == null ? "none" : s.strip().toLowerCase(Locale.ROOT);
        if (t.isEmpty() || t.equals("none") || t.equals("null")) return NONE;
        if (t.equals("balanced")) return BALANCED;
        try {
            return of(Arrays.stream(t.split(",")).mapToDouble(x -> Double.parseDouble(x.strip())).toArray());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("class weights must be none, balanced or comma-separated numbers, got '" + s + "'");
        }
    }

    /** The weights for {@link org.finsent.core.model.CrossEntropyLoss} (null = unweighted). */
    public double[] resolve(int[] trainLabels, int numLabels) {
        return switch (mode) {
            case "balanced" -> ClassWeights.balanced(trainLabels, numLabels);
            case "fixed" -> {
                if (values.length != numLabels) {
                    throw new IllegalArgumentException(values.length + " class weights for " + numLabels + " labels");
                }
                yield values.clone();
            }
            default -> null;
        };
    }

    @Override
    public double[] values() {
        return values == null ? null : values.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ClassWeighting c && c.mode.equals(mode) && Arrays.equals(c.values, values);
    }

    @Override
    public int hashCode() {
        return mode.hashCode() * 31 + Arrays.hashCode(values);
    }

    @Override
    public String toString() {
        return mode.equals("fixed") ? Arrays.toString(values) : mode;
    }
}
