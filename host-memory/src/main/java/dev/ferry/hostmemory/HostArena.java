package dev.ferry.hostmemory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Owns many {@link PlacedBuffer}s with one lifetime, like an {@code Arena}: closing it unmaps
 * every buffer (last allocated first). Also sums their verified placement for reports. Allocation
 * and closing are thread-safe.
 */
public final class HostArena implements AutoCloseable {

    private final HostAllocator allocator;
    private final List<PlacedBuffer> buffers = new ArrayList<>();
    private boolean closed;

    public HostArena(HostAllocator allocator) {
        this.allocator = allocator;
    }

    public PlacedBuffer allocate(long bytes, PlacementPolicy policy) {
        return allocate(bytes, policy, BufferOptions.defaults());
    }

    public PlacedBuffer allocate(long bytes, PlacementPolicy policy, BufferOptions options) {
        synchronized (buffers) {
            if (closed) {
                throw new IllegalStateException("host arena is closed");
            }
            PlacedBuffer buffer = allocator.allocate(bytes, policy, options);
            buffers.add(buffer);
            return buffer;
        }
    }

    /** The live buffers, in allocation order. */
    public List<PlacedBuffer> buffers() {
        synchronized (buffers) {
            return List.copyOf(buffers);
        }
    }

    public long totalBytes() {
        return buffers().stream().mapToLong(PlacedBuffer::byteSize).sum();
    }

    /**
     * Where the pages of all buffers are, querying at most {@code maxPagesPerBuffer} pages of each
     * (the counts are scaled), as {@code run -v} reports it.
     */
    public PagePlacement verify(long maxPagesPerBuffer) {
        long bytes = 0;
        long notPresent = 0;
        long unknown = 0;
        long huge = 0;
        boolean hugeKnown = true;
        boolean sampled = false;
        String note = "";
        Map<Integer, Long> perNode = new HashMap<>();
        for (PlacedBuffer b : buffers()) {
            PagePlacement p = b.verify(maxPagesPerBuffer);
            bytes += p.bytes();
            notPresent += p.bytesNotPresent();
            unknown += p.bytesUnknown();
            sampled |= p.sampled();
            if (note.isEmpty()) {
                note = p.note();
            }
            if (p.anonHugePageBytes() < 0) {
                hugeKnown = false;
            } else {
                huge += p.anonHugePageBytes();
            }
            p.bytesPerNode().forEach((n, v) -> perNode.merge(n, v, Long::sum));
        }
        return new PagePlacement(bytes, perNode, notPresent, unknown, hugeKnown ? huge : -1, sampled, note);
    }

    /** Distinct placement notes with how many buffers took each path, one line each. */
    public List<String> placementNotes() {
        Map<String, Integer> counts = new LinkedHashMap<>();
        buffers().forEach(b -> counts.merge(b.placementNote(), 1, Integer::sum));
        List<String> out = new ArrayList<>();
        counts.forEach((note, n) -> out.add(n + (n == 1 ? " buffer: " : " buffers: ") + note));
        return out;
    }

    /** Unmaps every buffer; safe to call more than once. */
    @Override
    public void close() {
        List<PlacedBuffer> toClose;
        synchronized (buffers) {
            closed = true;
            toClose = new ArrayList<>(buffers);
            buffers.clear();
        }
        RuntimeException first = null;
        for (int i = toClose.size() - 1; i >= 0; i--) {
            try {
                toClose.get(i).close();
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
