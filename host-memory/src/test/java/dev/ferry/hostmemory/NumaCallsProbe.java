package dev.ferry.hostmemory;

import dev.ferry.hostmemory.linux.MemPolicy;
import dev.ferry.hostmemory.linux.NativeCallException;
import dev.ferry.hostmemory.linux.SystemCalls;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * Whether this host lets the process use mbind and move_pages (container seccomp profiles often
 * forbid them). Tests of real placement are skipped where not; the refusal paths are tested with
 * simulated errors regardless.
 */
final class NumaCallsProbe {

    private NumaCallsProbe() {
    }

    /** Empty when mbind and move_pages work on node 0, else why not. */
    static String refusal() {
        if (SystemCalls.linux().isEmpty()) {
            return "no Linux system calls";
        }
        SystemCalls sys = SystemCalls.linux().get();
        MemorySegment page = sys.mmapAnonymous(sys.pageSize());
        try {
            sys.mbind(page.address(), sys.pageSize(), MemPolicy.MPOL_BIND, List.of(0), 0);
            int[] status = new int[1];
            sys.queryPageNodes(page.address(), sys.pageSize(), 1, status, 0);
            return "";
        } catch (NativeCallException e) {
            return e.getMessage();
        } finally {
            sys.munmap(page.address(), sys.pageSize());
        }
    }

    static boolean permitted() {
        return refusal().isEmpty();
    }
}
