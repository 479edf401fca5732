package dev.ferry.moe.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.loader.GgmlType;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class DecodersTest {
    /** The types issue 3 requires, which must decode bit-exactly. */
    private static final Set<GgmlType> REQUIRED = EnumSet.of(
            GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_1,
            GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K,
            GgmlType.Q6_K, GgmlType.IQ4_NL, GgmlType.IQ4_XS, GgmlType.MXFP4);

    static byte[] fixture(String name) throws IOException {
        try (InputStream in = DecodersTest.class.getResourceAsStream("/fixtures/quants/" + name)) {
            if (in == null) {
                throw new IOException("missing test fixture /fixtures/quants/" + name);
            }
            return in.readAllBytes();
        }
    }

    @Test
    void everyRequiredTypeIsSupported() {
        assertTrue(Decoders.supported().containsAll(REQUIRED), () -> "supported: " + Decoders.supported());
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1",
            "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ4_NL", "IQ4_XS", "MXFP4", "NVFP4", "TQ1_0", "TQ2_0"})
    void decodesLlamaCppFixtureBitForBit(GgmlType type) throws IOException {
        byte[] blocks = fixture(type.name() + ".blocks.bin");
        byte[] expectedBytes = fixture(type.name() + ".f32.bin");
        int n = expectedBytes.length / Float.BYTES;
        assertEquals(type.rowBytes(n), blocks.length, "fixture block bytes for " + n + " values");

        float[] decoded = Decoders.dequantize(type, MemorySegment.ofArray(blocks), 0, n);

        ByteBuffer expected = ByteBuffer.wrap(expectedBytes).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            int want = expected.getInt(i * 4);
            int got = Float.floatToRawIntBits(decoded[i]);
            if (want != got) {
                throw new AssertionError(String.format("%s value %d (block %d): want %s (0x%08x), got %s (0x%08x)",
                        type, i, i / type.blockSize(), Float.intBitsToFloat(want), want, decoded[i], got));
            }
        }
        assertTrue(n >= 2048, "fixture covers at least 2048 values, had " + n);
    }

    @Test
    void offHeapRowAtOffsetMatchesHeapDecode() throws IOException {
        byte[] blocks = fixture("Q4_K.blocks.bin");
        int n = 3 * 256;
        long srcOffset = GgmlType.Q4_K.blockBytes(); // start at the second block
        float[] expected = Decoders.dequantize(GgmlType.Q4_K, MemorySegment.ofArray(blocks), srcOffset, n);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment src = arena.allocate(blocks.length + 7);
            MemorySegment.copy(blocks, 0, src, ValueLayout.JAVA_BYTE, 7, blocks.length);
            MemorySegment dst = arena.allocate((n + 3) * 4L);
            Decoders.of(GgmlType.Q4_K).decodeRow(src, 7 + srcOffset, dst, 12, n);
            for (int i = 0; i < n; i++) {
                assertEquals(Float.floatToRawIntBits(expected[i]),
                        Float.floatToRawIntBits(dst.get(Bytes.LE_FLOAT, 12 + i * 4L)), "value " + i);
            }
        }
    }

    @Test
    void f32CopiesBitsIncludingNanPayloadAndNegativeZero() {
        float[] values = {-0.0f, 1.5f, Float.intBitsToFloat(0x7FA00001), Float.NEGATIVE_INFINITY, Float.MIN_VALUE};
        MemorySegment src = MemorySegment.ofArray(values.clone());
        float[] out = new float[values.length];
        Decoders.dequantize(GgmlType.F32, src, out);
        for (int i = 0; i < values.length; i++) {
            assertEquals(Float.floatToRawIntBits(values[i]), Float.floatToRawIntBits(out[i]), "value " + i);
        }
    }

    @Test
    void f16HandPickedValuesDecodeExactly() {
        short[] halves = {0x3C00, (short) 0xC000, 0x0001, (short) 0x8000, 0x7BFF, 0x7C00, (short) 0xFC00, 0x03FF, 0x7E00};
        float[] out = new float[halves.length];
        Decoders.dequantize(GgmlType.F16, MemorySegment.ofArray(halves), out);
        assertEquals(1.0f, out[0]);
        assertEquals(-2.0f, out[1]);
        assertEquals(0x1p-24f, out[2]);
        assertEquals(0x80000000, Float.floatToRawIntBits(out[3]));
        assertEquals(65504.0f, out[4]);
        assertEquals(Float.POSITIVE_INFINITY, out[5]);
        assertEquals(Float.NEGATIVE_INFINITY, out[6]);
        assertEquals(1023 * 0x1p-24f, out[7]);
        assertEquals(0x7FC00000, Float.floatToRawIntBits(out[8]));
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"IQ1_S", "IQ1_M", "IQ2_XXS", "IQ2_XS", "IQ2_S", "IQ3_XXS", "IQ3_S",
            "Q8_1", "Q8_K", "I8", "I16", "I32", "I64", "F64"})
    void refusesUnsupportedTypeByName(GgmlType type) {
        assertFalse(Decoders.isSupported(type));
        UnsupportedTensorTypeException e = assertThrows(UnsupportedTensorTypeException.class, () -> Decoders.of(type));
        assertSame(type, e.type());
        assertTrue(e.getMessage().startsWith("tensor type " + type + " "), e.getMessage());
        assertTrue(e.getMessage().contains("not supported yet"), e.getMessage());
        assertTrue(e.getMessage().contains("supported: F32, F16, Q4_0"), e.getMessage());
    }

    @Test
    void refusesRemovedTypeSayingItWasRemoved() {
        UnsupportedTensorTypeException e = assertThrows(UnsupportedTensorTypeException.class,
                () -> Decoders.of(GgmlType.Q4_0_4_4));
        assertTrue(e.getMessage().contains("Q4_0_4_4") && e.getMessage().contains("removed"), e.getMessage());
    }

    @Test
    void rejectsPartialBlocksAndShortSegments() {
        BlockDecoder q8 = Decoders.of(GgmlType.Q8_0);
        MemorySegment src = MemorySegment.ofArray(new byte[34]);
        MemorySegment dst = MemorySegment.ofArray(new float[64]);
        IllegalArgumentException partial = assertThrows(IllegalArgumentException.class,
                () -> q8.decodeRow(src, 0, dst, 0, 31));
        assertTrue(partial.getMessage().contains("Q8_0") && partial.getMessage().contains("n=31"), partial.getMessage());
        IllegalArgumentException tooShort = assertThrows(IllegalArgumentException.class,
                () -> q8.decodeRow(src, 0, dst, 0, 64));
        assertTrue(tooShort.getMessage().contains("68 bytes"), tooShort.getMessage());
    }
}
