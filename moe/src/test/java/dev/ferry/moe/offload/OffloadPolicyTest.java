package dev.ferry.moe.offload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class OffloadPolicyTest {

    private static final int EXPERTS = 128;
    private static final int USED = 8;
    private static final long BYTES_PER_EXPERT = 3_000_000;
    private static final long FLOPS_PER_PAIR = 10_000_000;
    private static final double CPU_BYTES = 50e9;
    private static final double CPU_FLOPS = 500e9;
    private static final double GPU_FLOPS = 200e12;
    private static final double GPU_FIXED = 100e-6;

    private static OffloadCosts costs(double uploadBytesPerSecond) {
        return new OffloadCosts(CPU_BYTES, CPU_FLOPS, uploadBytesPerSecond, GPU_FLOPS, GPU_FIXED);
    }

    /** Every pair on its own expert until all experts are routed (the most bytes for a token count). */
    private static ExpertWork work(int tokens) {
        int pairs = tokens * USED;
        return new ExpertWork(tokens, pairs, Math.min(EXPERTS, pairs), BYTES_PER_EXPERT, FLOPS_PER_PAIR);
    }

    @Test
    void costFormulasAreTheDocumentedMaxima() {
        OffloadCosts c = costs(25e9);
        ExpertWork w = work(100);
        assertEquals(Math.max(128 * 3e6 / 50e9, 800 * 1e7 / 500e9), c.cpuSeconds(w), 1e-15);
        assertEquals(Math.max(128 * 3e6 / 25e9, 800 * 1e7 / 200e12) + 100e-6, c.gpuSeconds(w), 1e-15);
    }

    @Test
    void costModelKeepsOneTokenOnTheCpuAndSendsALargeBatchToTheGpu() {
        OffloadPolicy policy = OffloadPolicy.costModel(costs(25e9));
        OffloadDecision one = policy.decide(work(1));
        assertFalse(one.onGpu(), one.reason());
        assertTrue(one.cpuSeconds() < one.gpuSeconds());
        OffloadDecision big = policy.decide(work(2048));
        assertTrue(big.onGpu(), big.reason());
        assertTrue(big.gpuSeconds() < big.cpuSeconds());
    }

    /**
     * With every expert routed, the GPU is upload-bound ({@code E*B/U + fixed}) and the CPU
     * flop-bound ({@code t*k*F/cf}), so the first GPU batch is
     * {@code floor((E*B/U + fixed) * cf / (k*F)) + 1}: 193, 97 and 49 tokens at 12.5, 25 and 50 GB/s.
     */
    @Test
    void flipPointIsWhereCpuSecondsExceedGpuSecondsAndFallsAsTheLinkGetsFaster() {
        int previous = Integer.MAX_VALUE;
        for (double upload : new double[] {12.5e9, 25e9, 50e9}) {
            OffloadCosts c = costs(upload);
            int boundary = (int) Math.floor((EXPERTS * BYTES_PER_EXPERT / upload + GPU_FIXED) * CPU_FLOPS
                    / (USED * FLOPS_PER_PAIR)) + 1;
            OffloadPolicy policy = OffloadPolicy.costModel(c);
            int firstGpu = -1;
            for (int t = 1; t <= 1000; t++) {
                boolean gpu = policy.decide(work(t)).onGpu();
                assertEquals(c.cpuSeconds(work(t)) > c.gpuSeconds(work(t)), gpu, "tokens " + t);
                if (gpu && firstGpu < 0) {
                    firstGpu = t;
                }
                if (firstGpu > 0) {
                    assertTrue(gpu, "once on the GPU, larger batches stay there: " + t + " tokens at " + upload);
                }
            }
            assertEquals(boundary, firstGpu, "flip point at " + upload / 1e9 + " GB/s");
            assertTrue(firstGpu < previous, firstGpu + " should be below " + previous);
            previous = firstGpu;
        }
        assertEquals(49, previous);
    }

    @Test
    void tiesStayOnTheCpu() {
        // 1 token, 1 expert: CPU 1 s of bytes, GPU 1 s of upload and nothing else.
        OffloadCosts c = new OffloadCosts(1000, 1e12, 1000, 1e12, 0);
        OffloadDecision d = OffloadPolicy.costModel(c).decide(new ExpertWork(1, 1, 1, 1000, 10));
        assertEquals(d.cpuSeconds(), d.gpuSeconds());
        assertFalse(d.onGpu());
    }

    @Test
    void fixedBatchOffloadsFromItsTokenCount() {
        OffloadPolicy policy = OffloadPolicy.fixedBatch(64);
        assertFalse(policy.decide(work(63)).onGpu());
        assertTrue(policy.decide(work(64)).onGpu());
        assertTrue(policy.decide(work(4096)).onGpu());
        assertTrue(Double.isNaN(policy.decide(work(64)).cpuSeconds()));
        assertTrue(policy.describe().contains("64"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OffloadPolicy.fixedBatch(0));
        assertTrue(e.getMessage().contains("--offload-batch-size"), e.getMessage());
    }

    @Test
    void cpuOnlyNeverOffloads() {
        OffloadPolicy policy = OffloadPolicy.cpuOnly();
        assertFalse(policy.decide(work(1)).onGpu());
        assertFalse(policy.decide(work(100_000)).onGpu());
        assertTrue(policy.describe().contains("--no-op-offload"));
    }

    @Test
    void expertWorkAndCostsRefuseNonsense() {
        assertThrows(IllegalArgumentException.class, () -> new ExpertWork(1, 2, 3, 10, 10));
        assertThrows(IllegalArgumentException.class, () -> new ExpertWork(-1, 0, 0, 10, 10));
        assertThrows(IllegalArgumentException.class, () -> new OffloadCosts(0, 1, 1, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> new OffloadCosts(1, 1, Double.POSITIVE_INFINITY, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> new OffloadCosts(1, 1, 1, 1, -1));
    }

    @Test
    void uniformWorkCountsExpectedDistinctExperts() {
        assertEquals(8, ExpertWork.uniform(1, 8, 128, 1, 1).routedExperts());
        assertEquals(128, ExpertWork.uniform(2048, 8, 128, 1, 1).routedExperts());
        // 2 tokens, 8 of 128: 128 * (1 - (120/128)^2) = 15.5 -> 16 distinct experts expected.
        ExpertWork two = ExpertWork.uniform(2, 8, 128, 1, 1);
        assertEquals(16, two.pairs());
        assertEquals(16, two.routedExperts());
    }
}
