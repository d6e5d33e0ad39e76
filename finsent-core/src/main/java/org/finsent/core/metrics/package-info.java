/**
 * Evaluation metrics with scikit-learn's definitions, so that numbers computed in Java can be put next to, and
 * checked against, numbers from the Python reference stack.
 *
 * <ul>
 *   <li>{@link org.finsent.core.metrics.ConfusionMatrix}: rows = true label, columns = predicted label
 *       ({@code sklearn.metrics.confusion_matrix});</li>
 *   <li>{@link org.finsent.core.metrics.ClassificationMetrics}: accuracy, per-class precision / recall / F1 /
 *       support, macro / weighted / micro averages, {@code zero_division} handling
 *       ({@link org.finsent.core.metrics.ZeroDivision}) and the text of {@code classification_report}.</li>
 * </ul>
 * Proven against scikit-learn: {@code ClassificationMetricsSklearnGoldenTest} (33 cases) and
 * {@code GoldenSklearnMetricsTest} (golden/metrics, scikit-learn 1.9.1: 200 labels, a never-predicted class under
 * {@code zero_division=0}) — per-class values, accuracy and confusion matrix exactly, averages to 1e-15.
 */
package org.finsent.core.metrics;
