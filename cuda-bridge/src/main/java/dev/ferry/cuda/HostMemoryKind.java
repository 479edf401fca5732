package dev.ferry.cuda;

/** How a host buffer is backed, which decides how fast the GPU's DMA engines can read it. */
public enum HostMemoryKind {
    /** Ordinary virtual memory: the driver copies it through its own pinned staging buffer. */
    PAGEABLE,
    /** Allocated page-locked by the driver ({@code cuMemHostAlloc}, portable). */
    PINNED,
    /** Existing memory page-locked in place ({@code cuMemHostRegister}). */
    REGISTERED;

    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
