package org.finsent.serve;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ServeFixturesTest {
    @Test
    void fixtureModelLearnedTheGeneratedLabels() {
        long t0 = System.nanoTime();
        ServedModel m = ServeFixtures.model();
        System.out.printf("fixture model trained in %.1f s, held-out accuracy %.3f%n", (System.nanoTime() - t0) / 1e9, ServeFixtures.heldOutAccuracy());
        assertTrue(ServeFixtures.heldOutAccuracy() > 0.9, "held-out accuracy " + ServeFixtures.heldOutAccuracy());
        var p = m.predict().apply(java.util.List.of(ServeFixtures.POSITIVE, ServeFixtures.NEGATIVE));
        assertEquals("positive", p.get(0).label());
        assertEquals("negative", p.get(1).label());
    }
}
