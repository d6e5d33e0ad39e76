package org.finsent.train;

import java.util.List;

/**
 * What a training run ends with; also written as {@code metrics.json}.
 *
 * @param globalStep       optimizer steps done
 * @param epoch            fractional epoch reached
 * @param finalEval        evaluation of the model as returned (the best one if it was restored), or null without
 *                         an evaluation set
 * @param bestStep         step of the best evaluation, or -1
 * @param bestMetric       its {@code metricForBestModel} value, or NaN
 * @param restoredBest     whether the best model's trainable weights were loaded back at the end
 * @param stoppedEarly     whether early stopping ended the run
 * @param trainLoss        mean training loss over all steps of this run
 * @param trainRuntimeSeconds wall time of {@link Trainer#train} (this run only, after a resume)
 * @param paddingEfficiency real / padded tokens over the training batches of this run
 * @param log              every log entry of this run, in order
 */
public record TrainResult(long globalStep, double epoch, EvalResult finalEval, long bestStep, double bestMetric,
                          boolean restoredBest, boolean stoppedEarly, double trainLoss, double trainRuntimeSeconds,
                          double paddingEfficiency, List<LogEntry> log) {
}
