package dev.ferry.moe.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.loader.GgmlType;
import java.lang.foreign.Arena;
import java.util.List;
import org.junit.jupiter.api.Test;

class KernelWarmUpTest {

    private static WeightMatrix random(Arena arena, GgmlType type, long rows, long cols, long seed) {
        return new WeightMatrix(type, KernelTestData.randomWeights(arena, type, rows, cols, seed), rows, cols);
    }

    @Test
    void everyTypesDecodeStepRunsBeforeAnyBatchStepInTheGivenOrder() {
        try (Arena arena = Arena.ofShared()) {
            List<WeightMatrix> matrices = List.of(random(arena, GgmlType.Q6_K, 80, 512, 1),
                    random(arena, GgmlType.Q8_0, 40, 96, 2));
            KernelWarmUp.Report report = KernelWarmUp.run(matrices, Precision.QUANTIZED, 50_000_000L);

            List<String> order = report.steps().stream().map(s -> s.type() + "x" + s.tokens()).toList();
            assertEquals(List.of("Q6_Kx1", "Q8_0x1", "Q6_Kx7", "Q8_0x7"), order);
            double stepsMillis = 0;
            for (KernelWarmUp.Step s : report.steps()) {
                assertTrue(s.calls() >= 1, s::toString);
                assertTrue(s.bestMillis() <= s.firstMillis(), s::toString);
                stepsMillis += s.millis();
            }
            assertTrue(report.millis() >= stepsMillis, "the whole warm-up takes at least its steps");
            assertTrue(report.summary().startsWith("kernels warmed up in "), report.summary());
            assertTrue(report.summary().contains("(Q6_K, Q8_0)"), report.summary());
        }
    }

    @Test
    void aStepWithNoTimeLeftStopsAfterOneCallAndSaysSoWhenNotCompiled() {
        try (Arena arena = Arena.ofShared()) {
            KernelWarmUp.Report report = KernelWarmUp.run(List.of(random(arena, GgmlType.Q4_K, 8, 256, 3)),
                    Precision.QUANTIZED, 0);

            assertEquals(2, report.steps().size());
            for (KernelWarmUp.Step s : report.steps()) {
                assertEquals(1, s.calls(), s::toString);
                assertEquals(s.firstMillis(), s.bestMillis(), s::toString);
            }
            boolean allCompiled = report.steps().stream().allMatch(KernelWarmUp.Step::compiled);
            assertEquals(allCompiled, report.compiled());
            assertEquals(!allCompiled, report.summary().contains("not yet compiled: "), report.summary());
        }
    }

    @Test
    void aSkippedWarmUpSaysWhy() {
        KernelWarmUp.Report report = KernelWarmUp.Report.skipped("small model");

        assertEquals("no kernel warm-up: small model", report.summary());
        assertTrue(report.steps().isEmpty());
    }
}
