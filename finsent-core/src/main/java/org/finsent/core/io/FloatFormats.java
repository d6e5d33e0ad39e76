package org.finsent.core.io;

/**
 * IEEE 754 binary16 ("half", F16) and bfloat16 (BF16) conversions, bit-exact, for Java 17
 * ({@code Float.float16ToFloat} only arrives in Java 20).
 * Widening (half/bf16 to float) is exact; narrowing rounds to nearest, ties to even, like PyTorch and NumPy.
 */
public final class FloatFormats {

    private FloatFormats() {
    }

    /** The float value of a binary16 bit pattern: exact, including subnormals, signed zeros, infinities, NaN. */
    public static float halfToFloat(short half) {
        int h = half & 0xffff;
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1f;
        int mant = h & 0x3ff;
        if (exp == 0) {
            if (mant == 0) return Float.intBitsToFloat(sign);
            float v = mant * 0x1p-24f; // subnormal: mant * 2^-24, exact in float
            return sign != 0 ? -v : v;
        }
        if (exp == 0x1f) return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13)); // inf, NaN (payload kept)
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    /** The binary16 bit pattern nearest to {@code f} (round to nearest even; overflow to infinity). */
    public static short floatToHalf(float f) {
        int x = Float.floatToRawIntBits(f);
        int sign = (x >>> 16) & 0x8000;
        int exp = (x >>> 23) & 0xff;
        int mant = x & 0x7fffff;
        if (exp == 0xff) {
            if (mant == 0) return (short) (sign | 0x7c00);
            int m = mant >>> 13;
            return (short) (sign | 0x7c00 | (m == 0 ? 0x200 : m)); // NaN stays NaN, top payload bits kept
        }
        if (exp >= 143) return (short) (sign | 0x7c00); // >= 2^16: infinity
        if (exp >= 113) { // normal half range (rounding may carry into the exponent, up to infinity)
            int h = ((exp - 112) << 10) | (mant >>> 13);
            int rest = mant & 0x1fff;
            if (rest > 0x1000 || (rest == 0x1000 && (h & 1) != 0)) h++;
            return (short) (sign | h);
        }
        if (exp >= 102) { // half subnormal: value / 2^-24, rounded
            int m = mant | 0x800000;
            int shift = 126 - exp;
            int h = m >>> shift;
            int rest = m & ((1 << shift) - 1);
            int halfway = 1 << (shift - 1);
            if (rest > halfway || (rest == halfway && (h & 1) != 0)) h++;
            return (short) (sign | h);
        }
        return (short) sign; // below half the smallest subnormal: signed zero
    }

    /** The float value of a bfloat16 bit pattern (exact). */
    public static float bf16ToFloat(short bf16) {
        return Float.intBitsToFloat((bf16 & 0xffff) << 16);
    }

    /** The bfloat16 bit pattern nearest to {@code f} (round to nearest even, as PyTorch; NaN stays a quiet NaN). */
    public static short floatToBf16(float f) {
        int x = Float.floatToRawIntBits(f);
        if ((x & 0x7fffffff) > 0x7f800000) return (short) ((x >>> 16) | 0x40);
        int lsb = (x >>> 16) & 1;
        return (short) ((x + 0x7fff + lsb) >>> 16);
    }
}
