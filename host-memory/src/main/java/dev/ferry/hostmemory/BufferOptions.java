package dev.ferry.hostmemory;

/**
 * How a {@link PlacedBuffer} is mapped.
 *
 * @param alignment start alignment in bytes, a power of two (64 KiB by default, so pinned copies
 *     and GPU registration see whole 64 KiB units)
 * @param hugePages map in 2 MiB units and ask for transparent huge pages ({@code MADV_HUGEPAGE})
 * @param populate fault every page in at allocation (so placement happens now and is verifiable);
 *     first-touch placement always populates, since the touch is the placement
 * @param lock {@code mlock} the pages so they are never swapped
 */
public record BufferOptions(long alignment, boolean hugePages, boolean populate, boolean lock) {

    public static final long DEFAULT_ALIGNMENT = 64 * ByteSizes.KIB;
    public static final long HUGE_PAGE_SIZE = 2 * ByteSizes.MIB;

    public BufferOptions {
        if (alignment <= 0 || Long.bitCount(alignment) != 1) {
            throw new IllegalArgumentException("buffer alignment must be a power of two, got " + alignment);
        }
    }

    public static BufferOptions defaults() {
        return new BufferOptions(DEFAULT_ALIGNMENT, false, true, false);
    }

    public BufferOptions withHugePages(boolean huge) {
        return new BufferOptions(alignment, huge, populate, lock);
    }

    public BufferOptions withPopulate(boolean now) {
        return new BufferOptions(alignment, hugePages, now, lock);
    }

    public BufferOptions withLock(boolean locked) {
        return new BufferOptions(alignment, hugePages, populate, locked);
    }

    public BufferOptions withAlignment(long bytes) {
        return new BufferOptions(bytes, hugePages, populate, lock);
    }

    /** The alignment actually used: at least 2 MiB with huge pages. */
    public long effectiveAlignment() {
        return hugePages ? Math.max(alignment, HUGE_PAGE_SIZE) : alignment;
    }
}
