package dev.ferry.moe.plan;

import dev.ferry.loader.TensorInfo;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Where one tensor lives.
 *
 * @param layer the repeating layer (blk.N), or {@link #INPUT_LAYER} / {@link #OUTPUT_LAYER}
 * @param home GPU or host
 * @param homeNodes for a host home placed by {@code --numa} (or first-touch with {@code --no-mmap}),
 *     the bytes per NUMA node of the home copy; empty when it is read from the file mapping
 * @param copies extra copies (mirrors, the pinned copy), explicit
 * @param reason why it lives there, e.g. "-ot exps=CPU" or "-ngl 99: layer 3 on the GPU"
 */
public record TensorPlacement(TensorInfo tensor, int layer, Home home, Map<Integer, Long> homeNodes, List<ExtraCopy> copies,
                              String reason) {

    public static final int INPUT_LAYER = -1;
    public static final int OUTPUT_LAYER = Integer.MAX_VALUE;

    public TensorPlacement {
        Objects.requireNonNull(tensor, "tensor");
        Objects.requireNonNull(home, "home");
        homeNodes = java.util.Collections.unmodifiableMap(new TreeMap<>(homeNodes));
        copies = List.copyOf(copies);
        Objects.requireNonNull(reason, "reason");
    }

    public String name() {
        return tensor.name();
    }

    public long bytes() {
        return tensor.byteSize();
    }

    public boolean routedExperts() {
        return PlacementPlanner.isRoutedExperts(tensor.name());
    }

    public long copyBytes(ExtraCopy.Kind kind) {
        return copies.stream().filter(c -> c.kind() == kind).mapToLong(ExtraCopy::bytes).sum();
    }

    /** "blk.3", "input" or "output". */
    public String layerLabel() {
        return layer == INPUT_LAYER ? "input" : layer == OUTPUT_LAYER ? "output" : "blk." + layer;
    }
}
