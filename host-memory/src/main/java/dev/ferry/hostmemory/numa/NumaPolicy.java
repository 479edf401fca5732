package dev.ferry.hostmemory.numa;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** The {@code --numa} policies for CPU-side weights. */
public enum NumaPolicy {
    /** Pages interleaved over all nodes in use; every node's workers read all of them. */
    DISTRIBUTE("pages interleaved over all nodes"),
    /** Everything on the node the process started on; workers only there. */
    ISOLATE("everything on the node the process started on"),
    /** Respect the CPU and memory binding the process was started with (numactl, taskset, cgroups). */
    NUMACTL("the CPU and memory binding the process was started with"),
    /** One full replica per node; each node's workers read their local replica. */
    MIRROR("one replica per node, each node reads its own"),
    /** Each expert wholly on one node (balanced by bytes), computed by that node's workers. */
    SHARD("each expert on one node, balanced by bytes");

    private final String description;

    NumaPolicy(String description) {
        this.description = description;
    }

    /** The flag spelling, e.g. {@code mirror}. */
    public String flagValue() {
        return name().toLowerCase(Locale.ROOT);
    }

    public String description() {
        return description;
    }

    /** Parses a {@code --numa} value (case-insensitive); the error lists the valid values. */
    public static NumaPolicy parse(String value) {
        String v = value == null ? "" : value.strip().toLowerCase(Locale.ROOT);
        for (NumaPolicy p : values()) {
            if (p.flagValue().equals(v)) {
                return p;
            }
        }
        throw new IllegalArgumentException("--numa: unknown policy '" + value + "'; valid values: " + validValues());
    }

    /** {@code distribute, isolate, numactl, mirror, shard}. */
    public static String validValues() {
        return Arrays.stream(values()).map(NumaPolicy::flagValue).collect(Collectors.joining(", "));
    }
}
