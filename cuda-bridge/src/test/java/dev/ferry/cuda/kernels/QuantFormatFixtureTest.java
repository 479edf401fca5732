package dev.ferry.cuda.kernels;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * Every decoder (the twin of the CUDA dequantizers) reproduces the values llama.cpp's gguf-py
 * decodes from the same blocks, bit for bit, and the F16 dequant twin rounds them like
 * {@code Float.floatToFloat16}.
 */
class QuantFormatFixtureTest {

    @ParameterizedTest
    @EnumSource(QuantFormat.class)
    void decodesFixtureBlocksExactly(QuantFormat format) throws IOException {
        byte[] blocks = read("/fixtures/quants/" + format.name() + ".blocks.bin");
        byte[] values = read("/fixtures/quants/" + format.name() + ".f32.bin");
        long blockCount = blocks.length / format.blockBytes();
        assertEquals(blocks.length, blockCount * format.blockBytes(), "fixture holds whole blocks");
        assertEquals(blockCount * format.blockValues() * 4, values.length, "fixture value count");
        MemorySegment b = MemorySegment.ofArray(blocks);
        MemorySegment v = MemorySegment.ofArray(values);
        for (long blk = 0; blk < blockCount; blk++) {
            for (int i = 0; i < format.blockValues(); i++) {
                float expected = v.get(ValueLayout.JAVA_FLOAT_UNALIGNED, (blk * format.blockValues() + i) * 4);
                float got = format.value(b, blk * format.blockBytes(), i);
                assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(got),
                        () -> format + " block " + " value mismatch: expected " + expected + ", got " + got);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(QuantFormat.class)
    void dequantToF16RoundsTheFixtureValues(QuantFormat format) throws IOException {
        byte[] blocks = read("/fixtures/quants/" + format.name() + ".blocks.bin");
        byte[] values = read("/fixtures/quants/" + format.name() + ".f32.bin");
        long count = values.length / 4;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment in = arena.allocate(blocks.length);
            MemorySegment.copy(MemorySegment.ofArray(blocks), 0, in, 0, blocks.length);
            MemorySegment out = arena.allocate(count * 2);
            CpuTwins.dequantToF16(format, in, out, count);
            MemorySegment v = MemorySegment.ofArray(values);
            for (long i = 0; i < count; i++) {
                short expected = Float.floatToFloat16(v.get(ValueLayout.JAVA_FLOAT_UNALIGNED, i * 4));
                assertEquals(expected, out.get(ValueLayout.JAVA_SHORT_UNALIGNED, i * 2), "value " + i);
            }
        }
    }

    private byte[] read(String resource) throws IOException {
        try (InputStream in = getClass().getResourceAsStream(resource)) {
            assertNotNull(in, resource + " is on the test class path");
            return in.readAllBytes();
        }
    }
}
