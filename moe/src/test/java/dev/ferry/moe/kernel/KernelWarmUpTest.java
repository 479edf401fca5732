package dev.ferry.moe.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.loader.GgmlType;
import java.lang.foreign.Arena;
import java.util.List;
import org.junit.jupiter.api.Test;

class KernelWarmUpTest {

    private static final long NO_LIMIT = Long.MAX_VALUE;

    private static WeightMatrix random(Arena arena, GgmlType type, long rows, long cols, long seed) {
        return new WeightMatrix(type, KernelTestData.randomWeights(arena, type, rows, cols, seed), rows, cols);
    }

    @Test
    void everyTypesDecodeStepRunsBeforeAnyBatchStepInTheGivenOrder() {
        try (Arena arena = Arena.ofShared()) {
            List<WeightMatrix> matrices = List.of(random(arena, GgmlType.Q6_K, 80, 512, 1),
                    random(arena, GgmlType.Q8_0, 40, 96, 2));
            KernelWarmUp.Report report = KernelWarmUp.run(matrices, Precision.QUANTIZED, 50_000_000L, NO_LIMIT);

            List<String> order = report.steps().stream().map(s -> s.type() + "x" + s.tokens()).toList();
            int batch = KernelWarmUp.BATCH_TOKENS;
            assertEquals(List.of("Q6_Kx1", "Q8_0x1", "Q6_Kx" + batch, "Q8_0x" + batch), order);
            assertTrue(report.summary().startsWith("kernels warmed up in "), report.summary());
            assertTrue(report.summary().contains("(Q6_K, Q8_0)"), report.summary());
        }
    }

    @Test
    void theBatchStepCoversAnOuterRunGroupsOfFourAndARemainder() {
        // a run for the outer-product block where it is used, then groups of four and a remainder
        int expected = (Gemm.OUTER_PRODUCT ? Gemm.OUTER_TOKENS : 0) + 4 + 3;
        assertEquals(expected, KernelWarmUp.BATCH_TOKENS);
        assertTrue(KernelWarmUp.BATCH_TOKENS % 4 != 0, "a remainder past the groups of four");
    }

    @Test
    void aStepWithNoTimeLeftStopsAfterOneCall() {
        try (Arena arena = Arena.ofShared()) {
            KernelWarmUp.Report report = KernelWarmUp.run(List.of(random(arena, GgmlType.Q4_K, 8, 256, 3)),
                    Precision.QUANTIZED, 0, NO_LIMIT);

            assertEquals(List.of(1, 1), report.steps().stream().map(KernelWarmUp.Step::calls).toList());
        }
    }

    @Test
    void stepsPastTheTotalBudgetAreReportedWithoutCallsAndAsNotCompiled() {
        try (Arena arena = Arena.ofShared()) {
            KernelWarmUp.Report report = KernelWarmUp.run(List.of(random(arena, GgmlType.Q4_K, 8, 256, 4),
                    random(arena, GgmlType.F32, 8, 64, 5)), Precision.QUANTIZED, NO_LIMIT, 0);

            assertEquals(4, report.steps().size());
            assertTrue(report.steps().stream().allMatch(s -> s.calls() == 0 && !s.compiled()));
            assertFalse(report.compiled());
            int batch = KernelWarmUp.BATCH_TOKENS;
            assertTrue(report.summary().endsWith("; not yet compiled: Q4_K x1, F32 x1, Q4_K x" + batch + ", F32 x" + batch),
                    report.summary());
        }
    }

    @Test
    void warmUpMatricesAreCutToTheirFirstSixtyFourRows() {
        try (Arena arena = Arena.ofShared()) {
            WeightMatrix tall = random(arena, GgmlType.Q8_0, 80, 64, 6);
            WeightMatrix low = random(arena, GgmlType.Q8_0, 40, 64, 7);

            WeightMatrix cut = KernelWarmUp.head(tall);
            assertEquals(64, cut.rows());
            assertEquals(tall.data().address(), cut.data().address());
            assertEquals(64 * tall.rowBytes(), cut.data().byteSize());
            assertEquals(40, KernelWarmUp.head(low).rows());
        }
    }

    @Test
    void theSummaryNamesTheStepsThatRanOutOfTime() {
        KernelWarmUp.Step fast = new KernelWarmUp.Step(GgmlType.Q6_K, 1, 900, 500, 0.02, true, 2500);
        KernelWarmUp.Step slow = new KernelWarmUp.Step(GgmlType.Q4_K, 7, 40, 80, 30, false, 8000);

        KernelWarmUp.Report done = new KernelWarmUp.Report(List.of(fast), 2600, null);
        KernelWarmUp.Report partial = new KernelWarmUp.Report(List.of(fast, slow), 10600, null);

        assertEquals("kernels warmed up in 2.60 s (Q6_K)", done.summary());
        assertTrue(done.compiled());
        assertEquals("kernels warmed up in 10.60 s (Q6_K, Q4_K); not yet compiled: Q4_K x7", partial.summary());
        assertFalse(partial.compiled());
    }

    @Test
    void aSkippedWarmUpSaysWhyAndHasNoSteps() {
        KernelWarmUp.Report report = KernelWarmUp.Report.skipped("small model");

        assertEquals("no kernel warm-up: small model", report.summary());
        assertFalse(report.compiled());
        KernelWarmUp.Step step = new KernelWarmUp.Step(GgmlType.Q6_K, 1, 1, 1, 1, true, 1);
        assertThrows(IllegalArgumentException.class, () -> new KernelWarmUp.Report(List.of(step), 1, "small model"));
    }
}
