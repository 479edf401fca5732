package dev.ferry.moe.offload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.cuda.HostMemoryKind;
import dev.ferry.cuda.sim.SimulatedDevice;
import dev.ferry.cuda.sim.SimulatedLink;
import dev.ferry.cuda.kernels.KernelRegistry;
import dev.ferry.hostmemory.ThreadWorkerPool;
import dev.ferry.hostmemory.WorkerPool;
import dev.ferry.loader.GgmlType;
import dev.ferry.moe.kernel.Precision;
import dev.ferry.moe.placement.ExpertProjection;
import dev.ferry.moe.plan.PinnedCache;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class OffloadCalibrationTest {

    private static final int EXPERTS = 8;
    private static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());
    private static WorkerPool pool;

    @BeforeAll
    static void startPool() {
        pool = new ThreadWorkerPool(2, "offload-calibration-test");
    }

    @AfterAll
    static void stopPool() {
        pool.close();
    }

    private static OffloadCosts measure(SimulatedLink link, PinnedCache setting) {
        try (Arena arena = Arena.ofShared();
             SimulatedDevice device = new SimulatedDevice(link, KernelRegistry.withStandardTwins(), 1L << 30)) {
            List<HostExpertTensor> tensors = ExpertTensors.create(arena, 1, EXPERTS, OptionalInt.empty());
            try (PinnedExpertCache cache = PinnedExpertCache.create(device, tensors, setting, OptionalInt.empty(),
                    Optional.empty(), QUIET)) {
                return OffloadCalibration.measure(device, cache, tensors, pool, Precision.QUANTIZED);
            }
        }
    }

    /** What the simulated link models for one expert projection's copy. */
    private static double modelledRate(SimulatedLink link, HostMemoryKind kind) {
        long bytes = ExpertTensors.EXPERT_BYTES;
        return bytes / link.seconds(dev.ferry.cuda.CopyDirection.HOST_TO_DEVICE, kind, bytes);
    }

    @Test
    void ratesOnTheSimulatedDeviceArePositiveFiniteAndSayWhatIsAssumed() {
        OffloadCosts c = measure(SimulatedLink.pcie4x16(), new PinnedCache(PinnedCache.Mode.FULL, 0));
        for (double rate : new double[] {c.cpuBytesPerSecond(), c.cpuFlopsPerSecond(), c.uploadBytesPerSecond(),
                c.gpuFlopsPerSecond(), c.gpuFixedSeconds()}) {
            assertTrue(rate > 0 && Double.isFinite(rate), c.describe());
        }
        assertEquals(OffloadCalibration.ASSUMED_GPU_FLOPS_PER_SECOND, c.gpuFlopsPerSecond());
        assertTrue(c.describe().contains("assumed"), c.describe());
        assertTrue(c.describe().contains("pinned"), c.describe());
        // Pinned uploads of 8 KiB each, timed by the simulated link's model: latency + bytes / 25 GB/s.
        assertEquals(modelledRate(SimulatedLink.pcie4x16(), HostMemoryKind.PINNED), c.uploadBytesPerSecond(),
                1e-9 * c.uploadBytesPerSecond());
    }

    @Test
    void aFasterLinkGivesAHigherUploadRate() {
        SimulatedLink slow = SimulatedLink.pcie4x16();
        SimulatedLink fast = slow.withPinnedGBps(100);
        PinnedCache full = new PinnedCache(PinnedCache.Mode.FULL, 0);
        double slowRate = measure(slow, full).uploadBytesPerSecond();
        double fastRate = measure(fast, full).uploadBytesPerSecond();
        assertTrue(fastRate > slowRate, fastRate + " vs " + slowRate);
        assertEquals(modelledRate(fast, HostMemoryKind.PINNED), fastRate, 1e-9 * fastRate);
    }

    @Test
    void withoutAPinnedCacheUploadsAreTimedFromPageableMemory() {
        SimulatedLink link = SimulatedLink.pcie4x16();
        OffloadCosts none = measure(link, PinnedCache.none());
        assertEquals(modelledRate(link, HostMemoryKind.PAGEABLE), none.uploadBytesPerSecond(),
                1e-9 * none.uploadBytesPerSecond());
        assertTrue(none.describe().contains("pageable"), none.describe());
    }

    @Test
    void aCappedCacheTimesStagedMissesToo() {
        OffloadCosts capped = measure(SimulatedLink.pcie4x16(),
                new PinnedCache(PinnedCache.Mode.CAPPED, 2 * ExpertTensors.slotBytes() + PinnedExpertCache.ALIGNMENT));
        assertTrue(capped.describe().contains("pinned+staged"), capped.describe());
        assertTrue(capped.uploadBytesPerSecond() > 0 && Double.isFinite(capped.uploadBytesPerSecond()));
    }

    @Test
    void expertBytesAreViewedAsANearlySquareMatrixOfWholeBlocks() {
        try (Arena arena = Arena.ofShared()) {
            // Q8_0: 34 bytes per 32 values; 2048 x 768 values per expert = 49152 blocks.
            long expertBytes = 2048L * 768 / 32 * 34;
            HostExpertTensor t = new HostExpertTensor(0, ExpertProjection.GATE, GgmlType.Q8_0, 2, expertBytes,
                    arena.allocate(2 * expertBytes), OptionalInt.empty());
            long[] shape = OffloadCalibration.matrixShape(t);
            assertEquals(2048L * 768, shape[0] * shape[1]);
            assertEquals(0, shape[1] % 32);
            assertTrue(Math.max(shape[0], shape[1]) <= 1.5 * Math.min(shape[0], shape[1]), shape[0] + " x " + shape[1]);
        }
    }

    @Test
    void calibrationTakesOneLayer() {
        try (Arena arena = Arena.ofShared(); SimulatedDevice device = SimulatedDevice.standard()) {
            List<HostExpertTensor> tensors = ExpertTensors.create(arena, 2, EXPERTS, OptionalInt.empty());
            try (PinnedExpertCache cache = PinnedExpertCache.create(device, tensors, PinnedCache.none(), OptionalInt.empty(),
                    Optional.empty(), QUIET)) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> OffloadCalibration.measure(device, cache, tensors, pool, Precision.EXACT));
                assertTrue(e.getMessage().contains("one layer"), e.getMessage());
            }
        }
    }
}
