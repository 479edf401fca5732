package dev.ferry.moe.plan;

import dev.ferry.hostmemory.numa.NumaPlan;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.TreeMap;

/**
 * Where every tensor of a model lives (exactly one home each, plus explicit extra copies) and
 * what that costs on the GPU and per NUMA node, computed from the header alone before anything
 * is loaded. {@link #problems()} says why the plan does not fit; empty means it fits.
 *
 * @param gpuLayers the resolved {@code -ngl} (at most the layer count + 1)
 * @param firstGpuLayer the first repeating layer {@code -ngl} puts on the GPU (layers >= it go there)
 * @param numa the host-side NUMA plan of the host tensors, under {@code --numa}
 * @param hostNodeBytes resident host bytes per NUMA node: placed weights, mirrors, pinned copy,
 *     host KV cache (the file mapping is not placed and not counted here)
 * @param mappedFileBytes bytes of the file mapping ({@code --mmap}); 0 with {@code --no-mmap}
 * @param readInPlaceBytes host weights read straight from the file mapping (page cache)
 * @param notes where the plan departs from the plain meaning of the flags, and why
 * @param warnings risks that do not stop the run (paging from disk, little free memory)
 * @param problems reasons the plan does not fit, each with the numbers
 */
public record PlacementPlan(
        Path file,
        long fileSize,
        PlanOptions options,
        ModelShape shape,
        GpuTarget gpu,
        int gpuLayers,
        int firstGpuLayer,
        int contextLength,
        List<TensorPlacement> tensors,
        Optional<NumaPlan> numa,
        PinnedCopy pinned,
        GpuBudget gpuBudget,
        HostBudget hostBudget,
        Map<Integer, Long> hostNodeBytes,
        long kvBytesGpu,
        long kvBytesHost,
        long mappedFileBytes,
        long readInPlaceBytes,
        List<String> notes,
        List<String> warnings,
        List<String> problems) {

    /**
     * The pinned memory for expert uploads.
     *
     * @param node the NUMA node it lives on (the GPU's)
     * @param copiedBytes bytes of pinned copies (extra RAM)
     * @param registeredBytes bytes pinned where they already are ({@code --pin-in-place}; no extra RAM)
     * @param stagingBytes the double-buffered pinned staging area of {@code --pinned-cache-size}
     * @param expertBytes host {@code *_exps} bytes the cache is for
     */
    public record PinnedCopy(PinnedCache.Mode mode, OptionalInt node, long copiedBytes, long registeredBytes, long stagingBytes,
                             long expertBytes) {

        public long extraBytes() {
            return copiedBytes + stagingBytes;
        }
    }

    /**
     * Device memory the plan needs.
     *
     * @param computeBytes activations of one micro-batch plus a fixed reserve (see {@link PlacementPlanner})
     * @param expertUploadBytes two device buffers for streaming host experts in prefill
     * @param capacity the device's memory; empty without a GPU
     */
    public record GpuBudget(long weightBytes, long kvBytes, long computeBytes, long expertUploadBytes, Optional<Long> capacity) {

        public long totalBytes() {
            return weightBytes + kvBytes + computeBytes + expertUploadBytes;
        }
    }

    /**
     * Host RAM the plan needs besides the file mapping.
     *
     * @param placedBytes host weights copied into placed or anonymous buffers, mirrors included
     * @param capacity MemTotal of the machine (sum over nodes); empty when unknown
     */
    public record HostBudget(long placedBytes, long pinnedBytes, long kvBytes, Optional<Long> capacity) {

        public long totalBytes() {
            return placedBytes + pinnedBytes + kvBytes;
        }
    }

    public PlacementPlan {
        tensors = List.copyOf(tensors);
        hostNodeBytes = Collections.unmodifiableMap(new TreeMap<>(hostNodeBytes));
        notes = List.copyOf(notes);
        warnings = List.copyOf(warnings);
        problems = List.copyOf(problems);
    }

    public boolean fits() {
        return problems.isEmpty();
    }

    /** The problems on one line, for the error exit of {@code inspect} and {@code run}. */
    public String refusal() {
        return String.join("; ", problems);
    }

    public int layerCount() {
        return shape.layers();
    }

    public long tensorBytes() {
        return tensors.stream().mapToLong(TensorPlacement::bytes).sum();
    }

    public long bytesAt(Home home) {
        return tensors.stream().filter(t -> t.home() == home).mapToLong(TensorPlacement::bytes).sum();
    }

    public long kvBytes() {
        return kvBytesGpu + kvBytesHost;
    }

    /** Bytes of every extra copy of this kind, over all tensors. */
    public long copyBytes(ExtraCopy.Kind kind) {
        return tensors.stream().mapToLong(t -> t.copyBytes(kind)).sum();
    }

    public TensorPlacement tensor(String name) {
        return tensors.stream().filter(t -> t.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no tensor '" + name + "' in the plan"));
    }
}
