package dev.ferry.moe.offload;

import dev.ferry.cuda.Device;
import dev.ferry.cuda.DeviceBuffer;
import dev.ferry.cuda.DeviceException;
import dev.ferry.cuda.DeviceInfo;
import dev.ferry.cuda.Gemm;
import dev.ferry.cuda.KernelSupport;
import dev.ferry.cuda.PinnedHostBuffer;
import dev.ferry.cuda.Stream;
import dev.ferry.cuda.TransferStats;
import dev.ferry.cuda.sim.SimulatedDevice;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;

/**
 * A {@link SimulatedDevice} that remembers every pinned or registered buffer it hands out (so
 * tests can see they were freed) and can refuse pinned allocations after a number of them.
 */
final class RecordingDevice implements Device {

    final SimulatedDevice sim;
    final List<PinnedHostBuffer> pinned = new ArrayList<>();
    private final int pinnedAllowed;

    RecordingDevice(SimulatedDevice sim, int pinnedAllowed) {
        this.sim = sim;
        this.pinnedAllowed = pinnedAllowed;
    }

    RecordingDevice(SimulatedDevice sim) {
        this(sim, Integer.MAX_VALUE);
    }

    long openPinnedBuffers() {
        return pinned.stream().filter(PinnedHostBuffer::isOpen).count();
    }

    @Override
    public PinnedHostBuffer allocatePinned(long bytes) {
        if (pinned.size() >= pinnedAllowed) {
            throw new DeviceException("cuMemHostAlloc of " + bytes + " bytes failed: CUDA_ERROR_OUT_OF_MEMORY (test double)");
        }
        PinnedHostBuffer b = sim.allocatePinned(bytes);
        pinned.add(b);
        return b;
    }

    @Override
    public PinnedHostBuffer register(MemorySegment memory, OptionalInt numaNode) {
        PinnedHostBuffer b = sim.register(memory, numaNode);
        pinned.add(b);
        return b;
    }

    @Override
    public DeviceInfo info() {
        return sim.info();
    }

    @Override
    public DeviceBuffer allocate(long bytes) {
        return sim.allocate(bytes);
    }

    @Override
    public long allocatedBytes() {
        return sim.allocatedBytes();
    }

    @Override
    public long freeBytes() {
        return sim.freeBytes();
    }

    @Override
    public Stream createStream() {
        return sim.createStream();
    }

    @Override
    public Stream defaultStream() {
        return sim.defaultStream();
    }

    @Override
    public void copyToDevice(PinnedHostBuffer src, long srcOffset, DeviceBuffer dst, long dstOffset, long bytes) {
        sim.copyToDevice(src, srcOffset, dst, dstOffset, bytes);
    }

    @Override
    public void copyToHost(DeviceBuffer src, long srcOffset, PinnedHostBuffer dst, long dstOffset, long bytes) {
        sim.copyToHost(src, srcOffset, dst, dstOffset, bytes);
    }

    @Override
    public KernelSupport kernels() {
        return sim.kernels();
    }

    @Override
    public Gemm gemm() {
        return sim.gemm();
    }

    @Override
    public TransferStats transferStats() {
        return sim.transferStats();
    }

    @Override
    public void synchronize() {
        sim.synchronize();
    }

    @Override
    public void close() {
        sim.close();
    }
}
