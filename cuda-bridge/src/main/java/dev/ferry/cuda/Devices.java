package dev.ferry.cuda;

import dev.ferry.cuda.jcuda.CudaProbe;
import dev.ferry.cuda.jcuda.JCudaDevice;
import dev.ferry.cuda.sim.SimulatedDevice;

import java.util.Optional;

/** Opens the device the user chose. */
public final class Devices {

    private Devices() {
    }

    /** {@link #open(DeviceChoice, DeviceOptions)} with {@link DeviceOptions#defaults()}. */
    public static OpenedDevice open(DeviceChoice choice) {
        return open(choice, DeviceOptions.defaults());
    }

    /**
     * AUTO: a real GPU when the CUDA driver initialises and sees one, otherwise no device with a
     * "no GPU: reason" status. CUDA: a real GPU or a {@link DeviceUnavailableException}. SIM: the
     * simulated device.
     */
    public static OpenedDevice open(DeviceChoice choice, DeviceOptions options) {
        return switch (choice) {
            case SIM -> {
                Device device = new SimulatedDevice(options.simulatedLink(), options.simulatedKernels(),
                        options.simulatedMemoryBytes());
                yield new OpenedDevice(Optional.of(device), device.info().description());
            }
            case CUDA -> {
                Device device = openCuda();
                yield new OpenedDevice(Optional.of(device), device.info().description());
            }
            case AUTO -> {
                CudaProbe.Result probe = CudaProbe.probe();
                if (!probe.available()) {
                    yield new OpenedDevice(Optional.empty(), "no GPU: " + probe.reason() + "; running on the CPU only");
                }
                try {
                    Device device = JCudaDevice.open(0);
                    yield new OpenedDevice(Optional.of(device), device.info().description());
                } catch (DeviceUnavailableException e) {
                    yield new OpenedDevice(Optional.empty(), e.getMessage() + "; running on the CPU only");
                }
            }
        };
    }

    /** Opens GPU 0 or throws {@link DeviceUnavailableException} with a "no GPU: reason" message. */
    public static Device openCuda() {
        CudaProbe.Result probe = CudaProbe.probe();
        if (!probe.available()) {
            throw new DeviceUnavailableException("no GPU: " + probe.reason());
        }
        return JCudaDevice.open(0);
    }
}
