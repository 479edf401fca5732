package dev.ferry.cuda;

import java.util.Optional;

/**
 * The result of {@link Devices#open}: the device, if any, and the one line to show the user
 * (the device description, or "no GPU: reason" when running CPU-only).
 */
public record OpenedDevice(Optional<Device> device, String status) implements AutoCloseable {

    public boolean present() {
        return device.isPresent();
    }

    @Override
    public void close() {
        device.ifPresent(Device::close);
    }
}
