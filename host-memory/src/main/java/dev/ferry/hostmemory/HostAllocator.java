package dev.ferry.hostmemory;

import dev.ferry.hostmemory.linux.LinuxSystemCalls;
import dev.ferry.hostmemory.linux.SystemCalls;
import dev.ferry.hostmemory.topology.SysfsReader;
import dev.ferry.hostmemory.topology.Topology;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Makes {@link PlacedBuffer}s for one machine: knows its topology, the system calls to use (none
 * off Linux) and where to read the transparent-huge-page mode.
 */
public final class HostAllocator {

    private static final Pattern SELECTED = Pattern.compile("\\[(\\w+)]");

    private final Topology topology;
    private final Optional<SystemCalls> calls;
    private final SysfsReader sysfs;

    public HostAllocator(Topology topology, Optional<SystemCalls> calls, SysfsReader sysfs) {
        this.topology = topology;
        this.calls = calls;
        this.sysfs = sysfs;
    }

    /** The running machine with the real system calls. */
    public static HostAllocator system() {
        return new HostAllocator(Topology.system(), SystemCalls.linux(), SysfsReader.system());
    }

    public Topology topology() {
        return topology;
    }

    public Optional<SystemCalls> calls() {
        return calls;
    }

    public PlacedBuffer allocate(long bytes, PlacementPolicy policy) {
        return allocate(bytes, policy, BufferOptions.defaults());
    }

    public PlacedBuffer allocate(long bytes, PlacementPolicy policy, BufferOptions options) {
        return PlacedBuffer.allocate(this, bytes, policy, options);
    }

    /** The selected transparent-huge-page mode ({@code always}, {@code madvise}, {@code never}), or empty when unknown. */
    public Optional<String> transparentHugePageMode() {
        return sysfs.read("sys/kernel/mm/transparent_hugepage/enabled").flatMap(text -> {
            Matcher m = SELECTED.matcher(text);
            return m.find() ? Optional.of(m.group(1)) : Optional.empty();
        });
    }

    /**
     * The one-call summary for {@code ferry inspect --numa} and {@code run -v}: CPUs, cores, SMT,
     * nodes with memory and distances, where the PCI device (the GPU) sits and its link, how
     * placement calls are made, and the huge-page mode.
     */
    public String describe(Optional<String> pciBusId) {
        return topology.describe(pciBusId)
                + "Memory: " + backendDescription() + "; transparent huge pages: " + transparentHugePageMode().orElse("not available")
                + System.lineSeparator();
    }

    /** One line for reports: how placement calls are made on this machine. */
    public String backendDescription() {
        return calls.isPresent() ? LinuxSystemCalls.backendDescription()
                : "no Linux system calls (" + LinuxSystemCalls.unavailableReason() + "): buffers are plain JVM memory, placement not applied";
    }
}
