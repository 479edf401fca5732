package dev.ferry.moe.plan;

import dev.ferry.hostmemory.ByteSizes;
import dev.ferry.hostmemory.numa.NumaPlan;
import dev.ferry.hostmemory.numa.NumaPlanner;
import dev.ferry.hostmemory.numa.PlanItem;
import dev.ferry.hostmemory.numa.ProcessNuma;
import dev.ferry.hostmemory.topology.NumaNode;
import dev.ferry.hostmemory.topology.Topology;
import dev.ferry.loader.GgufFile;
import dev.ferry.loader.TensorInfo;
import dev.ferry.moe.placement.ExpertPlacement;
import dev.ferry.moe.runtime.KvCache;
import dev.ferry.moe.runtime.KvCacheType;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Makes a {@link PlacementPlan} from a file's tensor catalogue and the user's flags, with
 * llama.cpp's rules:
 * <ul>
 * <li>{@code -ngl N}: repeating layers {@code i >= n_layer - N} on the GPU; the output layer
 *     ({@code output}, {@code output_norm}) too when {@code N > n_layer}; the input layer
 *     ({@code token_embd}) always on the CPU. Default: every layer when there is a GPU, none
 *     without one.</li>
 * <li>Override rules ({@code -ot}, {@code --cpu-moe}, {@code --n-cpu-moe}) then decide per tensor,
 *     the first matching rule winning; an unmatched tensor keeps its layer's home.</li>
 * <li>The KV cache of a layer lives with the layer's {@code -ngl} device.</li>
 * </ul>
 * The compute estimate is 4 bytes x {@code -ub} tokens x (vocabulary (logits) + 6 x embedding
 * (residual, norms, attention in/out) + 3 x the widest FFN activation (gate, up, product) +
 * heads x context (one layer's attention scores)) plus a fixed {@value #DEVICE_RESERVE_MIB} MiB for
 * kernels and cuBLAS workspace. With routed experts on the host and anything on the GPU, prefill
 * streams them to the GPU: two device buffers of the largest host {@code *_exps} tensor. Under
 * {@code --pinned-cache-size} the experts that are not pinned stream through a pinned staging
 * area of two such tensors (at most what is left unpinned), on the GPU's node like the cache.
 * Host RAM counts placed copies, pinned memory and the host KV cache; weights read in place from
 * the file mapping only warn when they do not fit (the kernel pages them from disk, as with
 * llama.cpp's mmap), while a shortfall of the rest refuses the plan.
 */
public final class PlacementPlanner {

    static final long DEVICE_RESERVE_MIB = 256;
    private static final Pattern LAYER = Pattern.compile("^blk\\.(\\d+)\\.");
    private static final Pattern ROUTED_EXPERTS = Pattern.compile("\\.ffn_(up|down|gate)_exps\\b");
    private static final Pattern EXPERT_ITEM = Pattern.compile("^(.*)\\[\\d+]$");

    private PlacementPlanner() {
    }

    /** True for the routed-expert tensors ({@code *.ffn_{up,down,gate}_exps}). */
    public static boolean isRoutedExperts(String tensorName) {
        return ROUTED_EXPERTS.matcher(tensorName).find();
    }

    /** The repeating layer of a tensor, or the input / output layer for the rest (as llama.cpp assigns them). */
    public static int layerOf(String tensorName) {
        Matcher m = LAYER.matcher(tensorName);
        if (m.find()) {
            return Integer.parseInt(m.group(1));
        }
        return tensorName.startsWith("token_embd") || tensorName.startsWith("pos_embd") || tensorName.startsWith("token_types")
                ? TensorPlacement.INPUT_LAYER : TensorPlacement.OUTPUT_LAYER;
    }

    /**
     * Plans {@code file} for {@code gpu} on the machine described by {@code topology} and
     * {@code process}. Reads only the header. Tensors sent to a GPU that is not there are an error.
     */
    /** Alignment of each expert in the pinned copy (what {@code PinnedExpertCache} does). */
    private static final long PINNED_ALIGNMENT = 64L << 10;

    private static long roundUp(long bytes, long alignment) {
        return (bytes + alignment - 1) / alignment * alignment;
    }

    public static PlacementPlan plan(GgufFile file, PlanOptions options, GpuTarget gpu, Topology topology, ProcessNuma process) {
        ModelShape shape = ModelShape.of(file);
        List<String> notes = new ArrayList<>();
        shape.note().ifPresent(notes::add);
        int layers = shape.layers();

        int ngl;
        if (options.gpuLayers().isPresent()) {
            ngl = Math.min(options.gpuLayers().getAsInt(), layers + 1);
        } else if (gpu.present()) {
            ngl = layers + 1;
            notes.add("-ngl not given: every layer on the GPU (-ngl " + ngl + "), as llama.cpp does when it has a GPU");
        } else {
            ngl = 0;
            notes.add(gpu.description() + ": every layer on the CPU (-ngl 0)");
        }
        int firstGpuLayer = Math.max(layers - ngl, 0);
        boolean outputOnGpu = ngl > layers;

        // One home per tensor: the layer's -ngl device, then the first matching override rule.
        Map<String, Home> homes = new LinkedHashMap<>();
        Map<String, String> reasons = new HashMap<>();
        List<String> gpuWithoutDevice = new ArrayList<>();
        for (TensorInfo t : file.tensors()) {
            int layer = layerOf(t.name());
            Home home;
            String reason;
            if (layer == TensorPlacement.INPUT_LAYER) {
                home = Home.HOST;
                reason = "input layer: on the CPU, as in llama.cpp";
            } else if (layer == TensorPlacement.OUTPUT_LAYER) {
                home = outputOnGpu ? Home.GPU : Home.HOST;
                reason = "output layer: -ngl " + ngl + (outputOnGpu ? " > " : " <= ") + layers + " layers";
            } else {
                home = ngl > 0 && layer >= firstGpuLayer ? Home.GPU : Home.HOST;
                reason = "-ngl " + ngl + ": layer " + layer + (home == Home.GPU ? " on the GPU" : " on the CPU");
            }
            Optional<OverrideRule> rule = options.overrides().ruleFor(t.name());
            if (rule.isPresent()) {
                home = rule.get().target().home();
                reason = rule.get().source() + " " + rule.get().pattern() + "=" + rule.get().target();
            }
            if (home == Home.GPU && !gpu.present() && gpuWithoutDevice.size() < 3) {
                gpuWithoutDevice.add(t.name() + " (" + reason + ")");
            }
            homes.put(t.name(), home);
            reasons.put(t.name(), reason);
        }
        if (!gpuWithoutDevice.isEmpty()) {
            throw new IllegalArgumentException("the plan puts tensors on the GPU, e.g. " + String.join(", ", gpuWithoutDevice)
                    + ", but there is no GPU (" + gpu.description() + "): use -ngl 0 (and no =CUDA0 rules) for the CPU only, "
                    + "--gpu-memory SIZE to plan for a GPU you don't have, or --device sim");
        }

        // Host side: under --numa the host tensors go through the NUMA planner (experts one item per expert).
        Map<String, Map<Integer, Long>> homeNodes = new HashMap<>();
        Map<String, Map<Integer, Long>> mirrors = new HashMap<>();
        Optional<NumaPlan> numaPlan = Optional.empty();
        long hostWeights = 0;
        long hostExperts = 0;
        long pinnedFootprint = 0;
        Map<Integer, Long> hostExpertsPerLayer = new HashMap<>();
        for (TensorInfo t : file.tensors()) {
            if (homes.get(t.name()) == Home.HOST) {
                hostWeights += t.byteSize();
                if (isRoutedExperts(t.name())) {
                    hostExperts += t.byteSize();
                    hostExpertsPerLayer.merge(layerOf(t.name()), t.byteSize(), Long::sum);
                    // The pinned copy puts each expert at a 64 KiB-aligned address (plus one alignment per tensor).
                    long experts = t.shape().length > 2 ? t.shape()[2] : 1;
                    pinnedFootprint += experts * roundUp(t.byteSize() / experts, PINNED_ALIGNMENT) + PINNED_ALIGNMENT;
                }
            }
        }
        // Expert uploads go through two device buffers of one layer's host experts each.
        long largestHostExperts = hostExpertsPerLayer.values().stream().mapToLong(Long::longValue).max().orElse(0);
        Map<Integer, Long> nodeBytes = new TreeMap<>();
        long placedBytes = 0;
        long readInPlace = 0;
        if (options.numa().isPresent()) {
            List<PlanItem> items = ExpertPlacement.planItems(file).stream()
                    .filter(i -> homes.get(tensorOfItem(i.name())) == Home.HOST).toList();
            NumaPlan plan = NumaPlanner.plan(options.numa().get(), topology, process, items);
            numaPlan = Optional.of(plan);
            for (NumaPlan.ItemPlan ip : plan.items()) {
                String tensor = tensorOfItem(ip.item().name());
                for (int c = 0; c < ip.copies().size(); c++) {
                    Map<Integer, Long> target = (c == 0 ? homeNodes : mirrors).computeIfAbsent(tensor, k -> new TreeMap<>());
                    ip.copies().get(c).bytesPerNode().forEach((node, bytes) -> target.merge(node, bytes, Long::sum));
                }
            }
            plan.bytesPerNode().forEach((node, bytes) -> nodeBytes.merge(node, bytes, Long::sum));
            placedBytes = plan.totalBytes();
        } else if (!options.mmap()) {
            int node = process.startNode();
            for (TensorInfo t : file.tensors()) {
                if (homes.get(t.name()) == Home.HOST) {
                    homeNodes.put(t.name(), Map.of(node, t.byteSize()));
                }
            }
            nodeBytes.merge(node, hostWeights, Long::sum);
            placedBytes = hostWeights;
            notes.add("--no-mmap without --numa: host weights copied into anonymous memory, first touch on node " + node
                    + " (the node the process starts on)");
        } else {
            readInPlace = hostWeights;
        }

        // The pinned copy of the host experts on the GPU's node.
        OptionalInt pinNode = OptionalInt.empty();
        long pinnedCopied = 0;
        long pinnedRegistered = 0;
        long staging = 0;
        PinnedCache pinned = options.pinned();
        boolean pinFull = false;
        if (pinned.mode() != PinnedCache.Mode.NONE) {
            if (!gpu.present()) {
                notes.add(pinned.mode().flag() + ": no GPU, so no pinned memory is planned (experts are computed on the CPU)");
            } else if (hostExperts == 0) {
                notes.add(pinned.mode().flag() + ": no routed experts live in host RAM, nothing to pin (use -ot exps=CPU or --cpu-moe)");
            } else {
                int node = gpu.node().orElse(process.startNode());
                if (gpu.node().isEmpty()) {
                    notes.add("the GPU's NUMA node is unknown: the pinned memory is planned on node " + node + " (where the process starts)");
                }
                pinNode = OptionalInt.of(node);
                switch (pinned.mode()) {
                    case FULL -> {
                        pinnedCopied = pinnedFootprint;
                        pinFull = true;
                    }
                    case IN_PLACE -> {
                        pinnedRegistered = hostExperts;
                        if (readInPlace > 0) {
                            notes.add("--pin-in-place registers the file mapping itself (read-only) as no --numa or --no-mmap placed the experts");
                        }
                    }
                    case CAPPED -> {
                        pinnedCopied = Math.min(pinned.capBytes(), hostExperts);
                        staging = pinnedCopied < hostExperts ? Math.min(2 * largestHostExperts, hostExperts - pinnedCopied) : 0;
                        notes.add("--pinned-cache-size: pins " + ByteSize.format(pinnedCopied) + " of " + ByteSize.format(hostExperts)
                                + " of experts, the most-routed ones (counted at run time)"
                                + (staging > 0 ? "; the rest streams through " + ByteSize.format(staging) + " of pinned staging" : ""));
                    }
                    case NONE -> throw new IllegalStateException("unreachable");
                }
                nodeBytes.merge(node, pinnedCopied + staging, Long::sum);
            }
        }

        // KV cache: each layer's with its -ngl device.
        int context = options.contextLength() == 0 ? shape.trainedContext() : options.contextLength();
        if (options.contextLength() == 0) {
            notes.add("-c 0: the model's trained context, " + context + " tokens");
        }
        int gpuKvLayers = ngl == 0 ? 0 : layers - firstGpuLayer;
        // The device attention kernel reads an F32 cache: -ctk / -ctv apply to the CPU layers only.
        long kvGpu = KvCache.bytesFor(gpuKvLayers, context, shape.keyWidth(), shape.valueWidth(), KvCacheType.F32, KvCacheType.F32);
        if (gpuKvLayers > 0 && (options.cacheTypeK() != KvCacheType.F32 || options.cacheTypeV() != KvCacheType.F32)) {
            notes.add("the KV cache of GPU layers is F32 (the device attention kernel reads F32); -ctk/-ctv apply to CPU layers");
        }
        long kvHost = KvCache.bytesFor(layers - gpuKvLayers, context, shape.keyWidth(), shape.valueWidth(), options.cacheTypeK(),
                options.cacheTypeV());
        if (kvHost > 0) {
            nodeBytes.merge(process.startNode(), kvHost, Long::sum);
        }

        // GPU budget.
        long gpuWeights = 0;
        for (TensorInfo t : file.tensors()) {
            if (homes.get(t.name()) == Home.GPU) {
                gpuWeights += t.byteSize();
            }
        }
        boolean usesGpu = gpuWeights > 0 || kvGpu > 0;
        long compute = usesGpu ? computeEstimate(shape, options.microBatch(), context) : 0;
        long uploads = usesGpu && hostExperts > 0 ? 2 * largestHostExperts : 0;
        PlacementPlan.GpuBudget gpuBudget = new PlacementPlan.GpuBudget(gpuWeights, kvGpu, compute, uploads, gpu.memoryBytes());

        // Host budget: MemTotal of every node (one node: /proc/meminfo).
        long memTotal = topology.nodes().stream().mapToLong(NumaNode::memTotalBytes).filter(b -> b > 0).sum();
        Optional<Long> hostCapacity = memTotal > 0 ? Optional.of(memTotal) : Optional.empty();
        PlacementPlan.HostBudget hostBudget = new PlacementPlan.HostBudget(placedBytes, pinnedCopied + staging, kvHost, hostCapacity);

        List<String> problems = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
        if (gpu.present() && gpuBudget.totalBytes() > gpu.memoryBytes().get()) {
            problems.add("the plan needs " + ByteSize.format(gpuBudget.totalBytes()) + " of VRAM: weights " + ByteSize.format(gpuWeights)
                    + " + KV cache " + ByteSize.format(kvGpu) + " + compute " + ByteSize.format(compute)
                    + (uploads > 0 ? " + expert upload buffers " + ByteSize.format(uploads) : "")
                    + ", the device has " + ByteSize.format(gpu.memoryBytes().get())
                    + " (lower -ngl, keep experts on the CPU with --cpu-moe / -ot exps=CPU, or lower -c)");
        }
        if (hostCapacity.isPresent() && hostBudget.totalBytes() > memTotal) {
            problems.add("the plan needs " + ByteSize.format(hostBudget.totalBytes()) + " of host RAM: placed weights "
                    + ByteSize.format(placedBytes) + " + pinned " + ByteSize.format(pinnedCopied + staging) + " + KV cache "
                    + ByteSize.format(kvHost) + ", the machine has " + ByteSize.format(memTotal) + " (MemTotal)");
        } else {
            for (Map.Entry<Integer, Long> e : nodeBytes.entrySet()) {
                if (topology.hasNode(e.getKey())) {
                    long total = topology.node(e.getKey()).memTotalBytes();
                    if (total > 0 && e.getValue() > total) {
                        problems.add("NUMA node " + e.getKey() + " would hold " + ByteSize.format(e.getValue()) + " but has "
                                + ByteSize.format(total) + " (MemTotal)");
                    }
                }
            }
        }
        if (hostCapacity.isPresent() && readInPlace > 0 && readInPlace + hostBudget.totalBytes() > memTotal) {
            warnings.add("the host weights read from the file mapping (" + ByteSize.format(readInPlace) + ") and the rest ("
                    + ByteSize.format(hostBudget.totalBytes()) + ") exceed RAM (" + ByteSize.format(memTotal)
                    + "): pages will be read from disk as they are used");
        }
        numaPlan.ifPresent(p -> p.capacityProblems(topology).stream().filter(s -> s.contains("free now"))
                .forEach(warnings::add));

        List<TensorPlacement> placements = new ArrayList<>(homes.size());
        for (TensorInfo t : file.tensors()) {
            List<ExtraCopy> copies = new ArrayList<>();
            mirrors.getOrDefault(t.name(), Map.of()).forEach((node, bytes) -> copies.add(new ExtraCopy(ExtraCopy.Kind.NUMA_MIRROR, node, bytes)));
            if (pinFull && homes.get(t.name()) == Home.HOST && isRoutedExperts(t.name())) {
                copies.add(new ExtraCopy(ExtraCopy.Kind.PINNED, pinNode.getAsInt(), t.byteSize()));
            }
            placements.add(new TensorPlacement(t, layerOf(t.name()), homes.get(t.name()), homeNodes.getOrDefault(t.name(), Map.of()),
                    copies, reasons.get(t.name())));
        }
        PlacementPlan.PinnedCopy pinnedCopy = new PlacementPlan.PinnedCopy(pinned.mode(), pinNode, pinnedCopied, pinnedRegistered, staging,
                hostExperts);
        return new PlacementPlan(file.path(), file.fileSize(), options, shape, gpu, ngl, firstGpuLayer, context, placements, numaPlan,
                pinnedCopy, gpuBudget, hostBudget, nodeBytes, kvGpu, kvHost, options.mmap() ? file.fileSize() : 0, readInPlace, notes,
                warnings, problems);
    }

    /** The compute-buffer estimate documented on the class. */
    static long computeEstimate(ModelShape shape, int microBatch, int context) {
        long perToken = (long) shape.vocab() + 6L * shape.embedding() + 3L * shape.ffnWidth() + (long) shape.heads() * context;
        return 4L * microBatch * perToken + DEVICE_RESERVE_MIB * ByteSizes.MIB;
    }

    private static String tensorOfItem(String itemName) {
        Matcher m = EXPERT_ITEM.matcher(itemName);
        return m.matches() ? m.group(1) : itemName;
    }

    /** Names of the tensors whose home is {@code home}, for tests and reports. */
    public static Set<String> namesAt(PlacementPlan plan, Home home) {
        Set<String> out = new HashSet<>();
        plan.tensors().stream().filter(t -> t.home() == home).forEach(t -> out.add(t.name()));
        return out;
    }
}
