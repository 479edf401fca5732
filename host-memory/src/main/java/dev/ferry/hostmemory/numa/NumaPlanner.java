package dev.ferry.hostmemory.numa;

import dev.ferry.hostmemory.ByteSizes;
import dev.ferry.hostmemory.PlacementPolicy;
import dev.ferry.hostmemory.linux.MemPolicy;
import dev.ferry.hostmemory.topology.Topology;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Turns a {@link NumaPolicy}, the machine and a list of items into a {@link NumaPlan}. */
public final class NumaPlanner {

    private NumaPlanner() {
    }

    /**
     * The nodes whose workers compute under {@code policy}: the start node for {@code isolate},
     * otherwise the nodes holding CPUs of the process affinity.
     */
    public static List<Integer> nodesInUse(NumaPolicy policy, Topology topology, ProcessNuma process) {
        List<Integer> affinityNodes = process.affinityNodes(topology);
        if (policy == NumaPolicy.ISOLATE) {
            return List.of(process.startNode());
        }
        if (affinityNodes.isEmpty()) {
            throw new IllegalArgumentException("the process affinity " + process.affinity().toListString() + " holds no online CPU");
        }
        return affinityNodes;
    }

    /** Plans over {@link #nodesInUse}. */
    public static NumaPlan plan(NumaPolicy policy, Topology topology, ProcessNuma process, List<PlanItem> items) {
        return plan(policy, topology, process, nodesInUse(policy, topology, process), items);
    }

    /** Plans over the given nodes in use. */
    public static NumaPlan plan(NumaPolicy policy, Topology topology, ProcessNuma process, List<Integer> nodes, List<PlanItem> items) {
        if (nodes.isEmpty()) {
            throw new IllegalArgumentException("a NUMA plan needs at least one node");
        }
        for (int n : nodes) {
            if (!topology.hasNode(n)) {
                throw new IllegalArgumentException("node " + n + " is not on this machine (nodes: " + topology.nodeIds() + ")");
            }
        }
        List<String> notes = new ArrayList<>(process.notes());
        if (nodes.size() == 1 && policy != NumaPolicy.ISOLATE && policy != NumaPolicy.NUMACTL) {
            notes.add((topology.nodes().size() == 1 ? "one NUMA node" : "one node in use") + ": --numa " + policy.flagValue()
                    + " places everything on node " + nodes.get(0));
        }
        List<NumaPlan.ItemPlan> plans = switch (policy) {
            case DISTRIBUTE -> items.stream().map(i -> new NumaPlan.ItemPlan(i, List.of(spread(i.bytes(), nodes, nodes)))).toList();
            case ISOLATE -> items.stream().map(i -> new NumaPlan.ItemPlan(i, List.of(onNode(i.bytes(), nodes.get(0), nodes)))).toList();
            case NUMACTL -> numactl(topology, process, nodes, items, notes);
            case MIRROR -> items.stream().map(i -> mirror(i, nodes)).toList();
            case SHARD -> shard(nodes, items, notes);
        };
        Map<Integer, Long> bytesPerNode = new TreeMap<>();
        nodes.forEach(n -> bytesPerNode.put(n, 0L));
        for (NumaPlan.ItemPlan ip : plans) {
            for (NumaPlan.Copy c : ip.copies()) {
                c.bytesPerNode().forEach((n, b) -> bytesPerNode.merge(n, b, Long::sum));
            }
        }
        return new NumaPlan(policy, nodes, plans, bytesPerNode, notes);
    }

    private static NumaPlan.Copy onNode(long bytes, int node, List<Integer> readers) {
        return new NumaPlan.Copy(PlacementPolicy.onNode(node), readers, Map.of(node, bytes));
    }

    /** Interleaved pages: an even split (remainder pages to the first nodes), a bind when there is one node. */
    private static NumaPlan.Copy spread(long bytes, List<Integer> over, List<Integer> readers) {
        if (over.size() == 1) {
            return onNode(bytes, over.get(0), readers);
        }
        return new NumaPlan.Copy(PlacementPolicy.interleave(over), readers, evenSplit(bytes, over));
    }

    private static Map<Integer, Long> evenSplit(long bytes, List<Integer> over) {
        Map<Integer, Long> split = new LinkedHashMap<>();
        long each = bytes / over.size();
        long rest = bytes % over.size();
        for (int i = 0; i < over.size(); i++) {
            split.put(over.get(i), each + (i < rest ? 1 : 0));
        }
        return split;
    }

