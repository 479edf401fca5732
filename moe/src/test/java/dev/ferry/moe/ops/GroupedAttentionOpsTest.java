package dev.ferry.moe.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Attention's vector operations against scalar sums: the four-head blocks ({@link VectorOps#dot4},
 * {@link VectorOps#weightedRows4}) and the softmax over a row of scores.
 */
class GroupedAttentionOpsTest {

    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private static MemorySegment random(Arena arena, long floats, long seed) {
        MemorySegment m = arena.allocate(floats * 4, 64);
        SplittableRandom rnd = new SplittableRandom(seed);
        for (long i = 0; i < floats; i++) {
            m.setAtIndex(FLOAT, i, (float) rnd.nextGaussian());
        }
        return m;
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 64, 128, 131})
    void dot4GivesFourScaledDotProductsOfOneRow(int n) {
        try (Arena arena = Arena.ofConfined()) {
            long ao = 3;
            long bo = 5;
            long bStride = n + 9;
            MemorySegment a = random(arena, ao + n, 1);
            MemorySegment b = random(arena, bo + 4 * bStride, 2);
            long o = 2;
            long outStride = 11;
            MemorySegment out = arena.allocate((o + 4 * outStride) * 4, 64);
            out.fill((byte) 0x7F);
            VectorOps.dot4(a, ao, b, bo, bStride, n, 0.25f, out, o, outStride);
            for (int j = 0; j < 4; j++) {
                double expected = 0;
                for (int i = 0; i < n; i++) {
                    expected += (double) a.getAtIndex(FLOAT, ao + i) * b.getAtIndex(FLOAT, bo + j * bStride + i);
                }
                assertEquals(0.25 * expected, out.getAtIndex(FLOAT, o + j * outStride), 1e-4 * Math.sqrt(n),
                        "head " + j);
                // the floats between the four results are not written
                assertEquals(0x7F7F7F7F, Float.floatToRawIntBits(out.getAtIndex(FLOAT, o + j * outStride + 1)));
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"1, 128", "5, 128", "37, 128", "9, 40", "3, 5"})
    void weightedRows4OverwritesFourHeadsWithTheirWeightedSums(int count, int n) {
        try (Arena arena = Arena.ofConfined()) {
            long wo = 4;
            long wStride = count + 3;
            long xo = 6;
            long xStride = n + 17;
            MemorySegment w = random(arena, wo + 4 * wStride, 3);
            MemorySegment x = random(arena, xo + count * xStride, 4);
            long oo = 1;
            long outStride = n + 2;
            MemorySegment out = arena.allocate((oo + 4 * outStride) * 4, 64);
            out.fill((byte) 0x7F);
            VectorOps.weightedRows4(w, wo, wStride, x, xo, xStride, count, n, out, oo, outStride);
            for (int j = 0; j < 4; j++) {
                for (int d = 0; d < n; d++) {
                    double expected = 0;
                    for (int p = 0; p < count; p++) {
                        expected += (double) w.getAtIndex(FLOAT, wo + j * wStride + p)
                                * x.getAtIndex(FLOAT, xo + p * xStride + d);
                    }
                    assertEquals(expected, out.getAtIndex(FLOAT, oo + j * outStride + d), 1e-4 * Math.sqrt(count),
                            "head " + j + ", value " + d);
                }
                // the two floats between heads are left as they were
                assertEquals(0x7F7F7F7F, Float.floatToRawIntBits(out.getAtIndex(FLOAT, oo + j * outStride + n)));
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 16, 512, 4099})
    void softmaxMatchesTheDoubleReference(int n) {
        try (Arena arena = Arena.ofConfined()) {
            long xo = 3;
            MemorySegment x = random(arena, xo + n + 1, n);
            // scores as attention makes them, spread over a wide range
            for (long i = 0; i < n; i++) {
                x.setAtIndex(FLOAT, xo + i, 12 * x.getAtIndex(FLOAT, xo + i));
            }
            float after = x.getAtIndex(FLOAT, xo + n);
            double max = Double.NEGATIVE_INFINITY;
            for (long i = 0; i < n; i++) {
                max = Math.max(max, x.getAtIndex(FLOAT, xo + i));
            }
            double[] expected = new double[n];
            double sum = 0;
            for (int i = 0; i < n; i++) {
                expected[i] = Math.exp(x.getAtIndex(FLOAT, xo + i) - max);
                sum += expected[i];
            }
            VectorOps.softmax(x, xo, n);
            double total = 0;
            for (int i = 0; i < n; i++) {
                float p = x.getAtIndex(FLOAT, xo + i);
                assertEquals(expected[i] / sum, p, 2e-6 * Math.max(1e-3, expected[i] / sum) + 1e-9, "value " + i);
                total += p;
            }
            assertEquals(1.0, total, 1e-5);
            assertEquals(Float.floatToRawIntBits(after), Float.floatToRawIntBits(x.getAtIndex(FLOAT, xo + n)));
        }
    }
}
