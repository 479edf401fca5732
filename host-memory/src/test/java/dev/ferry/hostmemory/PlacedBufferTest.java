package dev.ferry.hostmemory;

import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ferry.hostmemory.linux.Errno;
import dev.ferry.hostmemory.linux.MemPolicy;
import dev.ferry.hostmemory.linux.NativeCallException;
import dev.ferry.hostmemory.linux.SystemCalls;
import dev.ferry.hostmemory.topology.SysfsReader;
import dev.ferry.hostmemory.topology.Topology;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Real system calls on the build machine; nothing here needs more than node 0. */
class PlacedBufferTest {

    private static SystemCalls linux;
    private static HostAllocator allocator;

    @BeforeAll
    static void linuxOnly() {
        assumeTrue(SystemCalls.linux().isPresent(), "needs Linux system calls");
        linux = SystemCalls.linux().get();
        allocator = HostAllocator.system();
    }

    @Test
    void bufferOnNodeZeroHasEveryPageOnNodeZero() {
        assumeTrue(NumaCallsProbe.permitted(), NumaCallsProbe::refusal);
        long size = 8 * ByteSizes.MIB + 123;
        try (PlacedBuffer buf = allocator.allocate(size, PlacementPolicy.onNode(0))) {
            assertEquals(size, buf.segment().byteSize());
            assertEquals(0, buf.segment().address() % (64 * ByteSizes.KIB), "64 KiB aligned");
            assertTrue(buf.placementApplied(), buf.placementNote());
            assertTrue(buf.placementNote().contains("bound to node 0 (mbind MPOL_BIND)"), buf.placementNote());
            PagePlacement placement = buf.verify();
            assertEquals(size, placement.bytes());
            assertEquals(size, placement.bytesOnNode(0), placement.describe());
            assertTrue(placement.isEntirelyOn(0));
            assertEquals(0, placement.bytesNotPresent());
            MemPolicy policy = linux.getMempolicy(buf.segment().address());
            assertEquals(MemPolicy.MPOL_BIND, policy.mode());
            assertEquals(List.of(0), policy.nodes());
            buf.segment().set(JAVA_LONG, size - 8 - 123, 42L);
            assertEquals(42L, buf.segment().get(JAVA_LONG, size - 8 - 123));
        }
    }

    @Test
    void hugePageAdviceIsAcceptedOrReported() {
        assumeTrue(NumaCallsProbe.permitted(), NumaCallsProbe::refusal);
        try (PlacedBuffer buf = allocator.allocate(3 * ByteSizes.MIB, PlacementPolicy.onNode(0), BufferOptions.defaults().withHugePages(true))) {
            assertEquals(0, buf.segment().address() % BufferOptions.HUGE_PAGE_SIZE, "2 MiB aligned");
            assertEquals(4 * ByteSizes.MIB, buf.mappedBytes());
            String note = buf.placementNote();
            assertTrue(note.contains("huge pages advised (MADV_HUGEPAGE") || note.contains("no huge pages:")
                    || note.contains("transparent huge pages are disabled"), note);
            PagePlacement placement = buf.verify();
            assertTrue(placement.isEntirelyOn(0), placement.describe());
            if (note.contains("huge pages advised") && allocator.transparentHugePageMode().orElse("").equals("madvise")) {
                assertTrue(placement.anonHugePageBytes() >= 0, placement.describe());
            }
        }
    }

    @Test
    void closeUnmapsOnceAndInvalidatesTheSegment() {
        PlacedBuffer buf = allocator.allocate(ByteSizes.MIB, PlacementPolicy.kernelDefault());
        MemorySegment seg = buf.segment();
        seg.set(JAVA_LONG, 0, 7L);
        buf.close();
        buf.close();
        assertTrue(buf.isClosed());
        assertThrows(IllegalStateException.class, () -> seg.get(JAVA_LONG, 0));
        assertThrows(IllegalStateException.class, buf::verify);
    }