    private static NumaPlan.ItemPlan mirror(PlanItem item, List<Integer> nodes) {
        List<NumaPlan.Copy> copies = new ArrayList<>();
        for (int n : nodes) {
            copies.add(onNode(item.bytes(), n, List.of(n)));
        }
        return new NumaPlan.ItemPlan(item, copies);
    }

    /**
     * Expert groups packed greedily, largest first, each onto the node with the fewest bytes so
     * far (ties to the earlier node), so node totals differ by at most one group. Items without a
     * group are read by every node and are mirrored so no read crosses a socket.
     */
    private static List<NumaPlan.ItemPlan> shard(List<Integer> nodes, List<PlanItem> items, List<String> notes) {
        Map<String, Long> groupBytes = new LinkedHashMap<>();
        long sharedBytes = 0;
        int shared = 0;
        for (PlanItem i : items) {
            if (i.expertGroup().isPresent()) {
                groupBytes.merge(i.expertGroup().get(), i.bytes(), Long::sum);
            } else {
                sharedBytes += i.bytes();
                shared++;
            }
        }
        List<String> order = new ArrayList<>(groupBytes.keySet());
        order.sort(Comparator.comparing((String g) -> groupBytes.get(g)).reversed());
        Map<Integer, Long> load = new LinkedHashMap<>();
        nodes.forEach(n -> load.put(n, 0L));
        Map<String, Integer> home = new HashMap<>();
        for (String g : order) {
            int target = nodes.get(0);
            for (int n : nodes) {
                if (load.get(n) < load.get(target)) {
                    target = n;
                }
            }
            home.put(g, target);
            load.merge(target, groupBytes.get(g), Long::sum);
        }
        if (shared > 0 && nodes.size() > 1) {
            notes.add(shared + " items outside any expert group (" + ByteSizes.format(sharedBytes)
                    + ") are mirrored on every node");
        }
        List<NumaPlan.ItemPlan> plans = new ArrayList<>();
        for (PlanItem i : items) {
            if (i.expertGroup().isPresent()) {
                plans.add(new NumaPlan.ItemPlan(i, List.of(onNode(i.bytes(), home.get(i.expertGroup().get()), nodes))));
            } else {
                plans.add(mirror(i, nodes));
            }
        }
        return plans;
    }

    /**
     * Leaves placement to the policy the process was started with (numactl --membind/--interleave
     * apply to new mappings by themselves); estimates where the bytes land for the report.
     */
    private static List<NumaPlan.ItemPlan> numactl(Topology topology, ProcessNuma process, List<Integer> nodes, List<PlanItem> items,
                                                   List<String> notes) {
        MemPolicy mp = process.memPolicy();
        List<Integer> memNodes = mp.nodes().stream().filter(topology::hasNode).toList();
        Map<Integer, Long> share;
        String estimate;
        switch (mp.mode()) {
            case MemPolicy.MPOL_INTERLEAVE, MemPolicy.MPOL_WEIGHTED_INTERLEAVE -> {
                share = memNodes.isEmpty() ? Map.of(process.startNode(), 1L) : fractions(memNodes);
                estimate = "memory policy interleave over " + memNodes;
            }
            case MemPolicy.MPOL_BIND, MemPolicy.MPOL_PREFERRED, MemPolicy.MPOL_PREFERRED_MANY -> {
                int first = memNodes.contains(process.startNode()) || memNodes.isEmpty() ? process.startNode() : memNodes.get(0);
                share = Map.of(first, 1L);
                estimate = "memory policy " + mp.modeName() + " " + memNodes + (memNodes.size() > 1 ? ", estimated on node " + first : "");
            }
            default -> {
                share = Map.of(process.startNode(), 1L);
                estimate = "memory policy " + mp.modeName() + ": pages land on the node of the thread that first writes them, estimated node "
                        + process.startNode();
            }
        }
        notes.add("numactl: CPUs " + process.affinity().toListString() + " (nodes " + nodes + "), " + estimate);
        List<Integer> shareNodes = List.copyOf(share.keySet());
        List<NumaPlan.ItemPlan> plans = new ArrayList<>();
        for (PlanItem i : items) {
            Map<Integer, Long> bytes = shareNodes.size() == 1 ? Map.of(shareNodes.get(0), i.bytes()) : evenSplit(i.bytes(), shareNodes);
            plans.add(new NumaPlan.ItemPlan(i, List.of(new NumaPlan.Copy(PlacementPolicy.kernelDefault(), nodes, bytes))));
        }
        return plans;
    }

    private static Map<Integer, Long> fractions(List<Integer> over) {
        Map<Integer, Long> m = new LinkedHashMap<>();
        over.forEach(n -> m.put(n, 1L));
        return m;
    }
}
