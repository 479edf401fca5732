package dev.ferry.hostmemory;

import dev.ferry.hostmemory.linux.SystemCalls;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One pinned {@link NodeWorkerPool} per NUMA node in use. Work goes to the pool of the node that
 * holds its data ({@link #pool(int)}); {@link #runOnAllNodes} runs a job on every node at once.
 */
public final class WorkerPools implements AutoCloseable {

    private final Map<Integer, NodeWorkerPool> pools;
    private final CpuAssignment assignment;
    private final List<NodeWorkerPool> order;

    private WorkerPools(Map<Integer, NodeWorkerPool> pools, CpuAssignment assignment) {
        this.pools = Collections.unmodifiableMap(pools);
        this.assignment = assignment;
        this.order = List.copyOf(pools.values());
    }

    /** Pools for the assignment, pinned with {@code pinner} (empty: unpinned, for systems without affinity calls). */
    public static WorkerPools create(CpuAssignment assignment, Optional<ThreadPinner> pinner, String name) {
        Map<Integer, NodeWorkerPool> pools = new LinkedHashMap<>();
        try {
            for (int node : assignment.nodes()) {
                pools.put(node, new NodeWorkerPool(node, assignment.cpus(node), name, pinner));
            }
        } catch (RuntimeException | Error e) {
            pools.values().forEach(NodeWorkerPool::close);
            throw e;
        }
        return new WorkerPools(pools, assignment);
    }

    /** Pools pinned with this process's real {@code sched_setaffinity} (unpinned, with a note, off Linux). */
    public static WorkerPools create(CpuAssignment assignment, String name) {
        return create(assignment, SystemCalls.linux().map(ThreadPinner::of), name);
    }

    /** The pool of {@code node}. */
    public NodeWorkerPool pool(int node) {
        NodeWorkerPool pool = pools.get(node);
        if (pool == null) {
            throw new IllegalArgumentException("no worker pool for NUMA node " + node + " (pools on nodes " + nodes() + ")");
        }
        return pool;
    }

    public boolean hasPool(int node) {
        return pools.containsKey(node);
    }

    public List<Integer> nodes() {
        return List.copyOf(pools.keySet());
    }

    public int totalWorkers() {
        return assignment.threads();
    }

    public CpuAssignment assignment() {
        return assignment;
    }

    /** Runs {@code task} on every node's workers at the same time and waits for all; rethrows the first failure. */
    public void runOnAllNodes(NodeWorkerPool.NodeTask task) {
        int started = 0;
        RuntimeException startFailure = null;
        for (NodeWorkerPool pool : order) {
            try {
                pool.startNodeTask(task);
                started++;
            } catch (RuntimeException e) {
                startFailure = e;
                break;
            }
        }
        Throwable first = startFailure;
        for (int i = 0; i < started; i++) {
            try {
                order.get(i).awaitNodeTask();
            } catch (RuntimeException | Error e) {
                if (first == null) {
                    first = e;
                }
            }
        }
        if (first instanceof RuntimeException re) {
            throw re;
        }
        if (first instanceof Error err) {
            throw err;
        }
    }

    /** One line per pool saying where its workers run, plus the selection notes. */
    public List<String> notes() {
        List<String> out = new ArrayList<>(assignment.notes());
        order.forEach(p -> out.add(p.pinningNote()));
        return List.copyOf(out);
    }

    public String describe() {
        return String.join(System.lineSeparator(), notes());
    }

    @Override
    public void close() {
        order.forEach(NodeWorkerPool::close);
    }
}
