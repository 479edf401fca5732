package dev.ferry.moe.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Pins down where the JDK's own F16 conversions agree with ggml's, so vector kernels may use
 * {@link Float#float16ToFloat} and {@link Float#floatToFloat16} for every non-NaN value.
 */
class HalfFloatsTest {
    private static boolean isNan(int half) {
        return (half & 0x7C00) == 0x7C00 && (half & 0x3FF) != 0;
    }

    @Test
    void jdkHalfToFloatMatchesForEveryNonNanHalf() {
        for (int h = 0; h < 1 << 16; h++) {
            if (!isNan(h)) {
                assertEquals(Float.floatToRawIntBits(HalfFloats.halfToFloat(h)),
                        Float.floatToRawIntBits(Float.float16ToFloat((short) h)), "half 0x" + Integer.toHexString(h));
            }
        }
    }

    @Test
    void nanPayloadIsKeptAsGgufPyDoes() {
        // A signalling NaN stays signalling (numpy keeps the payload); the JDK sets the quiet bit.
        assertEquals(0x7F802000, Float.floatToRawIntBits(HalfFloats.halfToFloat(0x7C01)));
        assertEquals(0xFFC00000, Float.floatToRawIntBits(HalfFloats.halfToFloat(0xFE00)));
    }

    @Test
    void jdkFloatToHalfMatchesForRandomNonNanFloats() {
        Random random = new Random(19);
        for (int i = 0; i < 1_000_000; i++) {
            float f = Float.intBitsToFloat(random.nextInt());
            if (!Float.isNaN(f)) {
                assertEquals(Float.floatToFloat16(f), HalfFloats.floatToHalf(f), "float " + f);
            }
        }
    }

    @Test
    void bf16DecodeShiftsBitsUp() {
        assertEquals(1.0f, HalfFloats.bf16ToFloat(0x3F80));
        assertEquals(0x80000000, Float.floatToRawIntBits(HalfFloats.bf16ToFloat(0x8000)));
        assertEquals(0x7F810000, Float.floatToRawIntBits(HalfFloats.bf16ToFloat(0x7F81)));
    }
}
