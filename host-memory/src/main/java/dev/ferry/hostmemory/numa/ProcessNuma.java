package dev.ferry.hostmemory.numa;

import dev.ferry.hostmemory.linux.MemPolicy;
import dev.ferry.hostmemory.linux.NativeCallException;
import dev.ferry.hostmemory.linux.SystemCalls;
import dev.ferry.hostmemory.topology.CpuSet;
import dev.ferry.hostmemory.topology.Topology;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The NUMA binding the process runs under: the node it started on ({@code getcpu}), its CPU
 * affinity ({@code sched_getaffinity}) and its memory policy ({@code get_mempolicy}).
 *
 * @param notes lines saying what could not be read and what was assumed instead
 */
public record ProcessNuma(int startNode, CpuSet affinity, MemPolicy memPolicy, List<String> notes) {

    public ProcessNuma {
        notes = List.copyOf(notes);
    }

    /** A process free to run anywhere with the default memory policy, started on {@code startNode}. */
    public static ProcessNuma unbound(Topology topology, int startNode) {
        return new ProcessNuma(startNode, topology.onlineCpus(), new MemPolicy(MemPolicy.MPOL_DEFAULT, List.of()), List.of());
    }

    /** Reads the calling thread's binding; without system calls, assumes an unbound process on the first node. */
    public static ProcessNuma current(Topology topology, Optional<SystemCalls> calls) {
        List<String> notes = new ArrayList<>();
        int firstNode = topology.nodesWithCpus().isEmpty() ? topology.nodeIds().get(0) : topology.nodesWithCpus().get(0);
        if (calls.isEmpty()) {
            notes.add("no Linux system calls: assuming an unbound process started on node " + firstNode);
            return new ProcessNuma(firstNode, topology.onlineCpus(), new MemPolicy(MemPolicy.MPOL_DEFAULT, List.of()), notes);
        }
        SystemCalls sys = calls.get();
        int start;
        try {
            start = sys.getcpu().node();
            if (!topology.hasNode(start)) {
                notes.add("getcpu reports node " + start + ", unknown to sysfs: using node " + firstNode);
                start = firstNode;
            }
        } catch (NativeCallException e) {
            notes.add("getcpu failed (" + e.getMessage() + "): start node taken as " + firstNode);
            start = firstNode;
        }
        CpuSet affinity;
        try {
            affinity = sys.threadAffinity().and(topology.onlineCpus());
        } catch (NativeCallException e) {
            notes.add("sched_getaffinity failed (" + e.getMessage() + "): all online CPUs assumed");
            affinity = topology.onlineCpus();
        }
        MemPolicy policy;
        try {
            policy = sys.getMempolicy();
        } catch (NativeCallException e) {
            notes.add("get_mempolicy failed (" + e.getMessage() + "): default memory policy assumed");
            policy = new MemPolicy(MemPolicy.MPOL_DEFAULT, List.of());
        }
        return new ProcessNuma(start, affinity, policy, notes);
    }

    /** Nodes that hold at least one CPU of the affinity, ascending. */
    public List<Integer> affinityNodes(Topology topology) {
        return topology.nodesWithCpus().stream().filter(n -> !topology.node(n).cpus().and(affinity).isEmpty()).toList();
    }
}
