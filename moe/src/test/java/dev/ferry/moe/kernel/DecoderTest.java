package dev.ferry.moe.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.ferry.loader.GgmlType;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class DecoderTest {

    private static byte[] fixture(String name) throws IOException {
        try (InputStream in = DecoderTest.class.getResourceAsStream("/fixtures/quants/" + name)) {
            assertNotNull(in, "missing fixture " + name);
            return in.readAllBytes();
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K",
        "Q6_K", "IQ4_NL", "IQ4_XS", "MXFP4"})
    void scalarAndRowDecodersReproduceLlamaCppValuesBitForBit(GgmlType type) throws IOException {
        MemorySegment blocks = MemorySegment.ofArray(fixture(type + ".blocks.bin"));
        MemorySegment expected = MemorySegment.ofArray(fixture(type + ".f32.bin"));
        long values = expected.byteSize() / 4;
        assertEquals(blocks.byteSize(), type.rowBytes(values));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment scalar = arena.allocate(values * 4);
            ScalarDecoder.decodeRow(type, blocks, 0, values, scalar, 0);
            MemorySegment row = arena.allocate(values * 4);
            // decode in chunk-sized pieces, as the kernels do
            for (long c0 = 0; c0 < values; c0 += MatMul.CHUNK) {
                long n = Math.min(MatMul.CHUNK, values - c0);
                RowDecoder.decode(type, blocks, 0, c0, n, row, c0);
            }
            for (long i = 0; i < values; i++) {
                int want = expected.get(ValueLayout.JAVA_INT_UNALIGNED, 4 * i);
                assertEquals(want, scalar.getAtIndex(ValueLayout.JAVA_INT, i),
                        type + " scalar value " + i + ": " + Float.intBitsToFloat(want) + " vs "
                                + scalar.getAtIndex(ValueLayout.JAVA_FLOAT, i));
                assertEquals(want, row.getAtIndex(ValueLayout.JAVA_INT, i),
                        type + " row decoder value " + i + ": " + Float.intBitsToFloat(want) + " vs "
                                + row.getAtIndex(ValueLayout.JAVA_FLOAT, i));
            }
        }
    }

    /** The K-quant runs written for 8 and for 16 lanes, whichever this machine prefers. */
    @ParameterizedTest
    @EnumSource(names = {"Q4_K", "Q6_K"})
    void kQuantRunsOfBothWidthsReproduceLlamaCppValuesBitForBit(GgmlType type) throws IOException {
        MemorySegment blocks = MemorySegment.ofArray(fixture(type + ".blocks.bin"));
        MemorySegment expected = MemorySegment.ofArray(fixture(type + ".f32.bin"));
        long values = expected.byteSize() / 4;
        try (Arena arena = Arena.ofConfined()) {
            for (boolean sixteen : new boolean[] {false, true}) {
                MemorySegment row = arena.allocate(values * 4);
                VectorDecoder.decode(type, blocks, 0, values, row, 0, sixteen);
                for (long i = 0; i < values; i++) {
                    int want = expected.get(ValueLayout.JAVA_INT_UNALIGNED, 4 * i);
                    assertEquals(want, row.getAtIndex(ValueLayout.JAVA_INT, i), type + (sixteen ? " 16" : " 8")
                            + "-lane value " + i + ": " + Float.intBitsToFloat(want) + " vs " + row.getAtIndex(ValueLayout.JAVA_FLOAT, i));
                }
            }
        }
    }
}
