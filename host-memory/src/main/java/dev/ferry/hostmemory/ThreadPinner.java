package dev.ferry.hostmemory;

import dev.ferry.hostmemory.linux.SystemCalls;
import dev.ferry.hostmemory.topology.CpuSet;

/** Pins the calling thread to one CPU; throws (e.g. {@code NativeCallException}) when refused. */
@FunctionalInterface
public interface ThreadPinner {

    void pinCurrentThread(int cpu);

    /** Pinning with {@code sched_setaffinity}. */
    static ThreadPinner of(SystemCalls calls) {
        return cpu -> calls.setThreadAffinity(CpuSet.of(cpu));
    }
}
