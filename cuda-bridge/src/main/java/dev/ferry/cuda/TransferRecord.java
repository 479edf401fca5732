package dev.ferry.cuda;

import java.util.Objects;
import java.util.OptionalInt;

/**
 * One copy over the link. {@code seconds} is the device-clock duration (measured with events on
 * a GPU, modelled from the link on the simulated device); {@code realSeconds} is what the copy
 * took on this machine's clock (equal to {@code seconds} on a GPU).
 */
public record TransferRecord(
        CopyDirection direction,
        HostMemoryKind hostKind,
        OptionalInt numaNode,
        long bytes,
        double seconds,
        double realSeconds,
        boolean simulated,
        boolean async) {

    public TransferRecord {
        Objects.requireNonNull(direction, "direction");
        Objects.requireNonNull(hostKind, "hostKind");
        Objects.requireNonNull(numaNode, "numaNode");
        if (bytes < 0 || seconds < 0 || realSeconds < 0) {
            throw new IllegalArgumentException("negative transfer figures: " + bytes + " B, " + seconds + " s");
        }
    }

    /** Bytes per second in GB/s (10^9), or 0 for an instant copy. */
    public double gigabytesPerSecond() {
        return seconds > 0 ? bytes / seconds / 1e9 : 0;
    }
}
