package dev.ferry.hostmemory;

import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ferry.hostmemory.linux.Errno;
import dev.ferry.hostmemory.linux.NativeCallException;
import dev.ferry.hostmemory.linux.SystemCalls;
import dev.ferry.hostmemory.topology.SysfsReader;
import dev.ferry.hostmemory.topology.Topology;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Each missing capability leaves a working buffer and one line naming the path taken. */
class DegradePathsTest {

    private static SystemCalls linux;

    @BeforeAll
    static void linuxOnly() {
        assumeTrue(SystemCalls.linux().isPresent(), "needs Linux system calls");
        linux = SystemCalls.linux().get();
    }

    /** Real calls except madvise, which fails with {@code errno} as on an old or restricted kernel. */
    private static final class RefusingMadvise extends DelegatingSystemCalls {
        private final int errno;

        RefusingMadvise(SystemCalls real, int errno) {
            super(real);
            this.errno = errno;
        }

        @Override
        public void madvise(long address, long length, int advice) {
            throw new NativeCallException("madvise", errno, "simulated");
        }
    }

    private static HostAllocator with(SystemCalls calls) {
        return new HostAllocator(Topology.system(), Optional.of(calls), SysfsReader.system());
    }

    @Test
    void withoutMadviseHugePagesAndPopulateFallBackToTouchingPages() {
        assumeTrue(NumaCallsProbe.permitted(), NumaCallsProbe::refusal);
        HostAllocator old = with(new RefusingMadvise(linux, Errno.EINVAL));
        try (PlacedBuffer buf = old.allocate(2 * ByteSizes.MIB, PlacementPolicy.onNode(0), BufferOptions.defaults().withHugePages(true))) {
            String note = buf.placementNote();
            assertTrue(note.contains("no huge pages: madvise(MADV_HUGEPAGE) failed EINVAL (22, invalid argument): 4 KiB pages"), note);
            assertTrue(note.contains("populated by touching each page (MADV_POPULATE_WRITE EINVAL)"), note);
            assertEquals(0, buf.verify().bytesNotPresent());
            assertTrue(buf.verify().isEntirelyOn(0));
        }
    }

    @Test
    void outOfMemoryWhilePopulatingIsAClearErrorNotACrash() {
        HostAllocator full = with(new RefusingMadvise(linux, Errno.ENOMEM));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> full.allocate(ByteSizes.MIB, PlacementPolicy.onNode(0)));
        assertTrue(e.getMessage().startsWith("cannot populate 1.00 MiB placed on node 0: madvise failed: ENOMEM (12, out of memory)"), e.getMessage());
    }

    @Test
    void lockingIsAppliedOrItsRefusalReported() {
        try (PlacedBuffer buf = HostAllocator.system().allocate(ByteSizes.MIB, PlacementPolicy.onNode(0), BufferOptions.defaults().withLock(true))) {
            String note = buf.placementNote();
            assertTrue(note.endsWith("locked (mlock)") || note.contains("mlock refused ("), note);
            buf.segment().set(JAVA_LONG, 0, 3L);
        }
    }

    @Test
    void withoutSystemCallsBuffersAreJvmMemoryAndSaySo() {
        HostAllocator none = new HostAllocator(Topology.system(), Optional.empty(), SysfsReader.system());
        try (PlacedBuffer buf = none.allocate(100_000, PlacementPolicy.onNode(0))) {
            assertFalse(buf.placementApplied());
            assertTrue(buf.placementNote().startsWith("no Linux system calls ("), buf.placementNote());
            assertEquals(0, buf.segment().address() % BufferOptions.DEFAULT_ALIGNMENT);
            assertEquals(100_000, buf.verify().bytesUnknown());
            buf.segment().set(JAVA_LONG, 99_992, 9L);
        }
    }

    @Test
    void theSummaryNamesTheCallPathAndHugePageMode() {
        HostAllocator system = HostAllocator.system();
        String s = system.describe(Optional.empty());
        assertTrue(s.contains("Memory: NUMA calls: raw syscalls through libc ("), s);
        assertTrue(s.contains("libnuma.so.1 present, not needed") || s.contains("libnuma.so.1 absent, not needed"), s);
        assertTrue(s.contains("transparent huge pages: " + system.transparentHugePageMode().orElse("not available")), s);
    }

    @Test
    void refusedPageQueriesReportPlacementUnknown() {
        SystemCalls noMovePages = new DelegatingSystemCalls(linux) {
            @Override
            public void queryPageNodes(long address, long pageSize, int count, int[] status, int offset) {
                throw new NativeCallException("move_pages", Errno.EPERM, "simulated container");
            }
        };
        try (PlacedBuffer buf = with(noMovePages).allocate(ByteSizes.MIB, PlacementPolicy.kernelDefault())) {
            PagePlacement p = buf.verify();
            assertEquals(ByteSizes.MIB, p.bytesUnknown());
            assertTrue(p.bytesPerNode().isEmpty());
            assertEquals("move_pages refused (EPERM (1, operation not permitted)): placement unknown", p.note());
        }
    }
}
