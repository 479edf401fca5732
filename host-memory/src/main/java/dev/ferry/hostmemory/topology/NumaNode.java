package dev.ferry.hostmemory.topology;

import java.util.List;

/**
 * A NUMA node: its online CPUs, its memory and its distance row (SLIT units; 10 is local).
 *
 * @param memTotalBytes {@code MemTotal} of the node, -1 when unknown
 * @param memFreeBytes {@code MemFree} of the node, -1 when unknown
 * @param distances distance to node i at index i of {@link Topology#nodes()} order; empty when unknown
 */
public record NumaNode(int id, CpuSet cpus, long memTotalBytes, long memFreeBytes, List<Integer> distances) {

    public NumaNode {
        distances = List.copyOf(distances);
    }

    public boolean hasCpus() {
        return !cpus.isEmpty();
    }
}
