package dev.ferry.hostmemory;

import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.MemorySegment;
import java.util.List;
import org.junit.jupiter.api.Test;

class HostArenaTest {

    @Test
    void closingTheArenaUnmapsEveryBufferAndSumsTheirPlacementBefore() {
        assumeTrue(NumaCallsProbe.permitted(), NumaCallsProbe::refusal);
        HostArena arena = new HostArena(HostAllocator.system());
        PlacedBuffer a = arena.allocate(ByteSizes.MIB, PlacementPolicy.onNode(0));
        PlacedBuffer b = arena.allocate(3 * ByteSizes.MIB, PlacementPolicy.onNode(0));
        PlacedBuffer c = arena.allocate(ByteSizes.MIB, PlacementPolicy.kernelDefault(), BufferOptions.defaults().withPopulate(false));
        assertEquals(5 * ByteSizes.MIB, arena.totalBytes());
        PagePlacement all = arena.verify(Long.MAX_VALUE);
        assertEquals(5 * ByteSizes.MIB, all.bytes());
        assertEquals(4 * ByteSizes.MIB, all.bytesOnNode(0), all.describe());
        assertEquals(ByteSizes.MIB, all.bytesNotPresent());
        List<String> notes = arena.placementNotes();
        assertEquals("2 buffers: bound to node 0 (mbind MPOL_BIND); populated (MADV_POPULATE_WRITE)", notes.get(0));
        assertEquals("1 buffer: kernel default policy (no mbind)", notes.get(1));
        MemorySegment seg = b.segment();
        arena.close();
        arena.close();
        assertTrue(a.isClosed() && b.isClosed() && c.isClosed());
        assertThrows(IllegalStateException.class, () -> seg.get(JAVA_LONG, 0));
        assertThrows(IllegalStateException.class, () -> arena.allocate(1, PlacementPolicy.kernelDefault()));
    }
}
