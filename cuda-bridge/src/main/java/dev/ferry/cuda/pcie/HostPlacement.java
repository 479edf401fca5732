package dev.ferry.cuda.pcie;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.OptionalInt;

/**
 * Where benchmark buffers live. The host-memory module can provide a NUMA implementation
 * (allocate on a node with mbind); the default {@link #unplaced()} allocates ordinary memory
 * without a node binding and says so.
 */
public interface HostPlacement {

    /** Nodes to measure; an empty OptionalInt stands for "wherever the OS puts it". */
    List<OptionalInt> nodes();

    /** Allocates {@code bytes} with {@code alignment} on {@code node}, owned by {@code arena}, pages touched. */
    MemorySegment allocate(OptionalInt node, long bytes, long alignment, Arena arena);

    /** One line for the report header. */
    String describe();

    /** Plain anonymous memory, no NUMA binding. */
    static HostPlacement unplaced() {
        return new HostPlacement() {
            @Override
            public List<OptionalInt> nodes() {
                return List.of(OptionalInt.empty());
            }

            @Override
            public MemorySegment allocate(OptionalInt node, long bytes, long alignment, Arena arena) {
                MemorySegment s = arena.allocate(bytes, alignment);
                s.fill((byte) 1);
                return s;
            }

            @Override
            public String describe() {
                return "host buffers not bound to a NUMA node (" + SysfsNodes.count() + " node(s) online; "
                        + "per-node placement needs the host-memory binding)";
            }
        };
    }
}
