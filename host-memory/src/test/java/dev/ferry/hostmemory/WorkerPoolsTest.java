package dev.ferry.hostmemory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ferry.hostmemory.linux.Errno;
import dev.ferry.hostmemory.linux.NativeCallException;
import dev.ferry.hostmemory.linux.SystemCalls;
import dev.ferry.hostmemory.topology.CpuSet;
import dev.ferry.hostmemory.topology.Topology;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.junit.jupiter.api.Test;

class WorkerPoolsTest {

    @Test
    void workersArePinnedToTheirCpusAndReadItBack() {
        Optional<SystemCalls> linux = SystemCalls.linux();
        assumeTrue(linux.isPresent(), "needs Linux system calls");
        Topology topology = Topology.system();
        CpuSet affinity = linux.get().threadAffinity();
        int node = topology.nodeOfCpu(affinity.first());
        CpuAssignment assignment = CpuSelection.threads(2).select(topology, List.of(node), affinity);
        try (WorkerPools pools = WorkerPools.create(assignment, "pin")) {
            NodeWorkerPool pool = pools.pool(node);
            assertTrue(pool.pinned(), pool.pinningNote());
            AtomicReferenceArray<CpuSet> seen = new AtomicReferenceArray<>(pool.size());
            AtomicIntegerArray ranOn = new AtomicIntegerArray(pool.size());
            pool.run((n, worker, workers) -> {
                seen.set(worker, linux.get().threadAffinity());
                ranOn.set(worker, linux.get().getcpu().cpu());
            });
            for (int w = 0; w < pool.size(); w++) {
                int cpu = pool.cpus().get(w);
                assertEquals(CpuSet.of(cpu), seen.get(w), "worker " + w);
                assertEquals(cpu, ranOn.get(w), "worker " + w + " ran on its CPU");
            }
            assertTrue(pools.describe().contains("workers on node " + node + " pinned to CPUs " + CpuSet.of(pool.cpus()).toListString()),
                    pools.describe());
        }
        assertEquals(affinity, linux.get().threadAffinity(), "the caller's own affinity is untouched");
    }

    @Test
    void refusedPinningLeavesWorkingUnpinnedWorkersAndANote() {
        ThreadPinner refusing = cpu -> {
            throw new NativeCallException("sched_setaffinity", Errno.EPERM, "simulated");
        };
        CpuAssignment assignment = new CpuAssignment(Map.of(0, List.of(0, 1)), List.of());
        try (WorkerPools pools = WorkerPools.create(assignment, Optional.of(refusing), "refused")) {
            NodeWorkerPool pool = pools.pool(0);
            assertFalse(pool.pinned());
            assertTrue(pool.pinningNote().startsWith("2 workers on node 0, pinning refused (CPU "), pool.pinningNote());
            assertTrue(pool.pinningNote().contains("sched_setaffinity failed: EPERM (1, operation not permitted)"), pool.pinningNote());
            AtomicIntegerArray hits = new AtomicIntegerArray(2);
            pool.run((worker, workers) -> hits.incrementAndGet(worker));
            assertEquals(1, hits.get(0));
            assertEquals(1, hits.get(1));
        }
    }

    @Test
    void allNodesRunConcurrentlyEachWithItsOwnWorkers() {
        CpuAssignment assignment = new CpuAssignment(Map.of(0, List.of(0, 1), 1, List.of(2)), List.of());
        try (WorkerPools pools = WorkerPools.create(assignment, Optional.empty(), "all")) {
            assertEquals(3, pools.totalWorkers());
            AtomicIntegerArray perNode = new AtomicIntegerArray(2);
            for (int job = 0; job < 200; job++) {
                pools.runOnAllNodes((node, worker, workers) -> {
                    assertEquals(node == 0 ? 2 : 1, workers);
                    perNode.incrementAndGet(node);
                });
            }
            assertEquals(400, perNode.get(0));
            assertEquals(200, perNode.get(1));
            assertTrue(pools.notes().contains("1 workers on node 1, not pinned (no affinity calls on this system)"), pools.notes().toString());
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> pools.runOnAllNodes((node, worker, workers) -> {
                if (node == 1) {
                    throw new IllegalStateException("node one failed");
                }
            }));
            assertEquals("node one failed", e.getMessage());
            pools.runOnAllNodes((node, worker, workers) -> perNode.incrementAndGet(node));
            assertEquals(201, perNode.get(1), "pools still work after a failure");
            IllegalArgumentException missing = assertThrows(IllegalArgumentException.class, () -> pools.pool(2));
            assertEquals("no worker pool for NUMA node 2 (pools on nodes [0, 1])", missing.getMessage());
        }
    }

    @Test
    void aNodePoolIsAWorkerPoolWhoseThreadsDoAllTheWork() {
        try (NodeWorkerPool pool = new NodeWorkerPool(0, List.of(0, 1, 0), "plain", Optional.empty())) {
            Thread caller = Thread.currentThread();
            AtomicIntegerArray hits = new AtomicIntegerArray(3);
            for (int job = 0; job < 100; job++) {
                pool.run((worker, workers) -> {
                    assertFalse(Thread.currentThread() == caller, "the caller only waits");
                    hits.incrementAndGet(worker);
                });
            }
            for (int w = 0; w < 3; w++) {
                assertEquals(100, hits.get(w));
            }
        }
    }
}
