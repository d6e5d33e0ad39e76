package org.finsent.train.optim;

import java.util.Locale;

/**
 * A learning rate per optimizer step, as Hugging Face's {@code transformers.get_scheduler} (a {@code LambdaLR}:
 * {@code lr = baseLr · factor(step)}).
 *
 * <p><b>Step indexing.</b> Trainer calls {@code scheduler.step()} after {@code optimizer.step()}, and
 * {@code LambdaLR} has already evaluated factor(0) at construction, so the k-th optimizer step (0-based) runs with
 * {@code lr(k)}: use {@code optimizer.step(schedule.lr(optimizer.steps()))}. With warm-up the very first step
 * therefore has lr 0, exactly as in Hugging Face. Steps must be {@code >= 0}.
 */
@FunctionalInterface
public interface LrSchedule {

    /** The learning rate for the k-th (0-based) optimizer step. */
    double lr(long step);

    /** {@code get_constant_schedule}: baseLr at every step. */
    static LrSchedule constant(double baseLr) {
        checkLr(baseLr);
        return step -> {
            checkStep(step);
            return baseLr;
        };
    }

    /** {@code get_constant_schedule_with_warmup}: {@code baseLr·step/max(1,warmup)} while step &lt; warmup, then baseLr. */
    static LrSchedule constantWithWarmup(double baseLr, long warmupSteps) {
        checkLr(baseLr);
        checkNonNegative("warmupSteps", warmupSteps);
        return step -> {
            checkStep(step);
            return baseLr * (step < warmupSteps ? warmupFactor(step, warmupSteps) : 1.0);
        };
    }

    /**
     * {@code get_linear_schedule_with_warmup}: {@code baseLr·step/max(1,warmup)} while step &lt; warmup, then
     * {@code baseLr·max(0, (total−step)/max(1, total−warmup))}: 1 at the end of warm-up, 0 at {@code total} and after.
     */
    static LrSchedule linear(double baseLr, long warmupSteps, long totalSteps) {
        checkLr(baseLr);
        checkNonNegative("warmupSteps", warmupSteps);
        checkNonNegative("totalSteps", totalSteps);
        return step -> {
            checkStep(step);
            if (step < warmupSteps) return baseLr * warmupFactor(step, warmupSteps);
            return baseLr * Math.max(0.0, (double) (totalSteps - step) / (double) Math.max(1, totalSteps - warmupSteps));
        };
    }

    /** {@link #cosine(double, long, long, double)} with Hugging Face's default half cycle (numCycles 0.5). */
    static LrSchedule cosine(double baseLr, long warmupSteps, long totalSteps) {
        return cosine(baseLr, warmupSteps, totalSteps, 0.5);
    }

    /**
     * {@code get_cosine_schedule_with_warmup}: linear warm-up as {@link #linear}, then with
     * {@code progress = (step−warmup)/max(1, total−warmup)}:
     * {@code baseLr·max(0, 0.5·(1 + cos(π·2·numCycles·progress)))}. Like Hugging Face, progress is not clamped: past
     * {@code total} the factor follows the cosine back up (0.5 at progress 1.5 with half a cycle); Trainer never
     * steps past {@code total}.
     */
    static LrSchedule cosine(double baseLr, long warmupSteps, long totalSteps, double numCycles) {
        checkLr(baseLr);
        checkNonNegative("warmupSteps", warmupSteps);
        checkNonNegative("totalSteps", totalSteps);
        if (!Double.isFinite(numCycles)) throw new IllegalArgumentException("numCycles must be finite: " + numCycles);
        return step -> {
            checkStep(step);
            if (step < warmupSteps) return baseLr * warmupFactor(step, warmupSteps);
            double progress = (double) (step - warmupSteps) / (double) Math.max(1, totalSteps - warmupSteps);
            return baseLr * Math.max(0.0, 0.5 * (1.0 + Math.cos(Math.PI * numCycles * 2.0 * progress)));
        };
    }

    /**
     * By Hugging Face's {@code SchedulerType} name: {@code linear}, {@code cosine}, {@code constant},
     * {@code constant_with_warmup} (the arguments a schedule does not use are ignored, as in {@code get_scheduler}).
     */
    static LrSchedule byName(String name, double baseLr, long warmupSteps, long totalSteps) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "linear" -> linear(baseLr, warmupSteps, totalSteps);
            case "cosine" -> cosine(baseLr, warmupSteps, totalSteps);
            case "constant" -> constant(baseLr);
            case "constant_with_warmup" -> constantWithWarmup(baseLr, warmupSteps);
            default -> throw new IllegalArgumentException("unknown schedule '" + name
                    + "' (linear, cosine, constant, constant_with_warmup)");
        };
    }

    /** Warm-up given as a fraction of training: {@code ceil(ratio·totalSteps)}, as Hugging Face rounds it. */
    static long warmupSteps(double warmupRatio, long totalSteps) {
        if (!(warmupRatio >= 0 && warmupRatio <= 1)) throw new IllegalArgumentException("warmupRatio must be in [0, 1]: " + warmupRatio);
        checkNonNegative("totalSteps", totalSteps);
        return (long) Math.ceil(totalSteps * warmupRatio);
    }

    /**
     * {@code TrainingArguments.get_warmup_steps}: {@code warmupSteps} if it is &gt; 0 (it wins over the ratio),
     * else {@code ceil(warmupRatio·totalSteps)}.
     */
    static long warmupSteps(long warmupSteps, double warmupRatio, long totalSteps) {
        checkNonNegative("warmupSteps", warmupSteps);
        return warmupSteps > 0 ? warmupSteps : warmupSteps(warmupRatio, totalSteps);
    }

    private static void checkLr(double baseLr) {
        if (!(baseLr >= 0) || Double.isInfinite(baseLr)) throw new IllegalArgumentException("baseLr must be finite and >= 0: " + baseLr);
    }

    private static double warmupFactor(long step, long warmupSteps) {
        return (double) step / (double) Math.max(1, warmupSteps);
    }

    private static void checkStep(long step) {
        if (step < 0) throw new IllegalArgumentException("step must be >= 0: " + step);
    }

    private static void checkNonNegative(String what, long n) {
        if (n < 0) throw new IllegalArgumentException(what + " must be >= 0: " + n);
    }
}
