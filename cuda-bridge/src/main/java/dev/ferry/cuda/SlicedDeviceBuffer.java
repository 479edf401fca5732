package dev.ferry.cuda;

/**
 * The lifetime rules every backend's device buffers follow: an owning buffer is released once,
 * on its first close; a slice shares the lifetime of the buffer it was cut from and frees
 * nothing. A backend supplies how to slice and how to free.
 */
public abstract class SlicedDeviceBuffer implements DeviceBuffer {

    private final long size;
    /** The owning buffer of a slice; null for an owning buffer. */
    private final SlicedDeviceBuffer owner;
    private volatile boolean open = true;

    /** An owning buffer when {@code parent} is null, else a slice of {@code parent}. */
    protected SlicedDeviceBuffer(long size, SlicedDeviceBuffer parent) {
        this.size = size;
        this.owner = parent == null || parent.owner == null ? parent : parent.owner;
    }

    /** The device this buffer's memory lives on. */
    protected abstract Device device();

    /** The backend's view of {@code bytes} bytes at {@code offset} (range and lifetime already checked). */
    protected abstract DeviceBuffer sliceAt(long offset, long bytes);

    /** Frees the memory of an owning buffer; called at most once. */
    protected abstract void release();

    @Override
    public final long size() {
        return size;
    }

    @Override
    public final DeviceBuffer slice(long offset, long bytes) {
        DeviceBuffer.checkRange("device buffer slice", size, offset, bytes);
        if (!isOpen()) {
            throw new IllegalStateException("cannot slice a closed device buffer");
        }
        return sliceAt(offset, bytes);
    }

    @Override
    public final boolean isOpen() {
        return owner != null ? owner.isOpen() : open;
    }

    @Override
    public final void close() {
        if (owner != null) {
            return;
        }
        synchronized (this) {
            if (!open) {
                return;
            }
            open = false;
        }
        release();
    }

    /**
     * {@code buffer} as a {@code type} of {@code device}, open: a buffer of another device or
     * backend, or one used after it was freed, is an error that says so.
     */
    public static <B extends SlicedDeviceBuffer> B owned(DeviceBuffer buffer, Class<B> type, Device device,
                                                         String deviceName) {
        if (!type.isInstance(buffer) || type.cast(buffer).device() != device) {
            throw new IllegalArgumentException("buffer does not belong to this " + deviceName + ": " + buffer);
        }
        B b = type.cast(buffer);
        if (!b.isOpen()) {
            throw new IllegalStateException("device buffer of " + b.size() + " bytes is closed (use after free)");
        }
        return b;
    }
}
