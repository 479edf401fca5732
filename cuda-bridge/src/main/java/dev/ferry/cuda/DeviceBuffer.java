package dev.ferry.cuda;

/**
 * A range of device memory. {@link Device#allocate} returns an owning buffer (closing it frees
 * the memory); {@link #slice} returns a view that shares it and frees nothing.
 */
public interface DeviceBuffer extends AutoCloseable {

    /** Size in bytes. */
    long size();

    /** A view of {@code bytes} bytes at {@code offset}; valid while this buffer is open. */
    DeviceBuffer slice(long offset, long bytes);

    /** False once the owning buffer has been closed. */
    boolean isOpen();

    /** Frees the memory of an owning buffer; does nothing for a slice. Idempotent. */
    @Override
    void close();

    /** Throws a clear exception when {@code [offset, offset + bytes)} is not inside a buffer of {@code size} bytes. */
    static void checkRange(String what, long size, long offset, long bytes) {
        if (offset < 0 || bytes < 0 || offset > size || bytes > size - offset) {
            throw new IndexOutOfBoundsException(what + ": range [" + offset + ", " + offset + " + " + bytes
                    + ") is outside a buffer of " + size + " bytes");
        }
    }
}
