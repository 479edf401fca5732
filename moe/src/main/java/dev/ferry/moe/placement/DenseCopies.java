package dev.ferry.moe.placement;

import dev.ferry.hostmemory.BufferOptions;
import dev.ferry.hostmemory.ByteSizes;
import dev.ferry.hostmemory.HostArena;
import dev.ferry.hostmemory.PagePlacement;
import dev.ferry.hostmemory.PlacedBuffer;
import dev.ferry.hostmemory.PlacementPolicy;
import dev.ferry.loader.GgufFile;
import dev.ferry.loader.TensorInfo;
import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Copies of the non-expert tensors (attention, norms, router, dense FFN, embeddings, output) in
 * one placed buffer, for the pool that computes with them: on the node whose workers run the
 * dense layers. Looked up by tensor name when a session binds its weights. Owns the buffer.
 */
public final class DenseCopies implements AutoCloseable {

    /** Each tensor starts on a 64-byte boundary, like the vector loads want. */
    private static final long TENSOR_ALIGNMENT = 64;

    private final HostArena arena;
    private final Map<String, MemorySegment> byName;
    private final PlacementPolicy placement;

    private DenseCopies(HostArena arena, Map<String, MemorySegment> byName, PlacementPolicy placement) {
        this.arena = arena;
        this.byName = Collections.unmodifiableMap(byName);
        this.placement = placement;
    }

    /** Copies every tensor of {@code file} except {@code exclude} into one buffer placed per {@code placement}. */
    public static Optional<DenseCopies> materialise(GgufFile file, Set<String> exclude, PlacementPolicy placement, HostContext host,
                                                    BufferOptions options, PrintStream log) {
        List<TensorInfo> tensors = file.tensors().stream().filter(t -> !exclude.contains(t.name()) && t.byteSize() > 0).toList();
        long total = 0;
        for (TensorInfo t : tensors) {
            total = ByteSizes.alignUp(total, TENSOR_ALIGNMENT) + t.byteSize();
        }
        if (tensors.isEmpty()) {
            return Optional.empty();
        }
        if (total >= ByteSizes.GIB) {
            log.println("ferry: copying " + ByteSizes.format(total) + " of non-expert tensors " + placement.describe());
        }
        HostArena arena = new HostArena(host.allocator());
        try {
            PlacedBuffer buffer = arena.allocate(total, placement, options);
            Map<String, MemorySegment> byName = new LinkedHashMap<>();
            long at = 0;
            for (TensorInfo t : tensors) {
                at = ByteSizes.alignUp(at, TENSOR_ALIGNMENT);
                MemorySegment dst = buffer.segment().asSlice(at, t.byteSize());
                MemorySegment.copy(file.data(t), 0, dst, 0, t.byteSize());
                byName.put(t.name(), dst);
                at += t.byteSize();
            }
            return Optional.of(new DenseCopies(arena, byName, placement));
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    /** The copy of tensor {@code name}, or empty when it was not copied. */
    public Optional<MemorySegment> data(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    public int tensorCount() {
        return byName.size();
    }

    public long bytes() {
        return arena.totalBytes();
    }

    public PagePlacement verify(long maxPages) {
        return arena.verify(maxPages);
    }

    /** E.g. {@code 362 KiB of non-expert tensors (131) copied on node 0; 1 buffer: bound to node 0 ...}. */
    public String describe() {
        return ByteSizes.format(bytes()) + " of non-expert tensors (" + byName.size() + ") copied " + placement.describe() + "; "
                + String.join("; ", arena.placementNotes());
    }

    @Override
    public void close() {
        arena.close();
    }
}
