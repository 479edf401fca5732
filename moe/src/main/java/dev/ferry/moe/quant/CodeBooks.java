package dev.ferry.moe.quant;

/**
 * The fixed value tables and scale encodings of the lookup-based types, for kernels that decode
 * them in their own way and must agree with {@link Decoders} bit for bit.
 */
public final class CodeBooks {
    /** ggml's kvalues_iq4nl, the 16 IQ4_NL / IQ4_XS levels. */
    private static final byte[] IQ4 = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

    /** The E2M1 FP4 values doubled so they are integers (MXFP4, NVFP4); the scales carry the half. */
    private static final byte[] FP4_DOUBLED = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

    private CodeBooks() {
    }

    /** IQ4_NL / IQ4_XS level of a 4-bit code (0..15). */
    public static int iq4(int code) {
        return IQ4[code];
    }

    /** Twice the E2M1 value of a 4-bit MXFP4 / NVFP4 code (0..15). */
    public static int fp4Doubled(int code) {
        return FP4_DOUBLED[code];
    }

    /** A copy of the 16 IQ4 levels, e.g. for a vector table lookup. */
    public static byte[] iq4Table() {
        return IQ4.clone();
    }

    /** A copy of the 16 doubled FP4 values. */
    public static byte[] fp4DoubledTable() {
        return FP4_DOUBLED.clone();
    }

    /**
     * MXFP4's scale for exponent byte {@code e}: 2^(e - 127) halved (ggml's
     * {@code GGML_E8M0_TO_FP32_HALF}), the half undoing the doubled FP4 table.
     */
    public static float e8m0Half(int e) {
        int bits = e < 2 ? 0x00200000 << e : (e - 1) << 23;
        return Float.intBitsToFloat(bits);
    }

    /**
     * NVFP4's scale for an unsigned E4M3 byte, halved as gguf-py computes it: exponent 0 is
     * subnormal, 0x00 and 0x7F (the NaN code) give zero, the top bit is ignored.
     */
    public static float ue4m3Half(int x) {
        if (x == 0 || x == 0x7F) {
            return 0.0f;
        }
        int exponent = (x >>> 3) & 0xF;
        int mantissa = x & 7;
        float raw = exponent == 0
                ? mantissa * 0x1p-9f
                : (1.0f + mantissa / 8.0f) * Math.scalb(1.0f, exponent - 7);
        return raw * 0.5f;
    }
}
