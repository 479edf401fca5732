package dev.ferry.moe.placement;

import dev.ferry.hostmemory.HostAllocator;
import dev.ferry.hostmemory.ThreadPinner;
import dev.ferry.hostmemory.linux.SystemCalls;
import dev.ferry.hostmemory.numa.ProcessNuma;
import dev.ferry.hostmemory.topology.Topology;
import java.util.Optional;

/**
 * The machine the runtime places work and memory on: its topology, the allocator for placed
 * buffers, the binding this process runs under and how worker threads are pinned. Tests pass a
 * fake topology; {@link #system()} is the running machine.
 */
public record HostContext(Topology topology, HostAllocator allocator, ProcessNuma process, Optional<ThreadPinner> pinner) {

    public static HostContext system() {
        HostAllocator allocator = HostAllocator.system();
        Optional<SystemCalls> calls = allocator.calls();
        return new HostContext(allocator.topology(), allocator, ProcessNuma.current(allocator.topology(), calls),
                calls.map(ThreadPinner::of));
    }

    /** The number of physical cores among the CPUs this process may run on (llama.cpp's default -t). */
    public int physicalCoresAllowed() {
        return Math.max(1, topology.physicalCores().and(process.affinity()).size());
    }
}
