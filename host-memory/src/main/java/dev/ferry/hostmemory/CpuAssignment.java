package dev.ferry.hostmemory;

import dev.ferry.hostmemory.topology.CpuSet;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Which CPUs run workers, per NUMA node (ascending), in worker order (physical cores first).
 *
 * @param notes lines saying where the selection departed from what was asked
 */
public record CpuAssignment(Map<Integer, List<Integer>> cpusByNode, List<String> notes) {

    public CpuAssignment {
        Map<Integer, List<Integer>> copy = new TreeMap<>();
        cpusByNode.forEach((node, cpus) -> copy.put(node, List.copyOf(cpus)));
        cpusByNode = Collections.unmodifiableMap(copy);
        notes = List.copyOf(notes);
    }

    public List<Integer> nodes() {
        return List.copyOf(cpusByNode.keySet());
    }

    public List<Integer> cpus(int node) {
        List<Integer> cpus = cpusByNode.get(node);
        if (cpus == null) {
            throw new IllegalArgumentException("no CPUs selected on node " + node + " (nodes in use: " + nodes() + ")");
        }
        return cpus;
    }

    public int threads() {
        return cpusByNode.values().stream().mapToInt(List::size).sum();
    }

    public CpuSet allCpus() {
        return cpusByNode.values().stream().map(CpuSet::of).reduce(CpuSet.empty(), CpuSet::or);
    }

    /** E.g. {@code 56 threads: node 0 28 (CPUs 0-27), node 1 28 (CPUs 28-55)}. */
    public String describe() {
        StringBuilder sb = new StringBuilder().append(threads()).append(threads() == 1 ? " thread:" : " threads:");
        String sep = " ";
        for (Map.Entry<Integer, List<Integer>> e : cpusByNode.entrySet()) {
            sb.append(sep).append("node ").append(e.getKey()).append(' ').append(e.getValue().size())
                    .append(" (CPUs ").append(CpuSet.of(e.getValue()).toListString()).append(')');
            sep = ", ";
        }
        for (String note : notes) {
            sb.append(System.lineSeparator()).append("  note: ").append(note);
        }
        return sb.toString();
    }
}
