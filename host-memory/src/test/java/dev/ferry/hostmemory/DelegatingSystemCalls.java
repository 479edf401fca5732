package dev.ferry.hostmemory;

import dev.ferry.hostmemory.linux.CpuLocation;
import dev.ferry.hostmemory.linux.MemPolicy;
import dev.ferry.hostmemory.linux.SystemCalls;
import dev.ferry.hostmemory.topology.CpuSet;
import java.lang.foreign.MemorySegment;
import java.util.List;

/** Forwards every call to real system calls; tests override one call to simulate a refusal. */
class DelegatingSystemCalls implements SystemCalls {

    private final SystemCalls real;

    DelegatingSystemCalls(SystemCalls real) {
        this.real = real;
    }

    @Override
    public MemorySegment mmapAnonymous(long length) {
        return real.mmapAnonymous(length);
    }

    @Override
    public void munmap(long address, long length) {
        real.munmap(address, length);
    }

    @Override
    public void madvise(long address, long length, int advice) {
        real.madvise(address, length, advice);
    }

    @Override
    public void mbind(long address, long length, int mode, List<Integer> nodes, int flags) {
        real.mbind(address, length, mode, nodes, flags);
    }

    @Override
    public MemPolicy getMempolicy() {
        return real.getMempolicy();
    }

    @Override
    public List<Integer> memsAllowed() {
        return real.memsAllowed();
    }

    @Override
    public MemPolicy getMempolicy(long address) {
        return real.getMempolicy(address);
    }

    @Override
    public void queryPageNodes(long address, long pageSize, int count, int[] status, int offset) {
        real.queryPageNodes(address, pageSize, count, status, offset);
    }

    @Override
    public void mlock(long address, long length) {
        real.mlock(address, length);
    }

    @Override
    public void munlock(long address, long length) {
        real.munlock(address, length);
    }

    @Override
    public void setThreadAffinity(CpuSet cpus) {
        real.setThreadAffinity(cpus);
    }

    @Override
    public CpuSet threadAffinity() {
        return real.threadAffinity();
    }

    @Override
    public CpuLocation getcpu() {
        return real.getcpu();
    }

    @Override
    public long pageSize() {
        return real.pageSize();
    }
}
