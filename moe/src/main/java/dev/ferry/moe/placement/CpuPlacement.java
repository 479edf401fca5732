package dev.ferry.moe.placement;

import dev.ferry.hostmemory.WorkerPool;
import dev.ferry.hostmemory.WorkerPools;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Where a session computes: the pool for attention, dense layers and the router (the workers of
 * {@code denseNode} only, so those layers never read across sockets), the per-node pools for the
 * expert layers, the placed experts each node reads and the counters of per-node expert work.
 * Owned by the engine; sessions only use it.
 *
 * @param nodePools one pinned pool per node in use; empty: experts run on {@code densePool}
 * @param experts the placed expert copies; empty: experts are read from the file mapping
 * @param dense copies of the other tensors on {@code denseNode}; empty: read from the file mapping
 */
public record CpuPlacement(WorkerPool densePool, int denseNode, Optional<WorkerPools> nodePools, Optional<PlacedExperts> experts,
                           Optional<DenseCopies> dense, NodeWorkCounters counters) {

    public CpuPlacement {
        Objects.requireNonNull(densePool, "densePool");
        Objects.requireNonNull(nodePools, "nodePools");
        Objects.requireNonNull(experts, "experts");
        Objects.requireNonNull(dense, "dense");
        Objects.requireNonNull(counters, "counters");
    }

    /** No placement: one pool for everything, weights from the file mapping. */
    public static CpuPlacement plain(WorkerPool pool) {
        return new CpuPlacement(pool, 0, Optional.empty(), Optional.empty(), Optional.empty(), new NodeWorkCounters(List.of(0)));
    }

    /** The pool that computes the experts {@code node} holds. */
    public WorkerPool poolOf(int node) {
        return nodePools.map(p -> (WorkerPool) p.pool(node)).orElse(densePool);
    }
}
