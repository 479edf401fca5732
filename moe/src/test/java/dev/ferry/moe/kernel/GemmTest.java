package dev.ferry.moe.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class GemmTest {

    /**
     * Four rows by four tokens in one pass must give what two two-row passes give: the same FMAs
     * per lane, so only the lane reduction may differ (interpreted and compiled code sum lanes in
     * different orders).
     */
    @ParameterizedTest(name = "{0} vectors")
    @ValueSource(ints = {1, 3, 64})
    void fourByFourEqualsTwoTwoByFourPasses(int steps) {
        long cols = steps * (long) Gemm.L;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment w = KernelTestData.randomActivations(arena, 4 * (cols + 2) + 2, 3);
            MemorySegment tokens = KernelTestData.randomActivations(arena, 4 * cols, 5);
            MemorySegment grouped = arena.allocate(16 * cols, 64);
            Gemm.interleave(tokens, 0, 4 * cols, 8 * cols, 12 * cols, cols, grouped, 0);
            // weights start at a nonzero offset and rows are cols + 2 floats apart
            long w0 = 8;
            long ws = 4 * (cols + 2);
            float[] two = new float[16];
            float[] four = new float[16];
            Gemm.dot2x4(w, w0, ws, grouped, 0, steps, two, 0, 4);
            Gemm.dot2x4(w, w0 + 2 * ws, ws, grouped, 0, steps, two, 8, 4);
            Gemm.dot4x4(w, w0, ws, grouped, 0, steps, four, 0, 4);
            for (int i = 0; i < 16; i++) {
                assertEquals(two[i], four[i], 1e-6f * Math.max(1, Math.abs(two[i])), "output " + i);
            }
            // and both are the dot products: row r, token t
            for (int r = 0; r < 4; r++) {
                for (int t = 0; t < 4; t++) {
                    double sum = 0;
                    for (long c = 0; c < cols; c++) {
                        sum += (double) w.get(ValueLayout.JAVA_FLOAT, w0 + r * ws + 4 * c)
                                * tokens.getAtIndex(ValueLayout.JAVA_FLOAT, t * cols + c);
                    }
                    assertEquals(sum, four[4 * r + t], 1e-4 * Math.max(1, Math.abs(sum)), "row " + r + " token " + t);
                }
            }
        }
    }

    /**
     * The outer-product block must give every row's dot product with every token of its run,
     * whatever the column count (no multiple of the vector width needed), added to what the
     * output already holds.
     */
    @ParameterizedTest(name = "{0} columns")
    @ValueSource(ints = {1, 7, 512})
    void outerProductBlockGivesEachRowTimesEachToken(int cols) {
        int tokens = Gemm.OUTER_TOKENS;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment w = KernelTestData.randomActivations(arena, 4 * (cols + 3) + 2, 7);
            MemorySegment x = KernelTestData.randomActivations(arena, (long) tokens * cols, 9);
            // tokens taken in reverse order, to a nonzero offset
            int[] order = new int[tokens + 1];
            for (int t = 0; t < tokens; t++) {
                order[t + 1] = tokens - 1 - t;
            }
            long d = 64;
            MemorySegment columns = arena.allocate(d + 4L * tokens * cols, 64);
            Gemm.transpose(x, order, 1, 4L * cols, cols, columns, d);
            long w0 = 8;
            long ws = 4L * (cols + 3);
            int ps = tokens + 5;
            float[] part = new float[3 + 4 * ps];
            java.util.Arrays.fill(part, 0.5f);
            Gemm.outer4x2(w, w0, ws, columns, d, cols, part, 3, ps);
            for (int r = 0; r < 4; r++) {
                for (int t = 0; t < tokens; t++) {
                    double sum = 0.5;
                    for (long c = 0; c < cols; c++) {
                        sum += (double) w.get(ValueLayout.JAVA_FLOAT, w0 + r * ws + 4 * c)
                                * x.getAtIndex(ValueLayout.JAVA_FLOAT, (long) order[t + 1] * cols + c);
                    }
                    assertEquals(sum, part[3 + r * ps + t], 1e-4 * Math.max(1, Math.abs(sum)), "row " + r + " token " + t);
                }
            }
            // floats outside the four runs are untouched
            assertEquals(0.5f, part[0]);
            assertEquals(0.5f, part[3 + tokens]);
        }
    }
}
