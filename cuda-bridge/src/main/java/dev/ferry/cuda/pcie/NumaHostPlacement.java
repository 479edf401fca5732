package dev.ferry.cuda.pcie;

import dev.ferry.hostmemory.BufferOptions;
import dev.ferry.hostmemory.HostAllocator;
import dev.ferry.hostmemory.PlacedBuffer;
import dev.ferry.hostmemory.PlacementPolicy;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;

/**
 * Benchmark buffers bound to each NUMA node with host-memory's placed buffers (mbind before
 * first touch), so the PCIe report shows what a copy from each node costs.
 */
public final class NumaHostPlacement implements HostPlacement {

    private final HostAllocator allocator;
    private final List<Integer> nodes;

    public NumaHostPlacement(HostAllocator allocator) {
        this.allocator = allocator;
        this.nodes = allocator.topology().nodesWithCpus();
    }

    /** The machine's own allocator and topology. */
    public static NumaHostPlacement system() {
        return new NumaHostPlacement(HostAllocator.system());
    }

    @Override
    public List<OptionalInt> nodes() {
        List<OptionalInt> out = new ArrayList<>();
        for (int n : nodes) {
            out.add(OptionalInt.of(n));
        }
        return out;
    }

    @Override
    public MemorySegment allocate(OptionalInt node, long bytes, long alignment, Arena arena) {
        PlacementPolicy policy = node.isPresent() ? PlacementPolicy.onNode(node.getAsInt()) : PlacementPolicy.kernelDefault();
        BufferOptions options = BufferOptions.defaults()
                .withAlignment(Math.max(alignment, BufferOptions.DEFAULT_ALIGNMENT))
                .withPopulate(true);
        PlacedBuffer buffer = allocator.allocate(bytes, policy, options);
        // The arena's lifetime owns the placed buffer: closing the arena unmaps it.
        return buffer.segment().reinterpret(bytes, arena, ignored -> buffer.close());
    }

    @Override
    public String describe() {
        return "host buffers bound per NUMA node with mbind (nodes " + nodes + "; " + allocator.backendDescription() + ")";
    }
}
