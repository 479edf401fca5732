package dev.ferry.cuda;

import java.lang.foreign.MemorySegment;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Host memory as a copy source or target, with the facts transfer statistics need: how it is
 * backed ({@link HostMemoryKind}) and, where known, its NUMA node. Pinned buffers come from
 * {@link Device#allocatePinned}, registered ones from {@link Device#register}; closing those
 * frees or unregisters them. {@link #pageable} wraps ordinary memory and owns nothing.
 */
public final class PinnedHostBuffer implements AutoCloseable {

    private final MemorySegment segment;
    private final HostMemoryKind kind;
    private final OptionalInt numaNode;
    private final Runnable release;
    private final AtomicBoolean open = new AtomicBoolean(true);

    private PinnedHostBuffer(MemorySegment segment, HostMemoryKind kind, OptionalInt numaNode, Runnable release) {
        Objects.requireNonNull(segment, "segment");
        if (!segment.isNative()) {
            throw new IllegalArgumentException("host memory for device copies must be native (off-heap), got a heap segment");
        }
        this.segment = segment;
        this.kind = Objects.requireNonNull(kind, "kind");
        this.numaNode = Objects.requireNonNull(numaNode, "numaNode");
        this.release = Objects.requireNonNull(release, "release");
    }

    /** Ordinary (pageable) memory the caller owns; closing the wrapper frees nothing. */
    public static PinnedHostBuffer pageable(MemorySegment segment, OptionalInt numaNode) {
        return new PinnedHostBuffer(segment, HostMemoryKind.PAGEABLE, numaNode, () -> { });
    }

    /** For device implementations: a buffer whose {@code release} runs once on close. */
    public static PinnedHostBuffer of(MemorySegment segment, HostMemoryKind kind, OptionalInt numaNode, Runnable release) {
        return new PinnedHostBuffer(segment, kind, numaNode, release);
    }

    /** The memory; invalid after {@link #close()} for pinned buffers. */
    public MemorySegment segment() {
        checkOpen();
        return segment;
    }

    public long size() {
        return segment.byteSize();
    }

    public HostMemoryKind kind() {
        return kind;
    }

    public OptionalInt numaNode() {
        return numaNode;
    }

    public boolean isOpen() {
        return open.get();
    }

    /** Throws when the buffer has been closed. */
    public void checkOpen() {
        if (!open.get()) {
            throw new IllegalStateException(kind.label() + " host buffer of " + segment.byteSize() + " bytes is closed");
        }
    }

    @Override
    public void close() {
        if (open.compareAndSet(true, false)) {
            release.run();
        }
    }
}
