package dev.ferry.moe.kernel;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Rounds an activation row to an {@link ActivationFormat} the way llama.cpp's x86 CPU backend
 * quantizes {@code src1} before a matrix product, and stores the rounded values as float32
 * (value = scale * integer, exactly representable), so a float dot product with them equals
 * llama.cpp's integer dot product up to float32 summation order.
 */
final class ActivationQuantizer {

    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private ActivationQuantizer() {
    }

    /**
     * Rounds {@code cols} floats at byte offset {@code src} of {@code x} to {@code format} and
     * writes them as floats at float index {@code dst} of {@code out}.
     */
    static void round(ActivationFormat format, MemorySegment x, long src, long cols, MemorySegment out, long dst) {
        switch (format) {
            case F32 -> MemorySegment.copy(x, src, out, dst * 4, cols * 4);
            case F16 -> {
                for (long i = 0; i < cols; i++) {
                    float v = x.get(FLOAT, src + 4 * i);
                    out.setAtIndex(FLOAT, dst + i, Float.float16ToFloat(Float.floatToFloat16(v)));
                }
            }
            case BF16 -> {
                for (long i = 0; i < cols; i++) {
                    out.setAtIndex(FLOAT, dst + i, roundToBf16(x.get(FLOAT, src + 4 * i)));
                }
            }
            case Q8_0, Q8_1 -> roundQ8_0(x, src, cols, out, dst);
            case Q8_K -> roundQ8K(x, src, cols, out, dst);
        }
    }

    /** ggml's fp32-to-bf16: round to nearest even, NaN kept quiet. */
    static float roundToBf16(float v) {
        int u = Float.floatToRawIntBits(v);
        if ((u & 0x7fffffff) > 0x7f800000) {
            return Float.intBitsToFloat((u | 0x00400000) & 0xffff0000);
        }
        int r = (u + (0x7fff + ((u >>> 16) & 1))) >>> 16;
        return Float.intBitsToFloat(r << 16);
    }

    /**
     * Q8_0 as llama.cpp's AVX quantize_row_q8_0: d = amax/127 stored as float16,
     * q = round-to-nearest-even(x * 127/amax). Q8_1 has the same d and q.
     */
    private static void roundQ8_0(MemorySegment x, long src, long cols, MemorySegment out, long dst) {
        for (long b = 0; b < cols; b += 32) {
            float amax = 0;
            for (int j = 0; j < 32; j++) {
                amax = Math.max(amax, Math.abs(x.get(FLOAT, src + 4 * (b + j))));
            }
            float d = amax / 127f;
            float id = amax != 0 ? 127f / amax : 0f;
            float dh = Float.float16ToFloat(Float.floatToFloat16(d));
            for (int j = 0; j < 32; j++) {
                int q = (int) Math.rint(x.get(FLOAT, src + 4 * (b + j)) * id);
                out.setAtIndex(FLOAT, dst + b + j, dh * q);
            }
        }
    }

    /**
     * Q8_K as ggml's quantize_row_q8_K_ref: the signed value of largest magnitude maps to -127,
     * q = nearest_int(x * iscale) capped at 127, d = 1/iscale kept as float32.
     */
    private static void roundQ8K(MemorySegment x, long src, long cols, MemorySegment out, long dst) {
        for (long b = 0; b < cols; b += 256) {
            float amax = 0;
            float max = 0;
            for (int j = 0; j < 256; j++) {
                float v = x.get(FLOAT, src + 4 * (b + j));
                float a = Math.abs(v);
                if (a > amax) {
                    amax = a;
                    max = v;
                }
            }
            if (amax == 0) {
                for (int j = 0; j < 256; j++) {
                    out.setAtIndex(FLOAT, dst + b + j, 0f);
                }
                continue;
            }
            float iscale = -127f / max;
            float d = 1 / iscale;
            for (int j = 0; j < 256; j++) {
                int q = Math.min(127, (int) Math.rint(iscale * x.get(FLOAT, src + 4 * (b + j))));
                out.setAtIndex(FLOAT, dst + b + j, d * q);
            }
        }
    }
}
