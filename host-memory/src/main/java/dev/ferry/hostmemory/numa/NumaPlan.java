package dev.ferry.hostmemory.numa;

import dev.ferry.hostmemory.ByteSizes;
import dev.ferry.hostmemory.PlacementPolicy;
import dev.ferry.hostmemory.topology.NumaNode;
import dev.ferry.hostmemory.topology.Topology;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Where every item goes under a {@link NumaPolicy}: its copies, the placement of each and which
 * nodes' workers read it, and the bytes each node will hold. Computed before anything is loaded.
 *
 * @param nodes the nodes in use (whose workers compute)
 * @param bytesPerNode planned resident bytes per node, all copies included
 * @param notes lines saying where the plan departed from the policy's plain meaning
 */
public record NumaPlan(NumaPolicy policy, List<Integer> nodes, List<ItemPlan> items, Map<Integer, Long> bytesPerNode, List<String> notes) {

    /**
     * One copy of an item.
     *
     * @param placement how its buffer is placed
     * @param readerNodes the nodes whose workers read this copy
     * @param bytesPerNode where its bytes are expected to be
     */
    public record Copy(PlacementPolicy placement, List<Integer> readerNodes, Map<Integer, Long> bytesPerNode) {
        public Copy {
            readerNodes = List.copyOf(readerNodes);
            bytesPerNode = Collections.unmodifiableMap(new TreeMap<>(bytesPerNode));
        }
    }

    /** An item and its copies (one, or one per node under {@code mirror}). */
    public record ItemPlan(PlanItem item, List<Copy> copies) {
        public ItemPlan {
            copies = List.copyOf(copies);
        }

        /** The nodes holding a byte of this item. */
        public List<Integer> homeNodes() {
            return copies.stream().flatMap(c -> c.bytesPerNode().keySet().stream()).distinct().sorted().toList();
        }

        /** The copy that {@code node}'s workers read. */
        public Copy copyReadBy(int node) {
            return copies.stream().filter(c -> c.readerNodes().contains(node)).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("no copy of '" + item.name() + "' is read by node " + node));
        }
    }

    public NumaPlan {
        nodes = List.copyOf(nodes);
        items = List.copyOf(items);
        bytesPerNode = Collections.unmodifiableMap(new TreeMap<>(bytesPerNode));
        notes = List.copyOf(notes);
    }

    public long bytesOnNode(int node) {
        return bytesPerNode.getOrDefault(node, 0L);
    }

    /** Resident bytes of all copies together. */
    public long totalBytes() {
        return bytesPerNode.values().stream().mapToLong(Long::longValue).sum();
    }

    public ItemPlan item(String name) {
        return items.stream().filter(i -> i.item().name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no item '" + name + "' in the plan"));
    }

    /** The node each expert group lives on under {@code shard}, in plan order (empty for other policies). */
    public Map<String, Integer> expertGroupNodes() {
        Map<String, Integer> out = new LinkedHashMap<>();
        for (ItemPlan ip : items) {
            ip.item().expertGroup().ifPresent(g -> {
                if (ip.copies().size() == 1 && ip.copies().get(0).placement() instanceof PlacementPolicy.OnNode(int node)) {
                    out.putIfAbsent(g, node);
                }
            });
        }
        return Collections.unmodifiableMap(out);
    }

    /** Nodes whose planned bytes exceed their memory (total, or free when known), one line each. */
    public List<String> capacityProblems(Topology topology) {
        List<String> out = new ArrayList<>();
        bytesPerNode.forEach((node, bytes) -> {
            if (!topology.hasNode(node)) {
                return;
            }
            NumaNode n = topology.node(node);
            if (n.memTotalBytes() > 0 && bytes > n.memTotalBytes()) {
                out.add("node " + node + " would hold " + ByteSizes.format(bytes) + " but has " + ByteSizes.format(n.memTotalBytes()) + " in total");
            } else if (n.memFreeBytes() > 0 && bytes > n.memFreeBytes()) {
                out.add("node " + node + " would hold " + ByteSizes.format(bytes) + " but has " + ByteSizes.format(n.memFreeBytes()) + " free now");
            }
        });
        return out;
    }

    /** The summary {@code ferry inspect --numa} prints: policy, nodes, bytes per node against their memory, notes. */
    public String describe(Topology topology) {
        StringBuilder sb = new StringBuilder();
        long itemBytes = items.stream().mapToLong(i -> i.item().bytes()).sum();
        sb.append(String.format(Locale.ROOT, "--numa %s (%s) over nodes %s: %d items, %s of weights, %s resident%n",
                policy.flagValue(), policy.description(), nodes, items.size(), ByteSizes.format(itemBytes), ByteSizes.format(totalBytes())));
        bytesPerNode.forEach((node, bytes) -> {
            String capacity = "";
            if (topology.hasNode(node) && topology.node(node).memTotalBytes() > 0) {
                NumaNode n = topology.node(node);
                capacity = String.format(Locale.ROOT, " of %s (%.1f%%)", ByteSizes.format(n.memTotalBytes()), 100.0 * bytes / n.memTotalBytes());
            }
            sb.append("  node ").append(node).append(": ").append(ByteSizes.format(bytes)).append(capacity).append(System.lineSeparator());
        });
        for (String note : notes) {
            sb.append("  note: ").append(note).append(System.lineSeparator());
        }
        for (String problem : capacityProblems(topology)) {
            sb.append("  warning: ").append(problem).append(System.lineSeparator());
        }
        return sb.toString();
    }
}
