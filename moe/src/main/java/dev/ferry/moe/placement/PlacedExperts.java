package dev.ferry.moe.placement;

import dev.ferry.hostmemory.ByteSizes;
import dev.ferry.hostmemory.HostArena;
import dev.ferry.hostmemory.PagePlacement;
import dev.ferry.hostmemory.numa.NumaPlan;
import dev.ferry.hostmemory.numa.NumaPolicy;
import dev.ferry.moe.kernel.ExpertWeights;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The routed-expert tensors of a model copied into NUMA-placed buffers per a {@link NumaPlan}, as
 * each node's workers see them: per layer and node a {@link NodeView} with that node's expert
 * tensors (only its own experts under {@code shard}, a full local replica under {@code mirror},
 * the one shared copy otherwise) and the map from global to local expert index. Owns the buffers
 * ({@link #close()} frees them); the original mapped tensors stay available through
 * {@link #mapped} (for GPU uploads).
 */
public final class PlacedExperts implements AutoCloseable {

    /**
     * The expert tensors node {@code node}'s workers read in one layer.
     *
     * @param gate, up, down the node's tensors, holding {@code experts().size()} experts in ascending id
     *     order; null when the node holds no expert of this layer
     * @param experts the global ids of the experts this node may compute, ascending
     * @param localIndex global expert id to index in the node's tensors, -1 when not there
     * @param local true when the plan put these bytes on {@code node} itself
     */
    public record NodeView(int node, ExpertWeights gate, ExpertWeights up, ExpertWeights down, List<Integer> experts,
                           int[] localIndex, boolean local) {
        public NodeView {
            experts = List.copyOf(experts);
        }

        public boolean holds(int expert) {
            return localIndex[expert] >= 0;
        }

        public ExpertWeights weights(ExpertProjection p) {
            return switch (p) {
                case GATE -> gate;
                case UP -> up;
                case DOWN -> down;
            };
        }
    }

    /** The mapped tensors and the per-node views of one expert layer. */
    record Layer(Map<ExpertProjection, ExpertWeights> mapped, List<NodeView> views) {
    }

    private final NumaPlan plan;
    private final HostArena arena;
    private final Map<Integer, Layer> layers;
    private final List<String> notes;
    private final String label;

    PlacedExperts(NumaPlan plan, HostArena arena, Map<Integer, Layer> layers, List<String> notes, String label) {
        this.label = label;
        this.plan = plan;
        this.arena = arena;
        this.layers = Collections.unmodifiableMap(new TreeMap<>(layers));
        this.notes = List.copyOf(notes);
    }

    public NumaPlan plan() {
        return plan;
    }

    public NumaPolicy policy() {
        return plan.policy();
    }

    /** The nodes whose workers compute, in the order of {@link #views}. */
    public List<Integer> nodes() {
        return plan.nodes();
    }

    /** True when each expert is computed only on the one node that holds it ({@code shard}). */
    public boolean fixedHomes() {
        return plan.policy() == NumaPolicy.SHARD;
    }

    public boolean hasLayer(int layer) {
        return layers.containsKey(layer);
    }

    public List<Integer> layers() {
        return List.copyOf(layers.keySet());
    }

    /** One view per node of {@link #nodes()}, in that order. */
    public List<NodeView> views(int layer) {
        return layer(layer).views();
    }

    public NodeView view(int layer, int node) {
        return layer(layer).views().stream().filter(v -> v.node() == node).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no view of layer " + layer + " for node " + node));
    }

    /** Under {@code shard}: the node that holds (and computes) {@code expert} of {@code layer}. */
    public int homeNode(int layer, int expert) {
        for (NodeView v : layer(layer).views()) {
            if (v.holds(expert) && v.local()) {
                return v.node();
            }
        }
        throw new IllegalArgumentException("expert " + expert + " of layer " + layer + " has no single home node under --numa "
                + plan.policy().flagValue());
    }

    /** The original tensor in the file mapping (kept for GPU uploads). */
    public ExpertWeights mapped(int layer, ExpertProjection p) {
        return layer(layer).mapped().get(p);
    }

    private Layer layer(int layer) {
        Layer l = layers.get(layer);
        if (l == null) {
            throw new IllegalArgumentException("layer " + layer + " has no placed experts");
        }
        return l;
    }

    /** Bytes of placed buffers per node as planned (all copies). */
    public Map<Integer, Long> plannedBytesPerNode() {
        return plan.bytesPerNode();
    }

    /** Bytes of expert copies per node as planned (the plan's shared items excluded: they stay mapped). */
    public Map<Integer, Long> expertBytesPerNode() {
        Map<Integer, Long> out = new TreeMap<>();
        plan.nodes().forEach(n -> out.put(n, 0L));
        for (NumaPlan.ItemPlan ip : plan.items()) {
            if (ip.item().expertGroup().isPresent()) {
                ip.copies().forEach(c -> c.bytesPerNode().forEach((n, b) -> out.merge(n, b, Long::sum)));
            }
        }
        return out;
    }

    public long placedBytes() {
        return arena.totalBytes();
    }

    /** Where the pages really are, querying at most {@code maxPagesPerBuffer} pages of each buffer. */
    public PagePlacement verify(long maxPagesPerBuffer) {
        return arena.verify(maxPagesPerBuffer);
    }

    /** Lines saying which path each buffer took (one per distinct path) and where the placement departed from the policy. */
    public List<String> notes() {
        List<String> out = new ArrayList<>(notes);
        out.addAll(arena.placementNotes());
        return out;
    }

    /** The notes of materialising (buffer paths, what stays mapped), without the plan's own notes. */
    public List<String> materialisationNotes() {
        List<String> out = new ArrayList<>(notes.subList(plan.notes().size(), notes.size()));
        out.addAll(arena.placementNotes());
        return out;
    }

    /** One line: the bytes of expert copies in placed buffers and per node. */
    public String bytesLine() {
        StringBuilder sb = new StringBuilder(label + ": " + ByteSizes.format(placedBytes())
                + " of expert weights in " + arena.buffers().size() + " placed buffers;");
        expertBytesPerNode().forEach((node, bytes) -> sb.append(" node ").append(node).append(' ').append(ByteSizes.format(bytes)));
        return sb.toString();
    }

    /** Bytes per node and the notes, one line each, for stderr. */
    public List<String> summary() {
        List<String> out = new ArrayList<>();
        out.add(bytesLine());
        notes().forEach(n -> out.add("note: " + n));
        return out;
    }

    @Override
    public void close() {
        arena.close();
    }
}
