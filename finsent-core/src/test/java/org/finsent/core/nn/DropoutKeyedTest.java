package org.finsent.core.nn;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Keyed dropout masks: inside {@link Dropout#keyed} a mask depends on the key and the draw's index only — not on
 * which Dropout draws it, its generator, or what was drawn before — which is what lets a checkpoint's position
 * stand for the whole random state of training.
 */
class DropoutKeyedTest {
    private static final INDArray X = Nd4j.ones(DataType.FLOAT, 64, 32);

    private static INDArray draw(Dropout d) {
        return d.forward(X, true).dup();
    }

    @Test
    void aKeyedMaskDependsOnKeyAndDrawIndexOnly() {
        Dropout a = new Dropout(0.3, Nd4j.getRandomFactory().getNewRandomInstance(1));
        Dropout b = new Dropout(0.3, Nd4j.getRandomFactory().getNewRandomInstance(2));
        INDArray first, second;
        try (Dropout.Scope s = Dropout.keyed(77)) {
            first = draw(a);
            second = draw(b);
            assertEquals(2, s.draws());
        }
        draw(a); // unkeyed draws in between move the generators, not the keyed stream
        draw(b);
        try (Dropout.Scope s = Dropout.keyed(77)) {
            assertEquals(first, draw(b), "draw 0 of key 77, whichever Dropout draws it");
            assertEquals(second, draw(a), "draw 1 of key 77");
        }
        try (Dropout.Scope s = Dropout.keyed(78)) {
            assertFalse(first.equals(draw(a)), "another key, another mask");
        }
        assertFalse(first.equals(second), "draws within a scope differ");
        double kept = first.gt(0).castTo(DataType.DOUBLE).meanNumber().doubleValue();
        assertEquals(0.7, kept, 0.05, "still dropout with p = 0.3");
    }

    @Test
    void scopesNestAndMustCloseInOrder() {
        Dropout d = new Dropout(0.5, Nd4j.getRandomFactory().getNewRandomInstance(3));
        INDArray outerFirst;
        try (Dropout.Scope outer = Dropout.keyed(1)) {
            outerFirst = draw(d);
            try (Dropout.Scope inner = Dropout.keyed(2)) {
                draw(d);
                assertEquals(1, inner.draws());
            }
            draw(d);
            assertEquals(2, outer.draws(), "the outer scope resumed after the inner one closed");
        }
        try (Dropout.Scope again = Dropout.keyed(1)) {
            assertEquals(outerFirst, draw(d));
        }
        Dropout.Scope a = Dropout.keyed(5), b = Dropout.keyed(6);
        assertThrows(IllegalStateException.class, a::close);
        b.close();
        a.close();
        assertTrue(d.forward(X, false) == X, "eval is the identity, scope or not");
    }
}
