package dev.ferry.moe.offload;

import dev.ferry.hostmemory.PagePlacement;
import dev.ferry.hostmemory.linux.NativeCallException;
import dev.ferry.hostmemory.linux.SystemCalls;
import dev.ferry.hostmemory.topology.CpuSet;
import dev.ferry.hostmemory.topology.Topology;
import dev.ferry.moe.placement.HostContext;
import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.function.Supplier;

/**
 * Making host memory on the GPU's NUMA node and checking where it landed: pinned allocations
 * are faulted in by the allocating thread, so they are made from a thread pinned to a CPU of
 * that node; {@code move_pages} then reports where the pages really are.
 */
final class GpuNodeMemory {

    /** Pages queried per buffer when verifying (sampled evenly for larger buffers). */
    static final int VERIFY_PAGES_PER_BUFFER = 256;

    /** What {@link #onGpuNode} produced and whether it really ran on the GPU's node. */
    record Outcome<T>(T value, boolean ranOnGpuNode, String note) {
    }

    /** Where the pinned memory lives: {@code node} when verified or known, and one line saying how that is known. */
    record NodeFinding(OptionalInt node, String line, Optional<PagePlacement> placement) {
    }

    private GpuNodeMemory() {
    }

    /** Runs {@code work} on a thread pinned to a CPU of {@code gpuNode} when that is possible, else on this thread. */
    static <T> Outcome<T> onGpuNode(Optional<HostContext> host, OptionalInt gpuNode, Supplier<T> work) {
        if (gpuNode.isEmpty()) {
            return new Outcome<>(work.get(), false, "GPU node unknown: pinned memory made by the loading thread");
        }
        int node = gpuNode.getAsInt();
        if (host.isEmpty() || host.get().pinner().isEmpty()) {
            return new Outcome<>(work.get(), false, "no thread pinning on this machine: pinned memory for GPU node " + node
                    + " made by the loading thread");
        }
        HostContext h = host.get();
        Topology topology = h.topology();
        if (!topology.hasNode(node) || topology.node(node).cpus().isEmpty()) {
            return new Outcome<>(work.get(), false, "GPU node " + node + " has no CPUs in the topology: pinned memory made by "
                    + "the loading thread");
        }
        CpuSet allowed = topology.node(node).cpus().and(h.process().affinity());
        int cpu = allowed.isEmpty() ? topology.node(node).cpus().first() : allowed.first();
        Object[] result = new Object[1];
        Throwable[] failure = new Throwable[1];
        String[] pinFailure = new String[1];
        Thread thread = Thread.ofPlatform().name("ferry-pinned-cache-node" + node).unstarted(() -> {
            try {
                h.pinner().get().pinCurrentThread(cpu);
            } catch (RuntimeException e) {
                pinFailure[0] = String.valueOf(e.getMessage());
            }
            try {
                result[0] = work.get();
            } catch (Throwable e) {
                failure[0] = e;
            }
        });
        thread.start();
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while making the pinned expert cache", e);
        }
        if (failure[0] instanceof RuntimeException re) {
            throw re;
        }
        if (failure[0] instanceof Error err) {
            throw err;
        }
        if (failure[0] != null) {
            throw new IllegalStateException(failure[0]);
        }
        @SuppressWarnings("unchecked")
        T value = (T) result[0];
        return pinFailure[0] == null
                ? new Outcome<>(value, true, "pinned memory made by a thread on CPU " + cpu + " of GPU node " + node
                        + " (first touch lands there)")
                : new Outcome<>(value, false, "could not pin the copying thread to CPU " + cpu + " of GPU node " + node
                        + " (" + pinFailure[0] + "): pages land where the kernel puts them");
    }

    /**
     * Where {@code segments} live: verified with {@code move_pages} where the machine allows it;
     * otherwise {@code gpuNode} when the memory was made there, else unknown.
     */
    static NodeFinding find(Optional<HostContext> host, List<MemorySegment> segments, OptionalInt gpuNode,
                            boolean madeOnGpuNode) {
        String unverified;
        Optional<SystemCalls> calls = host.flatMap(h -> h.allocator().calls());
        if (segments.isEmpty()) {
            return new NodeFinding(OptionalInt.empty(), "node: none (nothing pinned)", Optional.empty());
        }
        if (calls.isPresent()) {
            try {
                PagePlacement placement = query(calls.get(), segments);
                if (placement.bytesPerNode().size() == 1 && placement.bytesNotPresent() == 0 && placement.bytesUnknown() == 0) {
                    int node = placement.bytesPerNode().keySet().iterator().next();
                    String where = gpuNode.isPresent() && gpuNode.getAsInt() != node
                            ? " (not the GPU's node " + gpuNode.getAsInt() + ")" : "";
                    return new NodeFinding(OptionalInt.of(node), "node " + node + where + ", verified by move_pages: "
                            + placement.describe(), Optional.of(placement));
                }
                return new NodeFinding(OptionalInt.empty(), "node: not one node, move_pages reports " + placement.describe(),
                        Optional.of(placement));
            } catch (NativeCallException e) {
                unverified = "move_pages refused (" + e.getMessage() + ")";
            }
        } else {
            unverified = "no Linux system calls to verify it";
        }
        if (host.isPresent() && host.get().topology().nodeIds().size() == 1) {
            int only = host.get().topology().nodeIds().get(0);
            return new NodeFinding(OptionalInt.of(only), "node " + only + " (the machine's only NUMA node; not verified: "
                    + unverified + ")", Optional.empty());
        }
        if (madeOnGpuNode) {
            int node = gpuNode.getAsInt();
            return new NodeFinding(OptionalInt.of(node), "node " + node + " (made by a thread on that node; not verified: "
                    + unverified + ")", Optional.empty());
        }
        return new NodeFinding(OptionalInt.empty(), "node unknown (" + unverified + ")", Optional.empty());
    }

    /** Sampled {@code move_pages} query of every segment, page counts scaled to bytes. */
    private static PagePlacement query(SystemCalls calls, List<MemorySegment> segments) {
        long pageSize = calls.pageSize();
        Map<Integer, Long> bytesPerNode = new HashMap<>();
        long total = 0;
        long notPresent = 0;
        long unknown = 0;
        boolean sampled = false;
        int[] status = new int[VERIFY_PAGES_PER_BUFFER];
        for (MemorySegment segment : segments) {
            long first = segment.address() & -pageSize;
            long pages = (segment.address() + segment.byteSize() - first + pageSize - 1) / pageSize;
            long stride = Math.max(1, (pages + VERIFY_PAGES_PER_BUFFER - 1) / VERIFY_PAGES_PER_BUFFER);
            int count = (int) ((pages + stride - 1) / stride);
            sampled |= stride > 1;
            calls.queryPageNodes(first, pageSize * stride, count, status, 0);
            double bytesPerPage = (double) segment.byteSize() / count;
            for (int i = 0; i < count; i++) {
                long share = Math.round(bytesPerPage * (i + 1)) - Math.round(bytesPerPage * i);
                int s = status[i];
                if (s >= 0) {
                    bytesPerNode.merge(s, share, Long::sum);
                } else if (s == SystemCalls.PAGE_NOT_PRESENT) {
                    notPresent += share;
                } else {
                    unknown += share;
                }
            }
            total += segment.byteSize();
        }
        return new PagePlacement(total, bytesPerNode, notPresent, unknown, -1, sampled, "");
    }
}
