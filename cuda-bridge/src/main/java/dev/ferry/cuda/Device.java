package dev.ferry.cuda;

import java.lang.foreign.MemorySegment;
import java.util.OptionalInt;

/**
 * One GPU (or its simulation): device memory with accounting, pinned and registered host
 * memory, copies with per-copy statistics, streams and events, kernels and GEMM. Closing the
 * device frees everything it still owns.
 */
public interface Device extends AutoCloseable {

    DeviceInfo info();

    /** Allocates {@code bytes} of device memory (contents undefined). */
    DeviceBuffer allocate(long bytes);

    /** Bytes currently allocated through this device object. */
    long allocatedBytes();

    /** Bytes of device memory still free (as the driver reports it on a GPU). */
    long freeBytes();

    /** Allocates page-locked, portable host memory ({@code cuMemHostAlloc}). */
    PinnedHostBuffer allocatePinned(long bytes);

    /**
     * Page-locks existing host memory in place ({@code cuMemHostRegister}); closing the result
     * unregisters it. {@code numaNode} is recorded in the statistics of copies from it.
     */
    PinnedHostBuffer register(MemorySegment memory, OptionalInt numaNode);

    /** A new stream; close it when done. */
    Stream createStream();

    /** The device's own stream, used by the synchronous copies; closing it does nothing. */
    Stream defaultStream();

    /** Copies host to device and waits for the copy. */
    void copyToDevice(PinnedHostBuffer src, long srcOffset, DeviceBuffer dst, long dstOffset, long bytes);

    /** Copies device to host and waits for the copy. */
    void copyToHost(DeviceBuffer src, long srcOffset, PinnedHostBuffer dst, long dstOffset, long bytes);

    /** Copies all of {@code src} (ordinary pageable memory, node unknown) to {@code dst} at {@code dstOffset}. */
    default void copyToDevice(MemorySegment src, DeviceBuffer dst, long dstOffset) {
        copyToDevice(PinnedHostBuffer.pageable(src, OptionalInt.empty()), 0, dst, dstOffset, src.byteSize());
    }

    /** Fills all of {@code dst} (ordinary pageable memory) from {@code src} at {@code srcOffset}. */
    default void copyToHost(DeviceBuffer src, long srcOffset, MemorySegment dst) {
        copyToHost(src, srcOffset, PinnedHostBuffer.pageable(dst, OptionalInt.empty()), 0, dst.byteSize());
    }

    /** Kernels this device can launch. */
    KernelSupport kernels();

    /** Matrix products (created on first use, owned by the device). */
    Gemm gemm();

    /** Statistics of every copy made through this device. */
    TransferStats transferStats();

    /** Waits for all work on all streams. */
    void synchronize();

    @Override
    void close();
}