    @Test
    void unpopulatedBufferReportsPagesNotPresentUntilTouched() {
        assumeTrue(NumaCallsProbe.permitted(), NumaCallsProbe::refusal);
        try (PlacedBuffer buf = allocator.allocate(ByteSizes.MIB, PlacementPolicy.kernelDefault(), BufferOptions.defaults().withPopulate(false))) {
            assertEquals(ByteSizes.MIB, buf.verify().bytesNotPresent());
            buf.segment().set(JAVA_LONG, 0, 1L);
            PagePlacement after = buf.verify();
            assertEquals(ByteSizes.MIB - linux.pageSize(), after.bytesNotPresent(), after.describe());
            assertEquals(linux.pageSize(), after.bytesPerNode().values().stream().mapToLong(Long::longValue).sum());
        }
    }

    @Test
    void firstTouchByAPoolPopulatesEveryPage() {
        assumeTrue(NumaCallsProbe.permitted(), NumaCallsProbe::refusal);
        try (ThreadWorkerPool pool = new ThreadWorkerPool(2, "touch");
             PlacedBuffer buf = allocator.allocate(4 * ByteSizes.MIB, PlacementPolicy.firstTouch(pool))) {
            PagePlacement placement = buf.verify();
            assertEquals(0, placement.bytesNotPresent(), placement.describe());
            assertEquals(4 * ByteSizes.MIB, placement.bytesPerNode().values().stream().mapToLong(Long::longValue).sum());
            assertTrue(buf.placementNote().contains("first touch by 2 workers"), buf.placementNote());
        }
    }

    @Test
    void sampledVerificationScalesToTheWholeBuffer() {
        assumeTrue(NumaCallsProbe.permitted(), NumaCallsProbe::refusal);
        try (PlacedBuffer buf = allocator.allocate(16 * ByteSizes.MIB, PlacementPolicy.onNode(0))) {
            PagePlacement sampled = buf.verify(100);
            assertTrue(sampled.sampled());
            assertEquals(16 * ByteSizes.MIB, sampled.bytesOnNode(0), sampled.describe());
        }
    }

    @Test
    void refusedMbindFallsBackToTheDefaultPolicyAndSaysSo() {
        assumeTrue(NumaCallsProbe.permitted(), NumaCallsProbe::refusal);
        SystemCalls refusing = new RefusingMbind(linux);
        HostAllocator container = new HostAllocator(Topology.system(), Optional.of(refusing), SysfsReader.system());
        try (PlacedBuffer buf = container.allocate(2 * ByteSizes.MIB, PlacementPolicy.onNode(0))) {
            assertFalse(buf.placementApplied());
            assertTrue(buf.placementNote().contains("mbind refused (EPERM (1, operation not permitted)): pages follow the kernel default policy"),
                    buf.placementNote());
            assertEquals(0, buf.verify().bytesNotPresent());
            buf.segment().set(JAVA_LONG, 8, 5L);
            assertEquals(5L, buf.segment().get(JAVA_LONG, 8));
        }
    }

    @Test
    void aMissingNodeOnAOneNodeMachineFallsBackToTheOnlyNode() {
        assumeTrue(NumaCallsProbe.permitted(), NumaCallsProbe::refusal);
        Topology oneNode = Topology.read(SysfsReader.ofRoot(FakeSysfs.resourceRoot("sysfs/firecracker-2cpu")));
        HostAllocator single = new HostAllocator(oneNode, Optional.of(linux), SysfsReader.system());
        try (PlacedBuffer buf = single.allocate(ByteSizes.MIB, PlacementPolicy.onNode(1))) {
            assertTrue(buf.placementNote().startsWith("node 1 requested but this machine has only node 0: placing there"), buf.placementNote());
            assertTrue(buf.verify().isEntirelyOn(0));
        }
        try (PlacedBuffer buf = single.allocate(ByteSizes.MIB, PlacementPolicy.interleave(List.of(0, 1)))) {
            assertTrue(buf.placementNote().contains("interleave over one node is a bind"), buf.placementNote());
            assertTrue(buf.verify().isEntirelyOn(0));
        }
    }

