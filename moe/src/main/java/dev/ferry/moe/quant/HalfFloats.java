package dev.ferry.moe.quant;

/**
 * IEEE half (F16) and bfloat16 (BF16) conversions with the exact bits llama.cpp produces.
 *
 * <p>F16 to F32 is exact for every input; NaN payloads are kept (shifted into the float's
 * significand) as numpy and ggml's portable C code do, rather than relying on whatever a CPU
 * instruction does with signalling NaNs. F32 to F16 rounds to nearest, ties to even.
 */
public final class HalfFloats {
    /** Every F16 bit pattern decoded once; a table lookup is exact and cheap in scalar loops. */
    private static final float[] HALF_TO_FLOAT = buildHalfTable();

    private HalfFloats() {
    }

    /** The float an F16 bit pattern (low 16 bits of {@code bits}) stands for, bit-exact. */
    public static float halfToFloat(int bits) {
        return HALF_TO_FLOAT[bits & 0xFFFF];
    }

    /** The float a BF16 bit pattern (low 16 bits of {@code bits}) stands for: its bits shifted up. */
    public static float bf16ToFloat(int bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /**
     * Rounds a float to F16 bits (round to nearest, ties to even; overflow gives infinity; NaN
     * gives the quiet NaN 0x7E00 with the input's sign, like ggml's portable conversion).
     */
    public static short floatToHalf(float value) {
        int bits = Float.floatToRawIntBits(value);
        if ((bits & 0x7FFFFFFF) > 0x7F800000) {
            return (short) (((bits >>> 16) & 0x8000) | 0x7E00);
        }
        return Float.floatToFloat16(value);
    }

    /**
     * Rounds a float to BF16 bits the way ggml's {@code ggml_compute_fp32_to_bf16} does: NaN is
     * made quiet keeping its top bits, everything else rounds to nearest, ties to even.
     */
    public static short floatToBf16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if ((bits & 0x7FFFFFFF) > 0x7F800000) {
            return (short) ((bits >>> 16) | 64);
        }
        long rounded = (bits & 0xFFFFFFFFL) + 0x7FFF + ((bits >>> 16) & 1);
        return (short) (rounded >>> 16);
    }

    private static float[] buildHalfTable() {
        float[] table = new float[1 << 16];
        for (int h = 0; h < table.length; h++) {
            table[h] = decodeHalf(h);
        }
        return table;
    }

    private static float decodeHalf(int h) {
        int sign = (h & 0x8000) << 16;
        int exponent = (h >>> 10) & 0x1F;
        int mantissa = h & 0x3FF;
        if (exponent == 0x1F) {
            return Float.intBitsToFloat(sign | 0x7F800000 | (mantissa << 13));
        }
        if (exponent == 0) {
            // Zero or subnormal: mantissa * 2^-24 is exact in float.
            float magnitude = mantissa * 0x1p-24f;
            return Float.intBitsToFloat(sign | Float.floatToRawIntBits(magnitude));
        }
        return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
    }
}
