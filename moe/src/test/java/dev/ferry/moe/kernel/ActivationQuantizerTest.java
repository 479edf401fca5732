package dev.ferry.moe.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.loader.GgmlType;
import dev.ferry.moe.quant.Encoders;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/** The kernels' activation rounding against the quant package's llama.cpp-x86 encoders. */
class ActivationQuantizerTest {

    private static final int COLS = 1024;

    @Test
    void q8_0RoundingMatchesTheX86EncoderBitForBit() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment x = KernelTestData.randomActivations(arena, COLS, 3);
            x.setAtIndex(ValueLayout.JAVA_FLOAT, 40, 0f);
            MemorySegment ours = arena.allocate(COLS * 4L);
            ActivationQuantizer.round(ActivationFormat.Q8_0, x, 0, COLS, ours, 0);
            MemorySegment blocks = arena.allocate(GgmlType.Q8_0.rowBytes(COLS));
            Encoders.x86Activations(GgmlType.Q8_0).encodeRow(x, 0, blocks, 0, COLS);
            for (int i = 0; i < COLS; i++) {
                long block = (i / 32) * 34L;
                float d = Float.float16ToFloat(blocks.get(ValueLayout.JAVA_SHORT_UNALIGNED, block));
                float expected = d * blocks.get(ValueLayout.JAVA_BYTE, block + 2 + i % 32);
                assertEquals(Float.floatToIntBits(expected), Float.floatToIntBits(ours.getAtIndex(ValueLayout.JAVA_FLOAT, i)),
                        "value " + i);
            }
        }
    }

    @Test
    void q8KRoundingMatchesTheReferenceEncoderBitForBit() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment x = KernelTestData.randomActivations(arena, COLS, 5);
            for (int i = 256; i < 512; i++) {
                x.setAtIndex(ValueLayout.JAVA_FLOAT, i, 0f); // an all-zero block
            }
            MemorySegment ours = arena.allocate(COLS * 4L);
            ActivationQuantizer.round(ActivationFormat.Q8_K, x, 0, COLS, ours, 0);
            MemorySegment blocks = arena.allocate(GgmlType.Q8_K.rowBytes(COLS));
            Encoders.x86Activations(GgmlType.Q8_K).encodeRow(x, 0, blocks, 0, COLS);
            for (int i = 0; i < COLS; i++) {
                long block = (i / 256) * (long) GgmlType.Q8_K.blockBytes();
                float d = blocks.get(ValueLayout.JAVA_FLOAT_UNALIGNED, block + Encoders.Q8_K_D_OFFSET);
                float expected = d * blocks.get(ValueLayout.JAVA_BYTE, block + Encoders.Q8_K_QS_OFFSET + i % 256);
                assertEquals(Float.floatToIntBits(expected), Float.floatToIntBits(ours.getAtIndex(ValueLayout.JAVA_FLOAT, i)),
                        "value " + i);
            }
        }
    }

    @Test
    void floatFormatsRoundToNearestEven() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment x = arena.allocate(8);
            MemorySegment out = arena.allocate(8);
            // 1 + 2^-11 is halfway between two float16 values: ties go to the even one (1.0)
            x.setAtIndex(ValueLayout.JAVA_FLOAT, 0, 1f + 0x1p-11f);
            // 1 + 3 * 2^-8 is halfway between two bfloat16 values: ties go to even (1 + 2^-6)
            x.setAtIndex(ValueLayout.JAVA_FLOAT, 1, 1f + 3 * 0x1p-8f);
            ActivationQuantizer.round(ActivationFormat.F16, x, 0, 1, out, 0);
            ActivationQuantizer.round(ActivationFormat.BF16, x, 4, 1, out, 1);
            assertEquals(1f, out.getAtIndex(ValueLayout.JAVA_FLOAT, 0));
            assertEquals(1f + 0x1p-6f, out.getAtIndex(ValueLayout.JAVA_FLOAT, 1));
            assertTrue(Float.isNaN(ActivationQuantizer.roundToBf16(Float.NaN)));
        }
    }

    @Test
    void integerRoundingGivesTheSameFloatsPlusIntegersScalesAndSums() {
        for (ActivationFormat format : new ActivationFormat[] {ActivationFormat.Q8_0, ActivationFormat.Q8_K}) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment x = KernelTestData.randomActivations(arena, COLS, 9);
                for (int i = 256; i < 512; i++) {
                    x.setAtIndex(ValueLayout.JAVA_FLOAT, i, 0f); // an all-zero block
                }
                // block 2: +4 and -4 are both of largest magnitude; Q8_K takes the first, -4
                x.setAtIndex(ValueLayout.JAVA_FLOAT, 600, -4f);
                x.setAtIndex(ValueLayout.JAVA_FLOAT, 700, 4f);
                MemorySegment expected = arena.allocate(COLS * 4L);
                ActivationQuantizer.round(format, x, 0, COLS, expected, 0);
                MemorySegment floats = arena.allocate(COLS * 4L);
                MemorySegment ints = arena.allocate(COLS * 2L);
                MemorySegment scales = arena.allocate(COLS / 32 * 4L);
                MemorySegment sums = arena.allocate(COLS / 16 * 4L);
                ActivationQuantizer.roundQ8(format, x, 0, COLS, floats, 0, ints, 0, scales, 0, sums, 0);
                int bs = format.blockSize();
                for (int g = 0; g < COLS / 16; g++) {
                    float scale = scales.getAtIndex(ValueLayout.JAVA_FLOAT, g * 16 / bs);
                    int isum = 0;
                    for (int i = 16 * g; i < 16 * g + 16; i++) {
                        float want = expected.getAtIndex(ValueLayout.JAVA_FLOAT, i);
                        short q = ints.getAtIndex(ValueLayout.JAVA_SHORT, i);
                        float got = floats.getAtIndex(ValueLayout.JAVA_FLOAT, i);
                        assertEquals(Float.floatToIntBits(want), Float.floatToIntBits(got), format + " value " + i);
                        assertEquals(want, scale * q, format + " value " + i + " = scale * int");
                        assertTrue(q >= -127 && q <= 127, format + " value " + i + " int " + q);
                        isum += q;
                    }
                    assertEquals(scale * isum, sums.getAtIndex(ValueLayout.JAVA_FLOAT, g), format + " sum of group " + g);
                }
                if (format == ActivationFormat.Q8_K) {
                    assertEquals(-127, ints.getAtIndex(ValueLayout.JAVA_SHORT, 600),
                            "the first largest value maps to -127");
                    assertEquals(127, ints.getAtIndex(ValueLayout.JAVA_SHORT, 700));
                }
            }
        }
    }
}