    @Test
    void failedCallsNameTheCallAndErrno() {
        NativeCallException e = assertThrows(NativeCallException.class, () -> linux.munmap(4097, 4096));
        assertEquals("munmap", e.call());
        assertEquals(Errno.EINVAL, e.errno());
        assertTrue(e.getMessage().startsWith("munmap failed: EINVAL (22, invalid argument)"), e.getMessage());
        NativeCallException bind = assertThrows(NativeCallException.class,
                () -> linux.mbind(4096 * 3 + 1, 4096, MemPolicy.MPOL_BIND, List.of(0), 0));
        assertEquals("mbind", bind.call());
        assertEquals("EINVAL", bind.errnoName());
    }

    @Test
    void theThreadPolicyOfAPlainProcessIsReadable() {
        assumeTrue(NumaCallsProbe.permitted(), NumaCallsProbe::refusal);
        MemPolicy policy = linux.getMempolicy();
        assertTrue(policy.mode() >= MemPolicy.MPOL_DEFAULT && policy.mode() <= MemPolicy.MPOL_WEIGHTED_INTERLEAVE, policy.toString());
        assertTrue(linux.memsAllowed().contains(0) || !linux.memsAllowed().isEmpty(), linux.memsAllowed().toString());
    }

    @Test
    void blockedPlacementBindsContiguousPartsAndReportsTheirRanges() {
        List<long[]> binds = new java.util.ArrayList<>();
        SystemCalls recording = new DelegatingSystemCalls(linux) {
            @Override
            public void mbind(long address, long length, int mode, List<Integer> nodes, int flags) {
                assertEquals(MemPolicy.MPOL_BIND, mode);
                binds.add(new long[] {address, length, nodes.get(0)});
            }
        };
        Topology twoNodes = Topology.read(FakeSysfs.xeon2Socket56Cores());
        HostAllocator fake = new HostAllocator(twoNodes, Optional.of(recording), SysfsReader.system());
        long size = 10 * ByteSizes.MIB + 5;
        try (PlacedBuffer buf = fake.allocate(size, PlacementPolicy.blocked(List.of(0, 1)))) {
            long base = buf.segment().address();
            long part = ByteSizes.alignUp(buf.mappedBytes() / 2, linux.pageSize());
            assertEquals(2, binds.size());
            assertEquals(base, binds.get(0)[0]);
            assertEquals(0, binds.get(0)[2]);
            assertEquals(base + binds.get(0)[1], binds.get(1)[0], "parts are contiguous");
            assertEquals(1, binds.get(1)[2]);
            assertEquals(buf.mappedBytes(), binds.get(0)[1] + binds.get(1)[1]);
            assertEquals(part, binds.get(0)[1], "half of the mapping rounded up to a page");
            assertEquals(List.of(new PlacedBuffer.NodeRange(0, 0, part), new PlacedBuffer.NodeRange(1, part, size - part)), buf.nodeRanges());
            assertTrue(buf.placementNote().startsWith("2 contiguous blocks of 5.03 MiB bound to nodes [0, 1] (mbind MPOL_BIND each)"), buf.placementNote());
        }
    }

    @Test
    void blockedPlacementOnTheOnlyNodeIsOneRange() {
        assumeTrue(NumaCallsProbe.permitted(), NumaCallsProbe::refusal);
        Topology oneNode = Topology.read(SysfsReader.ofRoot(FakeSysfs.resourceRoot("sysfs/firecracker-2cpu")));
        HostAllocator single = new HostAllocator(oneNode, Optional.of(linux), SysfsReader.system());
        try (PlacedBuffer buf = single.allocate(3 * ByteSizes.MIB, PlacementPolicy.blocked(List.of(0, 1)))) {
            assertEquals(List.of(new PlacedBuffer.NodeRange(0, 0, 3 * ByteSizes.MIB)), buf.nodeRanges());
            assertTrue(buf.verify().isEntirelyOn(0));
            assertTrue(buf.placementNote().startsWith("nodes [0, 1] requested, only [0] exist; bound to node 0 (mbind MPOL_BIND)"), buf.placementNote());
        }
    }

    /** The real calls, except that mbind is refused as in an unprivileged container. */
    private static final class RefusingMbind extends DelegatingSystemCalls {
        RefusingMbind(SystemCalls real) {
            super(real);
        }

        @Override
        public void mbind(long address, long length, int mode, List<Integer> nodes, int flags) {
            throw new NativeCallException("mbind", Errno.EPERM, "simulated container");
        }
    }
}
