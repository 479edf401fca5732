package dev.ferry.moe.placement;

import dev.ferry.hostmemory.BufferOptions;
import dev.ferry.hostmemory.ByteSizes;
import dev.ferry.hostmemory.HostArena;
import dev.ferry.hostmemory.PlacedBuffer;
import dev.ferry.hostmemory.PlacementPolicy;
import dev.ferry.hostmemory.numa.NumaPlan;
import dev.ferry.hostmemory.numa.NumaPlanner;
import dev.ferry.hostmemory.numa.NumaPolicy;
import dev.ferry.hostmemory.numa.PlanItem;
import dev.ferry.loader.GgufFile;
import dev.ferry.loader.TensorInfo;
import dev.ferry.moe.kernel.ExpertWeights;
import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Plans and materialises the routed experts of a GGUF model under a {@code --numa} policy.
 * Every expert {@code E} of layer {@code L} is one plan item per projection, the three sharing
 * the expert group {@code blk.L.expert.E} so they stay on one node under {@code shard}; every
 * other tensor is a shared item (in the plan so the bytes per node show where everything would
 * go; {@link DenseCopies} copies them, when asked, onto the node that computes with them). Materialising copies each expert's bytes from the
 * mapping into {@link PlacedBuffer}s: one buffer per tensor and distinct placement, holding the
 * experts of that placement in ascending order.
 */
public final class ExpertPlacement {

    private static final Pattern EXPERT_TENSOR = Pattern.compile("blk\\.(\\d+)\\.ffn_(gate|up|down)_exps\\.weight");
    /** Above this many bytes, copying prints a progress line. */
    private static final long PROGRESS_THRESHOLD = ByteSizes.GIB;

    private ExpertPlacement() {
    }

    /** The name of the plan item for expert {@code expert} of a {@code *_exps} tensor. */
    public static String itemName(String tensor, int expert) {
        return tensor + "[" + expert + "]";
    }

    /** The expert group of expert {@code expert} in {@code layer}. */
    public static String expertGroup(int layer, int expert) {
        return "blk." + layer + ".expert." + expert;
    }

    /** Layers that have all three {@code *_exps} tensors, ascending. */
    public static List<Integer> expertLayers(GgufFile file) {
        Map<Integer, Integer> seen = new TreeMap<>();
        for (TensorInfo t : file.tensors()) {
            Matcher m = EXPERT_TENSOR.matcher(t.name());
            if (m.matches()) {
                seen.merge(Integer.parseInt(m.group(1)), 1, Integer::sum);
            }
        }
        return seen.entrySet().stream().filter(e -> e.getValue() == 3).map(Map.Entry::getKey).toList();
    }

    /** Expert items (one per expert and projection) and shared items (every other tensor). */
    public static List<PlanItem> planItems(GgufFile file) {
        List<Integer> layers = expertLayers(file);
        List<PlanItem> items = new ArrayList<>();
        for (TensorInfo t : file.tensors()) {
            Matcher m = EXPERT_TENSOR.matcher(t.name());
            if (m.matches() && layers.contains(Integer.parseInt(m.group(1)))) {
                int layer = Integer.parseInt(m.group(1));
                int experts = expertCount(file, t);
                long each = t.byteSize() / experts;
                for (int e = 0; e < experts; e++) {
                    items.add(PlanItem.expert(itemName(t.name(), e), each, expertGroup(layer, e)));
                }
            } else {
                items.add(PlanItem.shared(t.name(), t.byteSize()));
            }
        }
        return items;
    }

    /** The plan over {@code nodes} (the nodes whose workers compute). */
    public static NumaPlan plan(GgufFile file, NumaPolicy policy, HostContext host, List<Integer> nodes) {
        return NumaPlanner.plan(policy, host.topology(), host.process(), nodes, planItems(file));
    }

