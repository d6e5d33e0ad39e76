package org.finsent.train;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One line of {@code training_log.jsonl}: written every {@code loggingSteps} optimizer steps (train fields) and
 * after every evaluation (eval fields). Absent values are NaN / null and left out of the JSON.
 *
 * @param step             optimizer steps done
 * @param epoch            fractional epoch ({@code 1.5} = half-way through the second epoch)
 * @param lr               learning rate of the last step
 * @param trainLoss        mean training loss over the steps since the previous train entry
 * @param gradNorm         global gradient norm before clipping, at the last step
 * @param samplesPerSecond training examples per second since the previous train entry
 * @param tokensPerSecond  real (unpadded) training tokens per second since the previous train entry
 * @param elapsedSeconds   wall time since training (or this resumed run) started
 * @param eval             the evaluation this entry reports, or null
 */
public record LogEntry(long step, double epoch, double lr, double trainLoss, double gradNorm, double samplesPerSecond,
                       double tokensPerSecond, double elapsedSeconds, EvalResult eval) {

    /** The JSON object as written to {@code training_log.jsonl}. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("step", step);
        m.put("epoch", epoch);
        putIfFinite(m, "lr", lr);
        putIfFinite(m, "train_loss", trainLoss);
        putIfFinite(m, "grad_norm", gradNorm);
        putIfFinite(m, "samples_per_second", samplesPerSecond);
        putIfFinite(m, "tokens_per_second", tokensPerSecond);
        if (eval != null) m.putAll(eval.toMap());
        m.put("elapsed_s", elapsedSeconds);
        return m;
    }

    private static void putIfFinite(Map<String, Object> m, String k, double v) {
        if (Double.isFinite(v)) m.put(k, v);
    }
}
