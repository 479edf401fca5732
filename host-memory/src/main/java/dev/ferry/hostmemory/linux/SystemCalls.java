package dev.ferry.hostmemory.linux;

import dev.ferry.hostmemory.topology.CpuSet;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Optional;

/**
 * The Linux calls host memory placement needs. Every failure throws
 * {@link NativeCallException} naming the call and errno. The real implementation is
 * {@link LinuxSystemCalls}; tests wrap it to simulate refusals.
 */
public interface SystemCalls {

    int MADV_HUGEPAGE = 14;
    int MADV_NOHUGEPAGE = 15;
    int MADV_POPULATE_WRITE = 23;

    /** {@code mbind} flag: fail if existing pages do not follow the policy. */
    int MPOL_MF_STRICT = 1;
    /** {@code mbind} flag: move existing pages to follow the policy. */
    int MPOL_MF_MOVE = 2;

    /** {@code move_pages} status for a page that was never touched. */
    int PAGE_NOT_PRESENT = -Errno.ENOENT;

    /** Anonymous private read-write mapping of {@code length} bytes (a multiple of the page size), not yet touched. */
    MemorySegment mmapAnonymous(long length);

    void munmap(long address, long length);

    void madvise(long address, long length, int advice);

    void mbind(long address, long length, int mode, List<Integer> nodes, int flags);

    /** The calling thread's memory policy ({@code get_mempolicy} with no address). */
    MemPolicy getMempolicy();

    /** Nodes this process may allocate on (its cpuset's mems, {@code get_mempolicy(MPOL_F_MEMS_ALLOWED)}). */
    List<Integer> memsAllowed();

    /** The policy of the mapping containing {@code address} ({@code MPOL_F_ADDR}). */
    MemPolicy getMempolicy(long address);

    /**
     * {@code move_pages} in query mode: for each of {@code count} pages starting at
     * {@code address} with stride {@code pageSize}, writes the page's node (or a negative errno,
     * e.g. {@link #PAGE_NOT_PRESENT}) into {@code status[offset + i]}.
     */
    void queryPageNodes(long address, long pageSize, int count, int[] status, int offset);

    void mlock(long address, long length);

    void munlock(long address, long length);

    /** Sets the CPU affinity of the calling thread. */
    void setThreadAffinity(CpuSet cpus);

    /** The CPU affinity of the calling thread. */
    CpuSet threadAffinity();

    CpuLocation getcpu();

    /** The base page size (4096 on x86-64). */
    long pageSize();

    /** The real calls of this process, or empty (with {@link LinuxSystemCalls#unavailableReason()}) when not on Linux x86-64/aarch64. */
    static Optional<SystemCalls> linux() {
        return LinuxSystemCalls.instance();
    }
}
