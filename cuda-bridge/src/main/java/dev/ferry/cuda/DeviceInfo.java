package dev.ferry.cuda;

import java.util.Optional;

/**
 * What a device is: its name, backend, memory and (for a real GPU) PCI bus id and compute
 * capability. {@code description} is the one line reports print, and says "simulated" in words
 * for the simulated backend.
 */
public record DeviceInfo(
        String name,
        DeviceBackend backend,
        long totalMemoryBytes,
        Optional<String> pciBusId,
        int computeMajor,
        int computeMinor,
        String description) {

    public boolean simulated() {
        return backend == DeviceBackend.SIMULATED;
    }
}
