package dev.ferry.moe.offload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.cuda.CopyDirection;
import dev.ferry.cuda.DeviceBuffer;
import dev.ferry.cuda.HostMemoryKind;
import dev.ferry.cuda.PinnedHostBuffer;
import dev.ferry.cuda.TransferRecord;
import dev.ferry.cuda.TransferStats;
import dev.ferry.cuda.sim.SimulatedDevice;
import dev.ferry.moe.placement.ExpertProjection;
import dev.ferry.moe.placement.HostContext;
import dev.ferry.moe.plan.PinnedCache;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PinnedExpertCacheTest {

    private static final int LAYERS = 3;
    private static final int EXPERTS = 8;
    private static final long ALIGN = PinnedExpertCache.ALIGNMENT;

    private final ByteArrayOutputStream logBytes = new ByteArrayOutputStream();
    private final PrintStream log = new PrintStream(logBytes, true, StandardCharsets.UTF_8);

    private List<String> logLines() {
        return logBytes.toString(StandardCharsets.UTF_8).lines().toList();
    }

    private static PinnedExpertCache create(RecordingDevice device, List<HostExpertTensor> tensors, PinnedCache setting,
                                            PrintStream log) {
        return PinnedExpertCache.create(device, tensors, setting, OptionalInt.empty(), Optional.empty(), log);
    }

    @Test
    void fullCacheHandsOutAlignedPinnedCopiesThatUploadAsPinned() {
        try (Arena arena = Arena.ofShared(); RecordingDevice device = new RecordingDevice(SimulatedDevice.standard())) {
            List<HostExpertTensor> tensors = ExpertTensors.create(arena, LAYERS, EXPERTS, OptionalInt.empty());
            try (PinnedExpertCache cache = create(device, tensors, new PinnedCache(PinnedCache.Mode.FULL, 0), log);
                 DeviceBuffer target = device.allocate(ExpertTensors.EXPERT_BYTES)) {
                assertEquals(PinnedCache.Mode.FULL, cache.mode());
                assertFalse(cache.stagesMisses());
                assertEquals(tensors.size(), device.pinned.size(), "one pinned buffer per tensor");
                long allocated = device.pinned.stream().mapToLong(PinnedHostBuffer::size).sum();
                assertEquals(allocated, cache.pinnedBytes());
                assertEquals(tensors.size() * (EXPERTS * ALIGN + ALIGN), cache.pinnedBytes());
                assertEquals(0, cache.registeredBytes());
                device.transferStats().clear();
                for (HostExpertTensor t : tensors) {
                    for (int e = 0; e < EXPERTS; e++) {
                        UploadSource src = cache.pinned(t.layer(), t.projection(), e).orElseThrow();
                        assertEquals(HostMemoryKind.PINNED, src.kind());
                        assertEquals(0, src.offset() % ALIGN, "offset of " + t.name() + " expert " + e);
                        assertEquals(0, (src.buffer().segment().address() + src.offset()) % ALIGN, "address");
                        assertEquals(ExpertTensors.EXPERT_BYTES, src.bytes());
                        assertEquals(-1, src.segment().mismatch(t.expert(e)), t.name() + " expert " + e + " differs");
                        device.copyToDevice(src.buffer(), src.offset(), target, 0, src.bytes());
                        assertEquals(-1, device.sim.backing(target).mismatch(t.expert(e)), "uploaded bytes differ");
                    }
                }
                TransferStats stats = device.transferStats();
                List<TransferStats.Aggregate> groups = stats.aggregates();
                assertEquals(1, groups.size(), groups.toString());
                assertEquals(HostMemoryKind.PINNED, groups.get(0).hostKind());
                assertEquals(CopyDirection.HOST_TO_DEVICE, groups.get(0).direction());
                assertEquals((long) tensors.size() * EXPERTS * ExpertTensors.EXPERT_BYTES, groups.get(0).bytes());
                assertTrue(logLines().get(0).contains("] done in"), logLines().toString());
                assertTrue(cache.describe().get(0).contains("--pinned-expert-cache"), cache.describe().toString());
            }
        }
    }

    @Test
    void fullCacheIsMadeByAThreadOnTheGpuNodeAndCarriesThatNode(@TempDir Path root) {
        TwoNodeHost host = new TwoNodeHost(root);
        try (Arena arena = Arena.ofShared(); RecordingDevice device = new RecordingDevice(SimulatedDevice.standard())) {
            List<HostExpertTensor> tensors = ExpertTensors.create(arena, 1, EXPERTS, OptionalInt.of(0));
            try (PinnedExpertCache cache = PinnedExpertCache.create(device, tensors, new PinnedCache(PinnedCache.Mode.FULL, 0),
                    OptionalInt.of(1), Optional.of(host.context), log)) {
                assertEquals(1, host.pins.size(), host.pins.toString());
                assertEquals(1, host.pins.get(0).cpu(), "pinned to the CPU of node 1");
                assertNotEquals(Thread.currentThread().getName(), host.pins.get(0).thread());
                assertEquals(OptionalInt.of(1), cache.node());
                UploadSource src = cache.pinned(0, ExpertProjection.DOWN, 3).orElseThrow();
                assertEquals(OptionalInt.of(1), src.buffer().numaNode());
                DeviceBuffer target = device.allocate(src.bytes());
                device.copyToDevice(src.buffer(), src.offset(), target, 0, src.bytes());
                TransferRecord last = device.transferStats().recent().getLast();
                assertEquals(OptionalInt.of(1), last.numaNode());
                assertTrue(String.join("\n", cache.describe()).contains("node 1 (made by a thread on that node; not verified"),
                        cache.describe().toString());
            }
        }
    }

    @Test
    void fullCacheOnThisMachineReportsWhereItsPagesAre() {
        HostContext host = HostContext.system();
        int gpuNode = host.topology().nodesWithCpus().get(0);
        try (Arena arena = Arena.ofShared(); RecordingDevice device = new RecordingDevice(SimulatedDevice.standard())) {
            List<HostExpertTensor> tensors = ExpertTensors.create(arena, 1, EXPERTS, OptionalInt.empty());
            try (PinnedExpertCache cache = PinnedExpertCache.create(device, tensors, new PinnedCache(PinnedCache.Mode.FULL, 0),
                    OptionalInt.of(gpuNode), Optional.of(host), log)) {
                String nodeLine = cache.describe().get(1);
                if (host.topology().nodeIds().size() == 1) {
                    // One node: wherever the pages are, verified or known, they are on it.
                    assertEquals(OptionalInt.of(gpuNode), cache.node(), nodeLine);
                }
                assertEquals(cache.node(), cache.pinned(0, ExpertProjection.UP, 0).orElseThrow().buffer().numaNode());
                assertTrue(nodeLine.contains("verified by move_pages") || nodeLine.contains("not verified"), nodeLine);
            }
        }
    }

    @Test
    void inPlaceRegistersTheComputeCopiesWithoutCopying() {
        try (Arena arena = Arena.ofShared(); RecordingDevice device = new RecordingDevice(SimulatedDevice.standard())) {
            List<HostExpertTensor> tensors = ExpertTensors.create(arena, LAYERS, EXPERTS, OptionalInt.of(0));
            try (PinnedExpertCache cache = create(device, tensors, new PinnedCache(PinnedCache.Mode.IN_PLACE, 0), log)) {
                assertEquals(PinnedCache.Mode.IN_PLACE, cache.mode());
                assertEquals(0, cache.pinnedBytes());
                assertEquals(tensors.stream().mapToLong(HostExpertTensor::bytes).sum(), cache.registeredBytes());
                assertEquals(OptionalInt.of(0), cache.node());
                for (HostExpertTensor t : tensors) {
                    for (int e = 0; e < EXPERTS; e++) {
                        UploadSource src = cache.pinned(t.layer(), t.projection(), e).orElseThrow();
                        assertEquals(HostMemoryKind.REGISTERED, src.kind());
                        assertEquals(t.expert(e).address(), src.segment().address(), "registered memory is the compute copy");
                        assertEquals(OptionalInt.of(0), src.buffer().numaNode());
                    }
                }
            }
        }
    }

    @Test
    void noneServesPageableComputeCopiesOnly() {
        try (Arena arena = Arena.ofShared(); RecordingDevice device = new RecordingDevice(SimulatedDevice.standard())) {
            List<HostExpertTensor> tensors = ExpertTensors.create(arena, 1, EXPERTS, OptionalInt.of(0));
            try (PinnedExpertCache cache = create(device, tensors, PinnedCache.none(), log)) {
                assertEquals(PinnedCache.Mode.NONE, cache.mode());
                assertTrue(cache.pinned(0, ExpertProjection.GATE, 2).isEmpty());
                UploadSource src = cache.pageable(0, ExpertProjection.GATE, 2);
                assertEquals(HostMemoryKind.PAGEABLE, src.kind());
                assertEquals(OptionalInt.of(0), src.buffer().numaNode());
                assertEquals(-1, src.segment().mismatch(tensors.get(0).expert(2)));
                assertEquals(0, cache.pinnedBytes() + cache.registeredBytes());
                assertTrue(device.pinned.isEmpty());
                assertTrue(logLines().isEmpty(), logLines().toString());
            }
        }
    }

    /** Caps in units of one expert slot: below one slot, exactly one, five and a bit, and more than everything. */
    @ParameterizedTest
    @ValueSource(doubles = {0, 0.5, 1, 5.3, 100})
    void cappedCacheNeverPinsMoreThanItsCap(double slots) {
        long slot = ExpertTensors.slotBytes();
        long cap = slots == 0 ? 0 : (long) (slots * slot) + ALIGN;
        if (slots == 0.5) {
            cap = slot - 1;
        }
        int total = LAYERS * EXPERTS;
        int expected = (int) Math.min(total, Math.max(0, (cap - ALIGN) / slot));
        try (Arena arena = Arena.ofShared(); RecordingDevice device = new RecordingDevice(SimulatedDevice.standard())) {
            List<HostExpertTensor> tensors = ExpertTensors.create(arena, LAYERS, EXPERTS, OptionalInt.empty());
            try (PinnedExpertCache cache = create(device, tensors, new PinnedCache(PinnedCache.Mode.CAPPED, cap), log)) {
                assertEquals(PinnedCache.Mode.CAPPED, cache.mode());
                assertTrue(cache.stagesMisses());
                assertTrue(cache.pinnedBytes() <= cap, cache.pinnedBytes() + " > cap " + cap);
                assertEquals(device.pinned.stream().mapToLong(PinnedHostBuffer::size).sum(), cache.pinnedBytes());
                assertEquals(expected, cache.cachedExperts());
                int seen = 0;
                for (int layer = 0; layer < LAYERS; layer++) {
                    for (int e = 0; e < EXPERTS; e++) {
                        boolean cached = seen < expected;
                        assertEquals(cached, cache.isCached(layer, e), "layer " + layer + " expert " + e + " (layer order)");
                        for (ExpertProjection p : ExpertProjection.values()) {
                            var src = cache.pinned(layer, p, e);
                            assertEquals(cached, src.isPresent());
                            if (cached) {
                                assertEquals(HostMemoryKind.PINNED, src.get().kind());
                                assertEquals(0, (src.get().buffer().segment().address() + src.get().offset()) % ALIGN);
                                assertEquals(-1, src.get().segment().mismatch(expert(tensors, layer, p).expert(e)));
                            }
                        }
                        seen++;
                    }
                }
                if (expected == 0) {
                    assertEquals(0, cache.pinnedBytes());
                    assertTrue(cache.describe().get(0).contains("nothing pinned"), cache.describe().toString());
                }
            }
        }
    }

    @Test
    void stageCopiesTheExpertIntoTheStagingBuffer() {
        try (Arena arena = Arena.ofShared(); RecordingDevice device = new RecordingDevice(SimulatedDevice.standard())) {
            List<HostExpertTensor> tensors = ExpertTensors.create(arena, LAYERS, EXPERTS, OptionalInt.empty());
            try (PinnedExpertCache cache = create(device, tensors,
                    new PinnedCache(PinnedCache.Mode.CAPPED, ExpertTensors.slotBytes() - 1), log);
                 PinnedHostBuffer staging = device.sim.allocatePinned(3 * ExpertTensors.EXPERT_BYTES)) {
                UploadSource src = cache.stage(2, ExpertProjection.UP, 6, staging, ExpertTensors.EXPERT_BYTES);
                assertEquals(staging, src.buffer());
                assertEquals(ExpertTensors.EXPERT_BYTES, src.offset());
                assertEquals(ExpertTensors.EXPERT_BYTES, src.bytes());
                assertEquals(-1, staging.segment().asSlice(ExpertTensors.EXPERT_BYTES, ExpertTensors.EXPERT_BYTES)
                        .mismatch(expert(tensors, 2, ExpertProjection.UP).expert(6)));
                assertTrue(staging.segment().asSlice(0, ExpertTensors.EXPERT_BYTES).mismatch(
                        MemorySegment.ofArray(new byte[(int) ExpertTensors.EXPERT_BYTES])) == -1, "bytes before the offset untouched");
                assertThrows(IndexOutOfBoundsException.class,
                        () -> cache.stage(2, ExpertProjection.UP, 6, staging, 2 * ExpertTensors.EXPERT_BYTES + 1));
            }
        }
    }

    @Test
    void rebalanceSwapsHotUncachedExpertsInForColdCachedOnes() {
        long cap = 4 * ExpertTensors.slotBytes() + ALIGN;
        try (Arena arena = Arena.ofShared(); RecordingDevice device = new RecordingDevice(SimulatedDevice.standard())) {
            List<HostExpertTensor> tensors = ExpertTensors.create(arena, LAYERS, EXPERTS, OptionalInt.empty());
            try (PinnedExpertCache cache = create(device, tensors, new PinnedCache(PinnedCache.Mode.CAPPED, cap), log)) {
                // Filled in layer order: layer 0 experts 0..3.
                for (int e = 0; e < EXPERTS; e++) {
                    assertEquals(e < 4, cache.isCached(0, e));
                }
                long pinnedBefore = cache.pinnedBytes();
                cache.recordRouting(0, 0, 10);
                cache.recordRouting(0, 3, 4);
                cache.recordRouting(2, 5, 60);
                cache.recordRouting(2, 5, 40);
                cache.recordRouting(1, 7, 50);
                cache.recordRouting(1, 2, 3);
                assertEquals(100, cache.routingCount(2, 5));
                assertEquals(0, cache.rebalance(0), "zero swaps allowed");
                assertFalse(cache.isCached(2, 5));

                assertEquals(2, cache.rebalance(2));
                assertTrue(cache.isCached(2, 5));
                assertTrue(cache.isCached(1, 7));
                // The two never-picked cached experts (layer 0 experts 1 and 2) were evicted, the picked ones stay.
                assertFalse(cache.isCached(0, 1));
                assertFalse(cache.isCached(0, 2));
                assertTrue(cache.isCached(0, 0));
                assertTrue(cache.isCached(0, 3));
                assertEquals(pinnedBefore, cache.pinnedBytes());
                assertEquals(4, cache.cachedExperts());
                for (ExpertProjection p : ExpertProjection.values()) {
                    assertEquals(-1, cache.pinned(2, p, 5).orElseThrow().segment().mismatch(expert(tensors, 2, p).expert(5)));
                    assertEquals(-1, cache.pinned(1, p, 7).orElseThrow().segment().mismatch(expert(tensors, 1, p).expert(7)));
                    assertEquals(-1, cache.pinned(0, p, 3).orElseThrow().segment().mismatch(expert(tensors, 0, p).expert(3)));
                }
                // Layer 1 expert 2 (3 picks) is colder than every cached expert (4 or more): nothing to swap.
                assertEquals(0, cache.rebalance(10));
                cache.recordRouting(1, 2, 2);
                assertEquals(1, cache.rebalance(10), "5 picks now beat layer 0 expert 3's 4");
                assertTrue(cache.isCached(1, 2));
                assertFalse(cache.isCached(0, 3));
            }
        }
    }

    @Test
    void failedPinningFallsBackToPageableWithOneWarning() {
        try (Arena arena = Arena.ofShared(); RecordingDevice device = new RecordingDevice(SimulatedDevice.standard(), 2)) {
            List<HostExpertTensor> tensors = ExpertTensors.create(arena, LAYERS, EXPERTS, OptionalInt.empty());
            try (PinnedExpertCache cache = create(device, tensors, new PinnedCache(PinnedCache.Mode.FULL, 0), log)) {
                assertEquals(PinnedCache.Mode.NONE, cache.mode());
                List<String> warnings = logLines().stream().filter(l -> l.toLowerCase().contains("warning")).toList();
                assertEquals(1, warnings.size(), logLines().toString());
                assertTrue(warnings.get(0).contains("CUDA_ERROR_OUT_OF_MEMORY"), warnings.get(0));
                assertEquals(2, device.pinned.size());
                assertEquals(0, device.openPinnedBuffers(), "the two buffers pinned before the failure are freed");
                assertEquals(0, cache.pinnedBytes());
                assertEquals(OptionalInt.empty(), cache.node());
                assertTrue(cache.pinned(1, ExpertProjection.DOWN, 4).isEmpty());
                assertEquals(HostMemoryKind.PAGEABLE, cache.pageable(1, ExpertProjection.DOWN, 4).kind());
                assertTrue(cache.describe().get(0).contains("fell back"), cache.describe().toString());
            }
        }
    }

    @Test
    void cappedCacheFallsBackWhenItsSlotsCannotBePinned() {
        try (Arena arena = Arena.ofShared(); RecordingDevice device = new RecordingDevice(SimulatedDevice.standard(), 0)) {
            List<HostExpertTensor> tensors = ExpertTensors.create(arena, 1, EXPERTS, OptionalInt.empty());
            try (PinnedExpertCache cache = create(device, tensors,
                    new PinnedCache(PinnedCache.Mode.CAPPED, 3 * ExpertTensors.slotBytes() + ALIGN), log)) {
                assertEquals(PinnedCache.Mode.NONE, cache.mode());
                assertFalse(cache.stagesMisses());
                assertEquals(1, logLines().stream().filter(l -> l.contains("warning")).count(), logLines().toString());
                assertEquals(0, cache.rebalance(5));
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"FULL", "IN_PLACE", "CAPPED"})
    void closeFreesEveryPinnedAndRegisteredBuffer(String mode) {
        try (Arena arena = Arena.ofShared(); RecordingDevice device = new RecordingDevice(SimulatedDevice.standard())) {
            List<HostExpertTensor> tensors = ExpertTensors.create(arena, LAYERS, EXPERTS, OptionalInt.empty());
            PinnedCache.Mode m = PinnedCache.Mode.valueOf(mode);
            PinnedExpertCache cache = create(device, tensors,
                    new PinnedCache(m, m == PinnedCache.Mode.CAPPED ? 5 * ExpertTensors.slotBytes() + ALIGN : 0), log);
            assertTrue(device.openPinnedBuffers() > 0);
            UploadSource src = cache.pinned(0, ExpertProjection.GATE, 0).orElseThrow();
            cache.close();
            assertEquals(0, device.openPinnedBuffers());
            assertFalse(src.buffer().isOpen());
            assertThrows(IllegalStateException.class, () -> cache.pinned(0, ExpertProjection.GATE, 0));
            cache.close();
        }
    }

    @Test
    void badInputIsRefusedWithClearMessages() {
        try (Arena arena = Arena.ofShared(); RecordingDevice device = new RecordingDevice(SimulatedDevice.standard())) {
            List<HostExpertTensor> tensors = ExpertTensors.create(arena, 1, EXPERTS, OptionalInt.empty());
            IllegalArgumentException twice = assertThrows(IllegalArgumentException.class,
                    () -> create(device, List.of(tensors.get(0), tensors.get(0)), PinnedCache.none(), log));
            assertTrue(twice.getMessage().contains("blk.0.ffn_gate_exps.weight"), twice.getMessage());
            try (PinnedExpertCache cache = create(device, tensors, PinnedCache.none(), log)) {
                IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                        () -> cache.pageable(4, ExpertProjection.UP, 0));
                assertTrue(missing.getMessage().contains("blk.4.ffn_up_exps.weight"), missing.getMessage());
                assertThrows(IndexOutOfBoundsException.class, () -> cache.pageable(0, ExpertProjection.UP, EXPERTS));
                assertThrows(IllegalArgumentException.class, () -> cache.recordRouting(9, 0, 1));
            }
            IllegalArgumentException size = assertThrows(IllegalArgumentException.class, () -> new HostExpertTensor(0,
                    ExpertProjection.GATE, dev.ferry.loader.GgmlType.F32, 3, 16, arena.allocate(40), OptionalInt.empty()));
            assertTrue(size.getMessage().contains("48"), size.getMessage());
        }
    }

    private static HostExpertTensor expert(List<HostExpertTensor> tensors, int layer, ExpertProjection p) {
        return tensors.stream().filter(t -> t.layer() == layer && t.projection() == p).findFirst().orElseThrow();
    }
}
