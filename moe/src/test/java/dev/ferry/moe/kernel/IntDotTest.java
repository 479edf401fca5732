package dev.ferry.moe.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ferry.loader.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The integer decode kernels against the double-precision reference on Q8_K-rounded activations. */
class IntDotTest {

    /** The kernels of one vector width: 256 bits (AVX2) or 512 (AVX-512; emulated, slowly, elsewhere). */
    enum Width {
        V256, V512;

        float dot(GgmlType type, MemorySegment w, long w0, long cols, MemorySegment q, long q0, MemorySegment scales,
                  long sc0, MemorySegment sums, long s0, MemorySegment scratch) {
            return this == V256 ? IntDot.dot256(type, w, w0, cols, q, q0, scales, sc0, sums, s0, scratch)
                    : IntDot.dot512(type, w, w0, cols, q, q0, scales, sc0, sums, s0, scratch);
        }

        void pair(MemorySegment w, long w0, long w1, long cols, MemorySegment q, long q0, MemorySegment scales, long sc0,
                  MemorySegment sums, long s0, MemorySegment out, long outIndex, MemorySegment scratch) {
            if (this == V256) {
                IntDot.dotQ4KPair256(w, w0, w1, cols, q, q0, scales, sc0, sums, s0, out, outIndex, scratch);
            } else {
                IntDot512.dotQ4KPair(w, w0, w1, cols, q, q0, scales, sc0, sums, s0, out, outIndex, scratch);
            }
        }
    }

    static Stream<Arguments> cases() {
        List<Arguments> cases = new ArrayList<>();
        for (Width width : Width.values()) {
            cases.add(Arguments.of(width, GgmlType.Q4_0, 3L, 32L)); // one block
            cases.add(Arguments.of(width, GgmlType.Q4_0, 5L, 2080L)); // many blocks, not a multiple of 256
            for (GgmlType type : new GgmlType[] {GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K}) {
                cases.add(Arguments.of(width, type, 3L, 256L)); // one block
                cases.add(Arguments.of(width, type, 7L, 768L)); // a few blocks, an expert's down projection width
                cases.add(Arguments.of(width, type, 5L, 2304L)); // many blocks, more than one decode chunk
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} {1} {2}x{3}")
    @MethodSource("cases")
    void randomRowsMatchTheReference(Width width, GgmlType type, long rows, long cols) {
        assumeTrue(IntDot.AVAILABLE, "no 256-bit vectors on this machine");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment w = KernelTestData.randomWeights(arena, type, rows, cols, 17 * cols + rows);
            MemorySegment x = KernelTestData.randomActivations(arena, cols, cols);
            checkRows(arena, width, type, w, rows, cols, x);
        }
    }

    @ParameterizedTest(name = "{0} {1} {2}x{3}")
    @MethodSource("cases")
    void largestQuantsAndActivationsDoNotOverflow16Bits(Width width, GgmlType type, long rows, long cols) {
        assumeTrue(IntDot.AVAILABLE, "no 256-bit vectors on this machine");
        try (Arena arena = Arena.ofConfined()) {
            // every quant bit set: Q4_0 and Q4_K nibbles 15 (Q5_K values 31) with 6-bit scales and
            // minimums 63, Q6_K quants 63 with int8 scales -1; activations all equal, so every one
            // rounds to -127
            MemorySegment w = arena.allocate(type.rowBytes(cols) * rows, 64);
            w.fill((byte) 0xFF);
            for (long b = 0; b < w.byteSize() / type.blockBytes(); b++) {
                long o = b * type.blockBytes();
                long scaleAt = type == GgmlType.Q6_K ? o + 208 : o;
                w.set(ValueLayout.JAVA_SHORT_UNALIGNED, scaleAt, Float.floatToFloat16(0.0123f));
                if (type == GgmlType.Q4_K || type == GgmlType.Q5_K) {
                    w.set(ValueLayout.JAVA_SHORT_UNALIGNED, o + 2, Float.floatToFloat16(0.002f));
                }
            }
            MemorySegment x = arena.allocate(cols * 4, 64);
            for (long i = 0; i < cols; i++) {
                x.setAtIndex(ValueLayout.JAVA_FLOAT, i, 0.75f);
            }
            checkRows(arena, width, type, w, rows, cols, x);
        }
    }

    /**
     * Checks every row against the reference, with the activations as the second token of two
     * (the first holds other values), so a kernel that ignores an offset fails.
     */
    private static void checkRows(Arena arena, Width width, GgmlType type, MemorySegment w, long rows, long cols,
                                  MemorySegment x) {
        MemorySegment act = arena.allocate(2 * cols * 4, 64);
        MemorySegment ints = arena.allocate(2 * cols * 2, 64);
        MemorySegment scales = arena.allocate(2 * (cols / 32) * 4, 64);
        MemorySegment sums = arena.allocate(2 * (cols / 16) * 4, 64);
        MemorySegment other = KernelTestData.randomActivations(arena, cols, 3 * cols + 1);
        ActivationFormat format = Precision.QUANTIZED.activationFormat(type);
        ActivationQuantizer.roundQ8(format, other, 0, cols, act, 0, ints, 0, scales, 0, sums, 0);
        long q0 = cols * 2;
        long sc0 = (cols / 32) * 4;
        long s0 = (cols / 16) * 4;
        // roundQ8 takes element indices, the kernels byte offsets
        ActivationQuantizer.roundQ8(format, x, 0, cols, act, cols, ints, cols, scales, cols / 32, sums, cols / 16);
        MemorySegment scratch = arena.allocate(IntDot.scratchBytes(cols), 64);
        double[] mag = new double[(int) rows];
        double[] ref = KernelTestData.reference(type, w, rows, cols, x, cols, 1, Precision.QUANTIZED, mag);
        for (long r = 0; r < rows; r++) {
            float got = width.dot(type, w, r * type.rowBytes(cols), cols, ints, q0, scales, sc0, sums, s0, scratch);
            assertEquals(ref[(int) r], got, 1e-5 * mag[(int) r] + 1e-6,
                    width + " " + type + " row " + r + " of " + rows + "x" + cols);
        }
        if (type == GgmlType.Q4_K) {
            MemorySegment pair = arena.allocate(12);
            for (long r = 0; r + 1 < rows; r++) {
                width.pair(w, r * type.rowBytes(cols), (r + 1) * type.rowBytes(cols), cols, ints, q0, scales, sc0, sums,
                        s0, pair, 1, scratch);
                for (int i = 0; i < 2; i++) {
                    int row = (int) r + i;
                    assertEquals(ref[row], pair.getAtIndex(ValueLayout.JAVA_FLOAT, 1 + i), 1e-5 * mag[row] + 1e-6,
                            width + " pair kernel row " + row + " of " + rows + "x" + cols);
                }
            }
        }
    }
}
