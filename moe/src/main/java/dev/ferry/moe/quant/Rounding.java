package dev.ferry.moe.quant;

/** The float-to-integer roundings ggml's quantizers use, reproduced exactly. */
final class Rounding {
    private static final float MAGIC = 12582912.0f; // 1.5 * 2^23

    private Rounding() {
    }

    /**
     * ggml's {@code nearest_int}: adding 1.5 * 2^23 leaves the rounded integer (ties to even) in
     * the low mantissa bits. Valid for |value| <= 4194303.
     */
    static int nearestInt(float value) {
        float shifted = value + MAGIC;
        return (Float.floatToRawIntBits(shifted) & 0x007FFFFF) - 0x00400000;
    }

    /** C's {@code roundf}: halfway cases away from zero. */
    static int roundHalfAway(float value) {
        double magnitude = Math.floor(Math.abs((double) value) + 0.5);
        return (int) Math.copySign(magnitude, value);
    }

    /** x86 {@code _mm256_round_ps(_MM_ROUND_NEAREST)}: halfway cases to even. */
    static int roundHalfEven(float value) {
        return (int) Math.rint(value);
    }
}
