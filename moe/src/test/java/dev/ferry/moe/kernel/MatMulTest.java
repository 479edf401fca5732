package dev.ferry.moe.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.hostmemory.ThreadWorkerPool;
import dev.ferry.hostmemory.WorkerPool;
import dev.ferry.loader.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class MatMulTest {

    private static final GgmlType[] TYPES = {GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0,
        GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K,
        GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.IQ4_NL, GgmlType.IQ4_XS, GgmlType.MXFP4};

    private static WorkerPool pool1;
    private static WorkerPool pool2;

    @BeforeAll
    static void startPools() {
        pool1 = new ThreadWorkerPool(1, "kernel-test-1");
        pool2 = new ThreadWorkerPool(2, "kernel-test-2");
    }

    @AfterAll
    static void stopPools() {
        pool1.close();
        pool2.close();
    }

    static Stream<Arguments> shapes() {
        List<Arguments> cases = new ArrayList<>();
        for (GgmlType type : TYPES) {
            int bs = Math.max(type.blockSize(), 1);
            // one block, a few blocks, and more columns than one decode chunk (not a multiple of it)
            long one = type.blockSize() == 1 ? 37 : bs;
            long few = type.blockSize() == 1 ? 100 : 3L * bs;
            long many = type.blockSize() == 1 ? 1100 : (type.blockSize() == 32 ? 1088 : 1280);
            for (Precision p : Precision.values()) {
                cases.add(Arguments.of(type, 5L, one, 1, p, 2));
                cases.add(Arguments.of(type, 37L, few, 3, p, 1));
                cases.add(Arguments.of(type, 9L, many, 17, p, 2));
                cases.add(Arguments.of(type, 13L, few, 64, p, 2));
                // runs of Gemm.OUTER_TOKENS, a group of 4 and a single token after them
                cases.add(Arguments.of(type, 8L, many, Gemm.OUTER_TOKENS + 5, p, 1));
                // wide rows: on AVX2 a token tile holds 32 tokens here, so 37 go in two tiles
                cases.add(Arguments.of(type, 5L, 16384L, 37, p, 2));
                // more rows than one row block, with a run, a group of four and a single token
                cases.add(Arguments.of(type, 70L, few, Gemm.OUTER_TOKENS + 5, p, 2));
                cases.add(Arguments.of(type, 67L, many, 1, p, 2));
                cases.add(Arguments.of(type, 11L, many, 2, p, 1));
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} {1}x{2} tokens={3} {4} pool={5}")
    @MethodSource("shapes")
    void matmulMatchesScalarReference(GgmlType type, long rows, long cols, int tokens, Precision precision,
                                      int workers) {
        try (Arena arena = Arena.ofShared();
             MatMul mm = new MatMul(workers == 1 ? pool1 : pool2, cols + 64, 64, precision)) {
            MemorySegment w = KernelTestData.randomWeights(arena, type, rows, cols, rows * 31 + cols);
            long xStride = cols + 3;
            MemorySegment x = KernelTestData.randomActivations(arena, xStride * tokens, tokens);
            long yStride = rows + 2;
            MemorySegment y = arena.allocate(yStride * tokens * 4);
            y.fill((byte) 0x7f);
            mm.matmul(new WeightMatrix(type, w, rows, cols), x, xStride, tokens, y, yStride);
            double[] mag = new double[(int) (rows * tokens)];
            double[] ref = KernelTestData.reference(type, w, rows, cols, x, xStride, tokens, precision, mag);
            for (int t = 0; t < tokens; t++) {
                for (long r = 0; r < rows; r++) {
                    int i = (int) (t * rows + r);
                    float got = y.getAtIndex(ValueLayout.JAVA_FLOAT, t * yStride + r);
                    if (Math.abs(ref[i] - got) > 1e-5 * mag[i] + 1e-6) {
                        assertEquals(ref[i], got, 1e-5 * mag[i] + 1e-6,
                                type + " token " + t + " row " + r + " of " + rows + "x" + cols);
                    }
                }
                // padding between output rows is left alone
                assertEquals(0x7f7f7f7f, y.getAtIndex(ValueLayout.JAVA_INT, t * yStride + rows));
            }
        }
    }

    @ParameterizedTest(name = "{0} pool={1}")
    @MethodSource("expertCases")
    void matmulExpertsMatchesPerExpertMatmul(GgmlType type, int workers) {
        int experts = 6;
        long rows = 21;
        long cols = 2L * Math.max(type.blockSize(), 32);
        int tokens = 5;
        int topK = 3;
        try (Arena arena = Arena.ofShared();
             MatMul mm = new MatMul(workers == 1 ? pool1 : pool2, cols, 64)) {
            MemorySegment w = KernelTestData.randomWeights(arena, type, rows * experts, cols, 7);
            ExpertWeights ew = new ExpertWeights(type, w, experts, rows, cols);
            MemorySegment x = KernelTestData.randomActivations(arena, cols * tokens, 11);
            ExpertBatch batch = new ExpertBatch(experts, tokens * topK);
            int[][] chosen = {{4, 1, 0}, {1, 4, 2}, {0, 4, 1}, {2, 1, 4}, {1, 2, 0}};
            for (int t = 0; t < tokens; t++) {
                for (int k = 0; k < topK; k++) {
                    batch.add(chosen[t][k], t, t * topK + k);
                }
            }
            assertEquals(4, batch.activeExperts(), "expert 3 and 5 are never chosen");
            MemorySegment out = arena.allocate(rows * tokens * topK * 4);
            mm.matmulExperts(ew, x, cols, batch, out, rows);

            MemorySegment y = arena.allocate(rows * 4);
            for (int t = 0; t < tokens; t++) {
                for (int k = 0; k < topK; k++) {
                    mm.matmul(ew.expert(chosen[t][k]), x.asSlice(t * cols * 4, cols * 4), cols, 1, y, rows);
                    for (long r = 0; r < rows; r++) {
                        float expected = y.getAtIndex(ValueLayout.JAVA_FLOAT, r);
                        float got = out.getAtIndex(ValueLayout.JAVA_FLOAT, (t * topK + k) * rows + r);
                        assertEquals(expected, got, 1e-4f * Math.max(1, Math.abs(expected)),
                                "token " + t + " expert " + chosen[t][k] + " row " + r);
                    }
                }
            }
        }
    }

    @ParameterizedTest(name = "{0} pool={1}")
    @MethodSource("expertCases")
    void decodeWithOneTokenPerExpertMatchesMatmul(GgmlType type, int workers) {
        int experts = 8;
        long rows = 19;
        long cols = 3L * Math.max(type.blockSize(), 32);
        int[] chosen = {6, 1, 3, 4};
        try (Arena arena = Arena.ofShared();
             MatMul mm = new MatMul(workers == 1 ? pool1 : pool2, cols, 1)) {
            MemorySegment w = KernelTestData.randomWeights(arena, type, rows * experts, cols, 23);
            ExpertWeights ew = new ExpertWeights(type, w, experts, rows, cols);
            MemorySegment x = KernelTestData.randomActivations(arena, cols, 29);
            ExpertBatch batch = new ExpertBatch(experts, chosen.length);
            for (int k = 0; k < chosen.length; k++) {
                batch.add(chosen[k], 0, k);
            }
            MemorySegment out = arena.allocate(rows * chosen.length * 4);
            mm.matmulExperts(ew, x, cols, batch, out, rows);
            MemorySegment y = arena.allocate(rows * 4);
            for (int k = 0; k < chosen.length; k++) {
                mm.matmul(ew.expert(chosen[k]), x, cols, 1, y, rows);
                for (long r = 0; r < rows; r++) {
                    float expected = y.getAtIndex(ValueLayout.JAVA_FLOAT, r);
                    // Same kernel calls; the Vector API's interpreted and compiled reductions may differ in the last bit.
                    assertEquals(expected, out.getAtIndex(ValueLayout.JAVA_FLOAT, k * rows + r), 1e-6f * Math.max(1f, Math.abs(expected)),
                            "expert " + chosen[k] + " row " + r);
                }
            }
        }
    }

    static Stream<Arguments> expertCases() {
        List<Arguments> cases = new ArrayList<>();
        for (GgmlType type : new GgmlType[] {GgmlType.Q4_K, GgmlType.Q8_0, GgmlType.F32, GgmlType.Q6_K}) {
            cases.add(Arguments.of(type, 1));
            cases.add(Arguments.of(type, 2));
        }
        return cases.stream();
    }

    @Test
    void unsupportedTypeIsRefusedByName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new WeightMatrix(GgmlType.IQ2_XXS, MemorySegment.ofArray(new byte[66]), 1, 256));
        assertTrue(e.getMessage().contains("IQ2_XXS"), e.getMessage());
    }

    @Test
    void wrongDataSizeIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new WeightMatrix(GgmlType.Q4_K, MemorySegment.ofArray(new byte[143]), 1, 256));
        assertTrue(e.getMessage().contains("144"), e.getMessage());
    }

    @Test
    void tooManyColumnsForTheScratchIsRefused() {
        try (Arena arena = Arena.ofShared(); MatMul mm = new MatMul(pool1, 64, 1)) {
            MemorySegment w = arena.allocate(4L * 128);
            MemorySegment x = arena.allocate(4L * 128);
            MemorySegment y = arena.allocate(4);
            assertThrows(IllegalArgumentException.class,
                    () -> mm.matmul(new WeightMatrix(GgmlType.F32, w, 1, 128), x, 128, 1, y, 1));
        }
    }
}
