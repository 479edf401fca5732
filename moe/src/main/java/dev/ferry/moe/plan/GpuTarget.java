package dev.ferry.moe.plan;

import dev.ferry.cuda.DeviceInfo;
import dev.ferry.cuda.Devices;
import dev.ferry.cuda.OpenedDevice;
import dev.ferry.hostmemory.topology.Topology;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The GPU a plan is made for: a real or simulated device, a size given with
 * {@code --gpu-memory}, or none.
 *
 * @param memoryBytes device memory (empty when there is no GPU)
 * @param description one line for reports, e.g. "NVIDIA H100 80GB HBM3, 79.1 GiB" or "no GPU: ..."
 * @param node the NUMA node the GPU is attached to, when known
 */
public record GpuTarget(Optional<Long> memoryBytes, String description, OptionalInt node) {

    public GpuTarget {
        Objects.requireNonNull(memoryBytes, "memoryBytes");
        Objects.requireNonNull(description, "description");
        Objects.requireNonNull(node, "node");
        if (memoryBytes.isPresent() && memoryBytes.get() <= 0) {
            throw new IllegalArgumentException("--gpu-memory: size must be positive, got " + memoryBytes.get());
        }
    }

    public static GpuTarget none(String reason) {
        return new GpuTarget(Optional.empty(), reason, OptionalInt.empty());
    }

    /** A GPU of {@code bytes} that need not exist ({@code --gpu-memory SIZE}). */
    public static GpuTarget planned(long bytes) {
        return new GpuTarget(Optional.of(bytes), "a GPU with " + ByteSize.format(bytes) + " (--gpu-memory; not probed)", OptionalInt.empty());
    }

    /**
     * The device {@link Devices#open} gave: its memory and the NUMA node of its PCI bus id, or
     * no GPU with the status line saying why.
     */
    public static GpuTarget of(OpenedDevice opened, Topology topology) {
        if (opened.device().isEmpty()) {
            return none(opened.status());
        }
        DeviceInfo info = opened.device().get().info();
        OptionalInt node = info.pciBusId().map(topology::nodeOfPciDevice).orElse(OptionalInt.empty());
        return new GpuTarget(Optional.of(info.totalMemoryBytes()), opened.status(), node);
    }

    public boolean present() {
        return memoryBytes.isPresent();
    }
}
