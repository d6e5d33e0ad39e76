package org.finsent.core.io;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Half and bfloat16 conversions against the IEEE definitions, exhaustively over all 65,536 bit patterns. */
class FloatFormatsTest {

    /** binary16 value by definition: (-1)^s * 2^(e-15) * (1 + m/1024), subnormals m * 2^-24. */
    private static double halfByDefinition(int h) {
        int s = (h >>> 15) & 1, e = (h >>> 10) & 0x1f, m = h & 0x3ff;
        double v;
        if (e == 0x1f) v = m == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
        else if (e == 0) v = Math.scalb((double) m, -24);
        else v = Math.scalb(1.0 + m / 1024.0, e - 15);
        return s == 1 ? -v : v;
    }

    @Test
    void halfToFloatIsExactForEveryBitPattern() {
        for (int h = 0; h < 65536; h++) {
            float f = FloatFormats.halfToFloat((short) h);
            double want = halfByDefinition(h);
            if (Double.isNaN(want)) {
                assertTrue(Float.isNaN(f), Integer.toHexString(h));
            } else {
                assertEquals(Double.doubleToLongBits(want), Double.doubleToLongBits(f), Integer.toHexString(h));
            }
        }
    }

    @Test
    void floatToHalfRoundTripsAndRoundsHalfwayCasesToEven() {
        for (int h = 0; h < 65536; h++) {
            short back = FloatFormats.floatToHalf(FloatFormats.halfToFloat((short) h));
            if (((h >>> 10) & 0x1f) == 0x1f && (h & 0x3ff) != 0) {
                assertTrue((back & 0x7c00) == 0x7c00 && (back & 0x3ff) != 0, "NaN stays NaN " + Integer.toHexString(h));
            } else {
                assertEquals((short) h, back, Integer.toHexString(h));
            }
        }
        // between every two neighbouring positive halves (and between the largest half and 2^16, i.e. overflow)
        for (int h = 0; h < 0x7c00; h++) {
            float lo = FloatFormats.halfToFloat((short) h);
            float hi = h + 1 == 0x7c00 ? 65536f : FloatFormats.halfToFloat((short) (h + 1));
            float mid = (lo + hi) / 2; // exact: halves carry 11 significant bits
            int even = (h & 1) == 0 ? h : h + 1;
            assertEquals((short) even, FloatFormats.floatToHalf(mid), "tie at " + mid);
            assertEquals((short) h, FloatFormats.floatToHalf(Math.nextDown(mid)), "below " + mid);
            assertEquals((short) (h + 1), FloatFormats.floatToHalf(Math.nextUp(mid)), "above " + mid);
            assertEquals((short) (h | 0x8000), FloatFormats.floatToHalf(-Math.nextDown(mid)), "negative " + mid);
        }
        assertEquals((short) 0x7c00, FloatFormats.floatToHalf(1e10f));
        assertEquals((short) 0xfc00, FloatFormats.floatToHalf(Float.NEGATIVE_INFINITY));
        assertEquals((short) 0, FloatFormats.floatToHalf(Float.MIN_VALUE));
        assertEquals((short) 0x8000, FloatFormats.floatToHalf(-0.0f));
        assertEquals((short) 0x3555, FloatFormats.floatToHalf(1f / 3));
    }

    @Test
    void bfloat16IsTheTopHalfOfAFloatRoundedToEven() {
        for (int b = 0; b < 65536; b++) {
            float f = FloatFormats.bf16ToFloat((short) b);
            assertEquals(b << 16, Float.floatToRawIntBits(f));
            if (!Float.isNaN(f)) assertEquals((short) b, FloatFormats.floatToBf16(f));
            else assertTrue(Float.isNaN(FloatFormats.bf16ToFloat(FloatFormats.floatToBf16(f))));
        }
        for (int b = 0; b < 0x7f80; b += 7) {
            float lo = FloatFormats.bf16ToFloat((short) b), hi = FloatFormats.bf16ToFloat((short) (b + 1));
            float mid = Float.intBitsToFloat((b << 16) | 0x8000); // exactly halfway
            assertTrue(lo < mid && mid < hi);
            assertEquals((short) ((b & 1) == 0 ? b : b + 1), FloatFormats.floatToBf16(mid));
            assertEquals((short) b, FloatFormats.floatToBf16(Math.nextDown(mid)));
            assertEquals((short) (b + 1), FloatFormats.floatToBf16(Math.nextUp(mid)));
        }
        assertEquals((short) 0x7f80, FloatFormats.floatToBf16(Float.MAX_VALUE), "rounds to infinity, as torch does");
    }
}
