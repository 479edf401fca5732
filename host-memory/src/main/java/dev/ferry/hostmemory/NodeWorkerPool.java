package dev.ferry.hostmemory;

import dev.ferry.hostmemory.linux.NativeCallException;
import dev.ferry.hostmemory.topology.CpuSet;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The workers of one NUMA node: one thread per CPU of {@code cpus}, each pinned to its CPU, all
 * owned by the pool (the caller only waits), so every share of a job runs on this node. When
 * pinning is refused or unavailable the pool still works and {@link #pinningNote()} says so.
 */
public final class NodeWorkerPool extends ThreadWorkerPool {

    /** A share of a per-node job: worker {@code worker} of {@code workers} on node {@code node}. */
    @FunctionalInterface
    public interface NodeTask {
        void run(int node, int worker, int workers);
    }

    private final int node;
    private final List<Integer> cpus;
    private final Optional<ThreadPinner> pinner;
    private final AtomicReference<String> pinFailure;
    private final Task nodeTaskAdapter;
    private volatile NodeTask nodeTask;

    public NodeWorkerPool(int node, List<Integer> cpus, String name, Optional<ThreadPinner> pinner) {
        if (cpus.isEmpty()) {
            throw new IllegalArgumentException("node " + node + " worker pool needs at least one CPU");
        }
        // Assigned before super() starts the threads, which read them in onWorkerStart.
        this.node = node;
        this.cpus = List.copyOf(cpus);
        this.pinner = pinner;
        this.pinFailure = new AtomicReference<>();
        super(cpus.size(), name + "-node" + node, false);
        this.nodeTaskAdapter = (worker, workers) -> nodeTask.run(this.node, worker, workers);
    }

    @Override
    protected void onWorkerStart(int worker) {
        if (pinner.isEmpty()) {
            return;
        }
        int cpu = cpus.get(worker);
        try {
            pinner.get().pinCurrentThread(cpu);
        } catch (NativeCallException e) {
            pinFailure.compareAndSet(null, "CPU " + cpu + ": " + e.getMessage());
        } catch (RuntimeException e) {
            pinFailure.compareAndSet(null, "CPU " + cpu + ": " + e);
        }
    }

    public int node() {
        return node;
    }

    /** The CPU of each worker, by worker index. */
    public List<Integer> cpus() {
        return cpus;
    }

    /** True when every worker was pinned to its CPU. */
    public boolean pinned() {
        return pinner.isPresent() && pinFailure.get() == null;
    }

    /** One line: how the workers were placed. */
    public String pinningNote() {
        String where = size() + " workers on node " + node;
        if (pinner.isEmpty()) {
            return where + ", not pinned (no affinity calls on this system)";
        }
        String failure = pinFailure.get();
        if (failure != null) {
            return where + ", pinning refused (" + failure + "): threads float";
        }
        return where + " pinned to CPUs " + CpuSet.of(cpus).toListString();
    }

    /** Starts {@code task} on this node's workers; {@link #awaitNodeTask()} must follow on the same thread. */
    void startNodeTask(NodeTask task) {
        nodeTask = task;
        start(nodeTaskAdapter);
    }

    void awaitNodeTask() {
        try {
            await();
        } finally {
            nodeTask = null;
        }
    }

    /** Runs {@code task} on this node's workers and waits for it. */
    public void run(NodeTask task) {
        startNodeTask(task);
        awaitNodeTask();
    }
}
