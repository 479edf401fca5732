package dev.ferry.hostmemory;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import dev.ferry.hostmemory.linux.Errno;
import dev.ferry.hostmemory.linux.MemPolicy;
import dev.ferry.hostmemory.linux.NativeCallException;
import dev.ferry.hostmemory.linux.SystemCalls;
import dev.ferry.hostmemory.topology.Topology;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

/**
 * Anonymous host memory with a NUMA placement: mapped with {@code mmap}, aligned (64 KiB, or 2 MiB
 * with huge pages), bound with {@code mbind} before the first touch, then populated. Owns the
 * mapping: {@link #close()} unmaps it (idempotent) and invalidates {@link #segment()}.
 * Where the requested path was not possible (one node, mbind refused, no huge pages, not Linux)
 * the buffer still works and {@link #placementNote()} says which path was taken.
 */
public final class PlacedBuffer implements AutoCloseable {

    /** A byte range of the buffer bound to one node. */
    public record NodeRange(int node, long offset, long length) {
    }

    /** The outcome of applying a policy: accepted or not, and the node of each bound range. */
    private record Applied(boolean accepted, List<NodeRange> ranges) {
    }

    private final long byteSize;
    private final long mappedBytes;
    private final long alignment;
    private final PlacementPolicy policy;
    private final Arena arena;
    private final MemorySegment mapped;
    private final Optional<SystemCalls> calls;
    private final long pageSize;
    private final List<String> notes;
    private final boolean placementApplied;
    private final List<NodeRange> nodeRanges;
    private final AtomicBoolean closed = new AtomicBoolean();

    private PlacedBuffer(long byteSize, long mappedBytes, long alignment, PlacementPolicy policy, Arena arena,
                         MemorySegment mapped, Optional<SystemCalls> calls, long pageSize, List<String> notes, Applied applied) {
        this.byteSize = byteSize;
        this.mappedBytes = mappedBytes;
        this.alignment = alignment;
        this.policy = policy;
        this.arena = arena;
        this.mapped = mapped;
        this.calls = calls;
        this.pageSize = pageSize;
        this.notes = List.copyOf(notes);
        this.placementApplied = applied.accepted();
        List<NodeRange> clipped = new ArrayList<>();
        for (NodeRange r : applied.ranges()) {
            long length = Math.min(r.length(), byteSize - r.offset());
            if (length > 0) {
                clipped.add(new NodeRange(r.node(), r.offset(), length));
            }
        }
        this.nodeRanges = List.copyOf(clipped);
    }

