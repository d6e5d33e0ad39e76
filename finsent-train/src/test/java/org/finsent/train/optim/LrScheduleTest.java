package org.finsent.train.optim;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Schedules against values worked out by hand from Hugging Face's lambdas (lr = base·factor(step)), at step 0,
 * inside warm-up, at the warm-up boundary, in the middle, at the end and beyond, and against an independent
 * re-derivation (interpolation between the schedule's corner points) at every step.
 */
class LrScheduleTest {
    static final double TOL = 1e-18;

    @Test
    void linearWithWarmupAtKeySteps() {
        LrSchedule s = LrSchedule.linear(1e-3, 10, 100);
        assertEquals(0.0, s.lr(0), 0.0);               // HF: the first optimizer step has lr 0 under warm-up
        assertEquals(1e-4, s.lr(1), TOL);
        assertEquals(9e-4, s.lr(9), TOL);
        assertEquals(1e-3, s.lr(10), TOL);              // warm-up boundary: (100-10)/(100-10) = 1
        assertEquals(5e-4, s.lr(55), TOL);              // 45/90
        assertEquals(1e-3 / 90, s.lr(99), TOL);
        assertEquals(0.0, s.lr(100), 0.0);
        assertEquals(0.0, s.lr(150), 0.0);              // max(0, ...) past the end

        LrSchedule noWarmup = LrSchedule.linear(1e-3, 0, 100);
        assertEquals(1e-3, noWarmup.lr(0), TOL);
        assertEquals(5e-4, noWarmup.lr(50), TOL);
    }

    /** Piecewise-linear through (0,0), (warmup, base), (total, 0), then 0: built from the corners, not the HF lambda. */
    @Test
    void linearEqualsInterpolationBetweenCornersAtEveryStep() {
        double base = 3e-5;
        long warmup = 7, total = 41;
        LrSchedule s = LrSchedule.linear(base, warmup, total);
        for (long k = 0; k <= total + 5; k++) {
            double expected;
            if (k <= warmup) expected = base * k / warmup;
            else if (k <= total) expected = base - base * (k - warmup) / (double) (total - warmup);
            else expected = 0;
            assertEquals(expected, s.lr(k), 1e-20, "step " + k);
        }
    }

    @Test
    void cosineWithWarmupAtKeySteps() {
        LrSchedule s = LrSchedule.cosine(1e-3, 10, 110);   // 100 decay steps, half a cycle
        assertEquals(0.0, s.lr(0), 0.0);
        assertEquals(5e-4, s.lr(5), TOL);
        assertEquals(1e-3, s.lr(10), TOL);                   // progress 0: cos 0 = 1
        assertEquals(1e-3 * (0.5 + Math.sqrt(2) / 4), s.lr(35), TOL);   // progress 1/4: ½(1 + cos π/4)
        assertEquals(5e-4, s.lr(60), TOL);                   // progress 1/2: ½(1 + cos π/2)
        assertEquals(0.0, s.lr(110), TOL);                   // progress 1: ½(1 + cos π) = 0
        assertEquals(5e-4, s.lr(160), TOL);                  // HF does not clamp progress: ½(1 + cos 3π/2)
        assertEquals(1e-3, s.lr(210), TOL);                  // ... and comes back to base at progress 2

        LrSchedule full = LrSchedule.cosine(1e-3, 10, 110, 1.0);   // one full cycle
        assertEquals(0.0, full.lr(60), TOL);
        assertEquals(1e-3, full.lr(110), TOL);
    }

    /** Cosine after warm-up equals base·cos²(π·progress/2) for half a cycle (½(1+cos 2x) = cos² x). */
    @Test
    void cosineEqualsSquaredCosineIdentityAtEveryStep() {
        double base = 2e-5;
        long warmup = 3, total = 29;
        LrSchedule s = LrSchedule.cosine(base, warmup, total);
        for (long k = 0; k <= total; k++) {
            double expected;
            if (k < warmup) expected = base * k / warmup;
            else {
                double c = Math.cos(Math.PI / 2 * (k - warmup) / (total - warmup));
                expected = base * c * c;
            }
            assertEquals(expected, s.lr(k), 1e-19, "step " + k);
        }
    }

    @Test
    void constantSchedules() {
        LrSchedule c = LrSchedule.constant(3e-5);
        assertEquals(3e-5, c.lr(0), 0.0);
        assertEquals(3e-5, c.lr(1_000_000), 0.0);

        LrSchedule w = LrSchedule.constantWithWarmup(2e-5, 4);
        assertEquals(0.0, w.lr(0), 0.0);
        assertEquals(1e-5, w.lr(2), TOL);
        assertEquals(2e-5, w.lr(4), 0.0);
        assertEquals(2e-5, w.lr(1000), 0.0);
    }

    @Test
    void warmupOfOneStep() {
        LrSchedule s = LrSchedule.linear(1.0, 1, 3);
        assertEquals(0.0, s.lr(0), 0.0);
        assertEquals(1.0, s.lr(1), 0.0);
        assertEquals(0.5, s.lr(2), 0.0);
        assertEquals(0.0, s.lr(3), 0.0);
    }

    @Test
    void warmupFromRatioRoundsUpLikeHuggingFace() {
        assertEquals(100, LrSchedule.warmupSteps(0.1, 1000));
        assertEquals(17, LrSchedule.warmupSteps(0.05, 333));      // ceil(16.65)
        assertEquals(1, LrSchedule.warmupSteps(0.001, 10));       // ceil(0.01)
        assertEquals(0, LrSchedule.warmupSteps(0.0, 1000));
        assertEquals(5, LrSchedule.warmupSteps(5, 0.1, 1000));    // explicit steps win
        assertEquals(100, LrSchedule.warmupSteps(0, 0.1, 1000));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.warmupSteps(1.5, 10));
    }

    @Test
    void byNameAndArgumentChecks() {
        assertEquals(LrSchedule.linear(1e-3, 10, 100).lr(55), LrSchedule.byName("linear", 1e-3, 10, 100).lr(55), 0.0);
        assertEquals(LrSchedule.cosine(1e-3, 10, 110).lr(35), LrSchedule.byName("cosine", 1e-3, 10, 110).lr(35), 0.0);
        assertEquals(1e-3, LrSchedule.byName("constant", 1e-3, 10, 100).lr(0), 0.0);
        assertEquals(0.0, LrSchedule.byName("constant_with_warmup", 1e-3, 10, 100).lr(0), 0.0);
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.byName("polynomial", 1e-3, 10, 100));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.linear(1e-3, 10, 100).lr(-1));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.linear(-1e-3, 10, 100));
    }
}