    /** {@link #materialise(GgufFile, NumaPlan, HostContext, BufferOptions, PrintStream, String)} labelled {@code --numa POLICY}. */
    public static PlacedExperts materialise(GgufFile file, NumaPlan plan, HostContext host, BufferOptions options,
                                            PrintStream progress) {
        return materialise(file, plan, host, options, progress, "--numa " + plan.policy().flagValue());
    }

    /**
     * Copies the experts into buffers per {@code plan}. {@code progress} gets a progress line when
     * the copies are large; {@code label} names the choice in reports (e.g. {@code --no-mmap}).
     */
    public static PlacedExperts materialise(GgufFile file, NumaPlan plan, HostContext host, BufferOptions options,
                                            PrintStream progress, String label) {
        Map<String, NumaPlan.ItemPlan> byName = new HashMap<>();
        for (NumaPlan.ItemPlan ip : plan.items()) {
            byName.put(ip.item().name(), ip);
        }
        List<Integer> layers = expertLayers(file);
        long total = 0;
        for (int layer : layers) {
            for (ExpertProjection p : ExpertProjection.values()) {
                NumaPlan.ItemPlan first = item(byName, p.tensorName(layer), 0);
                total += file.tensor(p.tensorName(layer)).byteSize() * first.copies().size();
            }
        }
        Progress bar = new Progress(progress, total);
        HostArena arena = new HostArena(host.allocator());
        try {
            Map<Integer, PlacedExperts.Layer> placed = new LinkedHashMap<>();
            for (int layer : layers) {
                placed.put(layer, placeLayer(file, plan, byName, layer, arena, options, bar));
            }
            bar.done();
            List<String> notes = new ArrayList<>(plan.notes());
            return new PlacedExperts(plan, arena, placed, notes, label);
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    /** One buffer per (projection, placement); then each node's view of the buffers it reads. */
    private static PlacedExperts.Layer placeLayer(GgufFile file, NumaPlan plan, Map<String, NumaPlan.ItemPlan> byName, int layer,
                                                 HostArena arena, BufferOptions options, Progress bar) {
        Map<ExpertProjection, ExpertWeights> mapped = new EnumMap<>(ExpertProjection.class);
        Map<ExpertProjection, Map<PlacementPolicy, ExpertWeights>> buffers = new EnumMap<>(ExpertProjection.class);
        Map<ExpertProjection, Map<PlacementPolicy, List<Integer>>> members = new EnumMap<>(ExpertProjection.class);
        int experts = -1;
        for (ExpertProjection p : ExpertProjection.values()) {
            TensorInfo t = file.tensor(p.tensorName(layer));
            int count = expertCount(file, t);
            if (experts >= 0 && count != experts) {
                throw new IllegalArgumentException(file.path() + ": " + t.name() + " has " + count + " experts, the other expert tensors of layer "
                        + layer + " have " + experts);
            }
            experts = count;
            ExpertWeights source = new ExpertWeights(t.type(), file.data(t), count, t.dim(1), t.dim(0));
            mapped.put(p, source);
            Map<PlacementPolicy, List<Integer>> byPlacement = new LinkedHashMap<>();
            for (int e = 0; e < count; e++) {
                for (NumaPlan.Copy c : item(byName, t.name(), e).copies()) {
                    byPlacement.computeIfAbsent(c.placement(), k -> new ArrayList<>()).add(e);
                }
            }
            Map<PlacementPolicy, ExpertWeights> copies = new LinkedHashMap<>();
            for (Map.Entry<PlacementPolicy, List<Integer>> entry : byPlacement.entrySet()) {
                copies.put(entry.getKey(), copy(source, entry.getValue(), entry.getKey(), arena, options, bar));
            }
            buffers.put(p, copies);
            members.put(p, byPlacement);
        }
        List<PlacedExperts.NodeView> views = new ArrayList<>();
        for (int node : plan.nodes()) {
            views.add(view(plan, byName, layer, node, experts, buffers, members));
        }
        return new PlacedExperts.Layer(mapped, views);
    }

    private static PlacedExperts.NodeView view(NumaPlan plan, Map<String, NumaPlan.ItemPlan> byName, int layer, int node, int experts,
                                               Map<ExpertProjection, Map<PlacementPolicy, ExpertWeights>> buffers,
                                               Map<ExpertProjection, Map<PlacementPolicy, List<Integer>>> members) {
        // Under shard a node computes exactly the experts whose only copy lives on it; otherwise every
        // expert, from the copy the plan says this node reads.
        PlacementPolicy placement = plan.policy() == NumaPolicy.SHARD ? PlacementPolicy.onNode(node)
                : item(byName, ExpertProjection.GATE.tensorName(layer), 0).copyReadBy(node).placement();
        List<Integer> own = members.get(ExpertProjection.GATE).getOrDefault(placement, List.of());
        for (ExpertProjection p : ExpertProjection.values()) {
            if (!members.get(p).getOrDefault(placement, List.of()).equals(own)) {
                throw new IllegalStateException("layer " + layer + ": the plan split expert " + p + " tensors differently from gate on node " + node);
            }
        }
        int[] localIndex = new int[experts];
        Arrays.fill(localIndex, -1);
        for (int i = 0; i < own.size(); i++) {
            localIndex[own.get(i)] = i;
        }
        boolean local = placement instanceof PlacementPolicy.OnNode(int n) ? n == node : plan.nodes().size() == 1;
        return new PlacedExperts.NodeView(node, buffers.get(ExpertProjection.GATE).get(placement), buffers.get(ExpertProjection.UP).get(placement),
                buffers.get(ExpertProjection.DOWN).get(placement), own, localIndex, local);
    }

    private static ExpertWeights copy(ExpertWeights source, List<Integer> experts, PlacementPolicy placement, HostArena arena,
                                      BufferOptions options, Progress bar) {
        long each = source.expertBytes();
        PlacedBuffer buffer = arena.allocate(each * experts.size(), placement, options);
        MemorySegment dst = buffer.segment();
        for (int i = 0; i < experts.size(); i++) {
            MemorySegment.copy(source.expert(experts.get(i)).data(), 0, dst, i * each, each);
            bar.advance(each);
        }
        return new ExpertWeights(source.type(), dst, experts.size(), source.rows(), source.cols());
    }

    private static NumaPlan.ItemPlan item(Map<String, NumaPlan.ItemPlan> byName, String tensor, int expert) {
        NumaPlan.ItemPlan ip = byName.get(itemName(tensor, expert));
        if (ip == null) {
            throw new IllegalArgumentException("the NUMA plan has no item for expert " + expert + " of " + tensor);
        }
        return ip;
    }

    private static int expertCount(GgufFile file, TensorInfo t) {
        if (t.nDims() != 3 || t.dim(2) < 1 || t.dim(2) > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(file.path() + ": expert tensor '" + t.name() + "' has shape " + t.shapeText()
                    + ", expected [cols, rows, experts]");
        }
        return (int) t.dim(2);
    }

    /** A one-line progress display on stderr for copies of a gibibyte or more. */
    private static final class Progress {
        private final Optional<PrintStream> out;
        private final long total;
        private long done;
        private int shownPercent = -1;

        Progress(PrintStream out, long total) {
            this.out = total >= PROGRESS_THRESHOLD ? Optional.ofNullable(out) : Optional.empty();
            this.total = total;
        }

        void advance(long bytes) {
            done += bytes;
            int percent = (int) (100 * done / Math.max(total, 1));
            if (out.isPresent() && percent != shownPercent) {
                shownPercent = percent;
                out.get().printf(Locale.ROOT, "\rferry: placing experts %3d%% (%s of %s)", percent, ByteSizes.format(done), ByteSizes.format(total));
                out.get().flush();
            }
        }

        void done() {
            out.ifPresent(PrintStream::println);
        }
    }
}