    @SuppressWarnings("restricted") // wraps the address mmap returned, with its true length and munmap as cleanup
    static PlacedBuffer allocate(HostAllocator allocator, long bytes, PlacementPolicy policy, BufferOptions options) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("placed buffer size must be positive, got " + bytes);
        }
        long alignment = options.effectiveAlignment();
        Optional<SystemCalls> calls = allocator.calls();
        if (calls.isEmpty()) {
            Arena arena = Arena.ofShared();
            MemorySegment seg = arena.allocate(ByteSizes.alignUp(bytes, alignment), alignment);
            return new PlacedBuffer(bytes, seg.byteSize(), alignment, policy, arena, seg, calls, 4096,
                    List.of(allocator.backendDescription()), new Applied(false, List.of()));
        }
        SystemCalls sys = calls.get();
        long pageSize = sys.pageSize();
        long mappedBytes = ByteSizes.alignUp(bytes, options.hugePages() ? BufferOptions.HUGE_PAGE_SIZE : Math.max(pageSize, alignment));
        long slack = alignment > pageSize ? alignment : 0;
        MemorySegment raw = sys.mmapAnonymous(mappedBytes + slack);
        long start = ByteSizes.alignUp(raw.address(), alignment);
        // Give back the unaligned head and tail of the over-sized mapping.
        if (start > raw.address()) {
            sys.munmap(raw.address(), start - raw.address());
        }
        long tail = raw.address() + mappedBytes + slack - (start + mappedBytes);
        if (tail > 0) {
            sys.munmap(start + mappedBytes, tail);
        }
        Arena arena = Arena.ofShared();
        MemorySegment mapped = MemorySegment.ofAddress(start).reinterpret(mappedBytes, arena, s -> sys.munmap(start, mappedBytes));
        try {
            List<String> notes = new ArrayList<>();
            if (options.hugePages()) {
                adviseHugePages(allocator, sys, start, mappedBytes, notes);
            }
            long unit = options.hugePages() ? BufferOptions.HUGE_PAGE_SIZE : pageSize;
            Applied applied = applyPolicy(allocator.topology(), sys, start, mappedBytes, unit, policy, notes);
            if (options.populate() || policy instanceof PlacementPolicy.FirstTouch) {
                populate(sys, mapped, pageSize, policy, notes);
            }
            if (options.lock()) {
                try {
                    sys.mlock(start, mappedBytes);
                    notes.add("locked (mlock)");
                } catch (NativeCallException e) {
                    notes.add("mlock refused (" + Errno.describe(e.errno()) + "): pages may be swapped out");
                }
            }
            return new PlacedBuffer(bytes, mappedBytes, alignment, policy, arena, mapped, calls, pageSize, notes, applied);
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    private static void adviseHugePages(HostAllocator allocator, SystemCalls sys, long start, long length, List<String> notes) {
        Optional<String> mode = allocator.transparentHugePageMode();
        try {
            sys.madvise(start, length, SystemCalls.MADV_HUGEPAGE);
            if (mode.isPresent() && mode.get().equals("never")) {
                notes.add("MADV_HUGEPAGE accepted but transparent huge pages are disabled (never): 4 KiB pages");
            } else {
                notes.add("huge pages advised (MADV_HUGEPAGE, THP mode " + mode.orElse("unknown") + ")");
            }
        } catch (NativeCallException e) {
            notes.add("no huge pages: madvise(MADV_HUGEPAGE) failed " + Errno.describe(e.errno()) + ": 4 KiB pages");
        }
    }

    private static Applied applyPolicy(Topology topology, SystemCalls sys, long start, long length, long unit, PlacementPolicy policy,
                                       List<String> notes) {
        return switch (policy) {
            case PlacementPolicy.OnNode(int node) -> {
                int target = node;
                if (!topology.hasNode(node)) {
                    if (topology.nodes().size() != 1) {
                        throw new IllegalArgumentException("cannot place memory on NUMA node " + node + ": nodes are " + topology.nodeIds());
                    }
                    target = topology.nodes().get(0).id();
                    notes.add("node " + node + " requested but this machine has only node " + target + ": placing there");
                }
                boolean ok = bind(sys, start, length, MemPolicy.MPOL_BIND, List.of(target), "bound to node " + target + " (mbind MPOL_BIND)", notes);
                yield new Applied(ok, ok ? List.of(new NodeRange(target, 0, length)) : List.of());
            }
            case PlacementPolicy.Interleave(List<Integer> nodes) -> {
                List<Integer> present = presentNodes(topology, nodes, notes);
                if (present.size() == 1) {
                    notes.add("interleave over one node is a bind");
                    boolean ok = bind(sys, start, length, MemPolicy.MPOL_BIND, present, "bound to node " + present.get(0) + " (mbind MPOL_BIND)", notes);
                    yield new Applied(ok, ok ? List.of(new NodeRange(present.get(0), 0, length)) : List.of());
                }
                boolean ok = bind(sys, start, length, MemPolicy.MPOL_INTERLEAVE, present,
                        "interleaved over nodes " + present + " (mbind MPOL_INTERLEAVE)", notes);
                yield new Applied(ok, List.of());
            }
            case PlacementPolicy.Blocked(List<Integer> nodes) -> {
                List<Integer> present = presentNodes(topology, nodes, notes);
                long part = ByteSizes.alignUp((length + present.size() - 1) / present.size(), unit);
                List<NodeRange> ranges = new ArrayList<>();
                for (int i = 0; i < present.size() && i * part < length; i++) {
                    ranges.add(new NodeRange(present.get(i), i * part, Math.min(part, length - i * part)));
                }
                for (NodeRange r : ranges) {
                    if (!bind(sys, start + r.offset(), r.length(), MemPolicy.MPOL_BIND, List.of(r.node()), "", notes)) {
                        yield new Applied(false, List.of());
                    }
                }
                notes.add(ranges.size() == 1 ? "bound to node " + ranges.get(0).node() + " (mbind MPOL_BIND)"
                        : ranges.size() + " contiguous blocks of " + ByteSizes.format(part) + " bound to nodes "
                        + ranges.stream().map(NodeRange::node).toList() + " (mbind MPOL_BIND each)");
                yield new Applied(true, ranges);
            }
            case PlacementPolicy.FirstTouch(WorkerPool pool) -> {
                notes.add("first touch by " + pool.size() + " workers, each its share (no mbind)");
                yield new Applied(true, List.of());
            }
            case PlacementPolicy.Default() -> {
                notes.add("kernel default policy (no mbind)");
                yield new Applied(true, List.of());
            }
        };
    }

    private static List<Integer> presentNodes(Topology topology, List<Integer> nodes, List<String> notes) {
        List<Integer> present = nodes.stream().filter(topology::hasNode).toList();
        if (present.isEmpty()) {
            if (topology.nodes().size() != 1) {
                throw new IllegalArgumentException("cannot place memory on NUMA nodes " + nodes + ": nodes are " + topology.nodeIds());
            }
            present = List.of(topology.nodes().get(0).id());
        }
        if (present.size() < nodes.size()) {
            notes.add("nodes " + nodes + " requested, only " + present + " exist");
        }
        return present;
    }

    /** Binds a range; on refusal records the fallback line and returns false. An empty {@code done} records nothing on success. */
    private static boolean bind(SystemCalls sys, long start, long length, int mode, List<Integer> nodes, String done, List<String> notes) {
        try {
            sys.mbind(start, length, mode, nodes, 0);
            if (!done.isEmpty()) {
                notes.add(done);
            }
            return true;
        } catch (NativeCallException e) {
            notes.add("mbind refused (" + Errno.describe(e.errno()) + "): pages follow the kernel default policy (first touch)");
            return false;
        }
    }

    private static void populate(SystemCalls sys, MemorySegment mapped, long pageSize, PlacementPolicy policy, List<String> notes) {
        if (policy instanceof PlacementPolicy.FirstTouch(WorkerPool pool)) {
            long pages = mapped.byteSize() / pageSize;
            pool.run((worker, workers) -> {
                long from = pages * worker / workers;
                long to = pages * (worker + 1) / workers;
                for (long p = from; p < to; p++) {
                    mapped.set(JAVA_BYTE, p * pageSize, (byte) 0);
                }
            });
            return;
        }
        try {
            sys.madvise(mapped.address(), mapped.byteSize(), SystemCalls.MADV_POPULATE_WRITE);
            notes.add("populated (MADV_POPULATE_WRITE)");
        } catch (NativeCallException e) {
            if (e.errno() == Errno.ENOMEM || e.errno() == Errno.EFAULT) {
                throw new IllegalStateException("cannot populate " + ByteSizes.format(mapped.byteSize()) + " placed " + policy.describe()
                        + ": " + e.getMessage() + " (not enough free memory on the node?)", e);
            }
            // Older kernels (< 5.14) do not know MADV_POPULATE_WRITE: touch each page instead.
            long pages = mapped.byteSize() / pageSize;
            for (long p = 0; p < pages; p++) {
                mapped.set(JAVA_BYTE, p * pageSize, (byte) 0);
            }
            notes.add("populated by touching each page (MADV_POPULATE_WRITE " + Errno.name(e.errno()) + ")");
        }
    }

    /** The usable memory: exactly the requested size, aligned to {@link #alignment()}. Invalid after {@link #close()}. */
    public MemorySegment segment() {
        return mapped.asSlice(0, byteSize);
    }

    public long byteSize() {
        return byteSize;
    }

    /** Bytes actually mapped (the size rounded up to pages, or to 2 MiB with huge pages). */
    public long mappedBytes() {
        return mappedBytes;
    }

    public long alignment() {
        return alignment;
    }

    public PlacementPolicy policy() {
        return policy;
    }

    /**
     * The byte ranges of {@link #segment()} known to be bound to one node (one range for
     * {@code OnNode}, one per part for {@code Blocked}); empty for interleaved, first-touch and
     * default placement and after a refused mbind.
     */
    public List<NodeRange> nodeRanges() {
        return nodeRanges;
    }

    /** True when the kernel accepted the requested placement (false after a fallback). */
    public boolean placementApplied() {
        return placementApplied;
    }

    /** One line saying which path was taken, e.g. {@code bound to node 0 (mbind MPOL_BIND); populated (MADV_POPULATE_WRITE)}. */
    public String placementNote() {
        return String.join("; ", notes);
    }

    public boolean isClosed() {
        return closed.get();
    }

    /** Where every page of the buffer is now (one {@code move_pages} query per page). */
    public PagePlacement verify() {
        return verify(Long.MAX_VALUE);
    }

    /**
     * Where the pages are, querying at most {@code maxPages} pages spread evenly over the buffer and
     * scaling the counts (for reports on buffers of hundreds of GiB).
     */
    public PagePlacement verify(long maxPages) {
        if (closed.get()) {
            throw new IllegalStateException("placed buffer is closed");
        }
        if (maxPages < 1) {
            throw new IllegalArgumentException("maxPages must be >= 1, got " + maxPages);
        }
        long pages = (byteSize + pageSize - 1) / pageSize;
        if (calls.isEmpty()) {
            return new PagePlacement(byteSize, Map.of(), 0, byteSize, -1, false, "no Linux system calls: placement unknown");
        }
        long stride = pages <= maxPages ? 1 : (pages + maxPages - 1) / maxPages;
        Map<Integer, Long> pagesPerNode = new HashMap<>();
        long notPresent = 0;
        long unknown = 0;
        int chunk = 1 << 16;
        int[] status = new int[chunk];
        long queried = 0;
        for (long first = 0; first < pages; first += (long) chunk * stride) {
            int n = (int) Math.min(chunk, (pages - first + stride - 1) / stride);
            try {
                calls.get().queryPageNodes(mapped.address() + first * pageSize, pageSize * stride, n, status, 0);
            } catch (NativeCallException e) {
                // Containers often forbid move_pages (seccomp without CAP_SYS_NICE): the buffer is fine, its placement unknown.
                return new PagePlacement(byteSize, Map.of(), 0, byteSize, anonHugePageBytes(), false,
                        "move_pages refused (" + Errno.describe(e.errno()) + "): placement unknown");
            }
            for (int i = 0; i < n; i++) {
                int s = status[i];
                if (s >= 0) {
                    pagesPerNode.merge(s, 1L, Long::sum);
                } else if (s == SystemCalls.PAGE_NOT_PRESENT) {
                    notPresent++;
                } else {
                    unknown++;
                }
            }
            queried += n;
        }
        // Scale counted pages to bytes; the last page may be partial, so the node totals are capped at byteSize.
        double scale = (double) byteSize / queried;
        Map<Integer, Long> bytesPerNode = new HashMap<>();
        long assigned = 0;
        for (Map.Entry<Integer, Long> e : pagesPerNode.entrySet()) {
            long b = Math.round(e.getValue() * scale);
            bytesPerNode.put(e.getKey(), b);
            assigned += b;
        }
        long notPresentBytes = Math.round(notPresent * scale);
        long unknownBytes = Math.max(0, byteSize - assigned - notPresentBytes);
        if (unknown == 0 && unknownBytes != 0) {
            // Rounding residue goes to the largest class so that the parts add up to byteSize.
            Integer top = bytesPerNode.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey).orElse(null);
            if (top != null) {
                bytesPerNode.merge(top, unknownBytes, Long::sum);
            } else {
                notPresentBytes += unknownBytes;
            }
            unknownBytes = 0;
        }
        return new PagePlacement(byteSize, bytesPerNode, notPresentBytes, unknownBytes, anonHugePageBytes(), stride > 1, "");
    }

    /** AnonHugePages of the mappings overlapping this buffer, from /proc/self/smaps; -1 when unreadable. */
    private long anonHugePageBytes() {
        long start = mapped.address();
        long end = start + mappedBytes;
        try (Stream<String> lines = Files.lines(Path.of("/proc/self/smaps"))) {
            long[] total = {0};
            boolean[] inside = {false};
            lines.forEach(line -> {
                int dash = line.indexOf('-');
                int space = line.indexOf(' ');
                if (dash > 0 && space > dash && isHex(line, 0, dash)) {
                    long lo = Long.parseUnsignedLong(line.substring(0, dash), 16);
                    long hi = Long.parseUnsignedLong(line.substring(dash + 1, space), 16);
                    inside[0] = lo < end && hi > start;
                } else if (inside[0] && line.startsWith("AnonHugePages:")) {
                    total[0] += Long.parseLong(line.substring("AnonHugePages:".length()).replace("kB", "").strip()) * 1024L;
                }
            });
            return Math.min(total[0], mappedBytes);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    private static boolean isHex(String s, int from, int to) {
        for (int i = from; i < to; i++) {
            if (Character.digit(s.charAt(i), 16) < 0) {
                return false;
            }
        }
        return to > from;
    }

    /** Unmaps the memory. Safe to call more than once; segments obtained earlier become inaccessible. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            // The memory policy belongs to the mapping, so unmapping (the arena's cleanup) undoes everything.
            arena.close();
        }
    }
}
