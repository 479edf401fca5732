package dev.ferry.cuda;

/**
 * An ordered queue of device work. Operations return once queued; they run in order on this
 * stream and may overlap work on other streams. Host buffers given to async copies must stay
 * untouched until an event recorded after the copy completes.
 */
public interface Stream extends AutoCloseable {

    /** Queues a host-to-device copy of {@code bytes} from {@code src} at {@code srcOffset}. */
    void copyToDeviceAsync(PinnedHostBuffer src, long srcOffset, DeviceBuffer dst, long dstOffset, long bytes);

    /** Queues a device-to-host copy of {@code bytes} into {@code dst} at {@code dstOffset}. */
    void copyToHostAsync(DeviceBuffer src, long srcOffset, PinnedHostBuffer dst, long dstOffset, long bytes);

    /** Queues a device-to-device copy. */
    void copyOnDevice(DeviceBuffer src, long srcOffset, DeviceBuffer dst, long dstOffset, long bytes);

    /** Queues the kernel {@code name} with the given geometry and arguments (in order). */
    void launch(String name, LaunchGrid grid, KernelArg... args);

    /** Records an event after all work queued so far. */
    Event record();

    /** Makes later work on this stream wait until {@code event} completes. */
    void waitFor(Event event);

    /** Blocks until all queued work has finished (and resolves its transfer statistics). */
    void synchronize();

    @Override
    void close();
}
