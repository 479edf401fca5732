package dev.ferry.cuda;

import dev.ferry.cuda.kernels.KernelRegistry;
import dev.ferry.cuda.sim.SimulatedDevice;
import dev.ferry.cuda.sim.SimulatedLink;

import java.util.Objects;

/** Settings for {@link Devices#open}: the simulated device's link, twins and memory size. */
public record DeviceOptions(SimulatedLink simulatedLink, KernelRegistry simulatedKernels, long simulatedMemoryBytes) {

    public DeviceOptions {
        Objects.requireNonNull(simulatedLink, "simulatedLink");
        Objects.requireNonNull(simulatedKernels, "simulatedKernels");
        if (simulatedMemoryBytes <= 0) {
            throw new IllegalArgumentException("simulated device memory must be positive: " + simulatedMemoryBytes);
        }
    }

    /** PCIe 4.0 x16 link, the standard CPU twins, 24 GiB. */
    public static DeviceOptions defaults() {
        return new DeviceOptions(SimulatedLink.pcie4x16(), KernelRegistry.withStandardTwins(),
                SimulatedDevice.DEFAULT_MEMORY_BYTES);
    }

    public DeviceOptions withSimulatedLink(SimulatedLink link) {
        return new DeviceOptions(link, simulatedKernels, simulatedMemoryBytes);
    }
}
