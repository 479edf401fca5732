package dev.ferry.cuda.pcie;

import dev.ferry.cuda.Device;
import dev.ferry.cuda.DeviceChoice;
import dev.ferry.cuda.DeviceOptions;
import dev.ferry.cuda.DeviceUnavailableException;
import dev.ferry.cuda.Devices;
import dev.ferry.cuda.OpenedDevice;

import java.util.Optional;

/** Entry point of {@code ferry pcie}: picks the device and the measurement that fits it. */
public final class Pcie {

    private Pcie() {
    }

    /**
     * SIM: copies through the simulated device (modelled times). CUDA: a real GPU or a
     * {@link DeviceUnavailableException}. AUTO: the GPU when there is one, otherwise the
     * host-side staging copies with the "no GPU" reason in the first line.
     */
    public static PcieReport measure(DeviceChoice choice, DeviceOptions deviceOptions, HostPlacement placement,
                                     PcieOptions options) {
        try (OpenedDevice opened = Devices.open(choice, deviceOptions)) {
            if (opened.device().isEmpty()) {
                return PcieBenchmark.runHostOnly(stripCpuOnly(opened.status()),
                        PcieLink.firstNvidiaGpu(PcieLink.SYSFS_PCI), placement, options);
            }
            Device device = opened.device().get();
            Optional<PcieLink> link = device.info().pciBusId().flatMap(id -> PcieLink.read(PcieLink.SYSFS_PCI, id));
            return PcieBenchmark.runOnDevice(device, link, placement, options);
        }
    }

    private static String stripCpuOnly(String status) {
        String suffix = "; running on the CPU only";
        return status.endsWith(suffix) ? status.substring(0, status.length() - suffix.length()) : status;
    }
}
