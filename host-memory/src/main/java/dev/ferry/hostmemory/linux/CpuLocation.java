package dev.ferry.hostmemory.linux;

/** Where the calling thread ran at the moment of a {@code getcpu} call. */
public record CpuLocation(int cpu, int node) {
}
