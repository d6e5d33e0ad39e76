/**
 * Run reports: {@link org.finsent.report.ResourceMonitor} samples CPU, memory (JVM heap, process RSS, ND4J off-heap)
 * and GPU memory during training and writes {@code resources.json}; {@link org.finsent.report.Plots} draws the loss,
 * learning-rate, validation-metric and confusion-matrix PNGs. Both take and return plain data (records, arrays,
 * paths), so the trainer needs nothing else from this package.
 */
package org.finsent.report;
