package dev.ferry.cuda.jcuda;

import dev.ferry.cuda.CopyDirection;
import dev.ferry.cuda.Device;
import dev.ferry.cuda.DeviceBackend;
import dev.ferry.cuda.DeviceBuffer;
import dev.ferry.cuda.DeviceException;
import dev.ferry.cuda.DeviceInfo;
import dev.ferry.cuda.DeviceUnavailableException;
import dev.ferry.cuda.Event;
import dev.ferry.cuda.Gemm;
import dev.ferry.cuda.HostMemoryKind;
import dev.ferry.cuda.KernelArg;
import dev.ferry.cuda.KernelSupport;
import dev.ferry.cuda.LaunchGrid;
import dev.ferry.cuda.LivePinnedBuffers;
import dev.ferry.cuda.PinnedHostBuffer;
import dev.ferry.cuda.SlicedDeviceBuffer;
import dev.ferry.cuda.Stream;
import dev.ferry.cuda.TransferRecord;
import dev.ferry.cuda.TransferStats;
import jcuda.CudaException;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.CUfunction;
import jcuda.driver.CUresult;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;
import jcuda.driver.JCudaDriver;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import static dev.ferry.cuda.jcuda.CudaProbe.check;

/**
 * A real GPU through the CUDA driver API (JCuda). Uses the device's primary context, made
 * current on every calling thread. Copies are timed with CUDA events around them; the times
 * land in {@link #transferStats()} when their stream is synchronised.
 */
public final class JCudaDevice implements Device {

    private final CUdevice device;
    private final CUcontext context;
    private final DeviceInfo info;
    private final NativeKernels kernels;
    private final TransferStats stats = new TransferStats();
    private final AtomicLong allocated = new AtomicLong();
    private final Set<CudaBuffer> liveBuffers = ConcurrentHashMap.newKeySet();
    private final LivePinnedBuffers livePinned = new LivePinnedBuffers();
    private final Set<CudaStream> liveStreams = ConcurrentHashMap.newKeySet();
    private final CudaStream defaultStream;
    private volatile Gemm gemm;
    private volatile boolean closed;

    private JCudaDevice(CUdevice device, CUcontext context, DeviceInfo info) {
        this.device = device;
        this.context = context;
        this.info = info;
        this.kernels = NativeKernels.load();
        this.defaultStream = new CudaStream(true);
    }

    /**
     * Opens GPU {@code ordinal} (the caller has checked with {@link CudaProbe} that the driver
     * works). Failures become a {@link DeviceUnavailableException} "no GPU: reason".
     */
    public static JCudaDevice open(int ordinal) {
        try {
            check(JCudaDriver.cuInit(0), "cuInit");
            CUdevice device = new CUdevice();
            check(JCudaDriver.cuDeviceGet(device, ordinal), "cuDeviceGet(" + ordinal + ")");
            byte[] nameBytes = new byte[256];
            check(JCudaDriver.cuDeviceGetName(nameBytes, nameBytes.length, device), "cuDeviceGetName");
            String name = cString(nameBytes);
            long[] total = new long[1];
            check(JCudaDriver.cuDeviceTotalMem(total, device), "cuDeviceTotalMem");
            int major = attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
            int minor = attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
            String[] bus = new String[1];
            Optional<String> busId = JCudaDriver.cuDeviceGetPCIBusId(bus, 32, device) == CUresult.CUDA_SUCCESS
                    ? Optional.of(bus[0].trim().toLowerCase(Locale.ROOT)) : Optional.empty();
            int[] driver = new int[1];
            JCudaDriver.cuDriverGetVersion(driver);
            CUcontext context = new CUcontext();
            check(JCudaDriver.cuDevicePrimaryCtxRetain(context, device), "cuDevicePrimaryCtxRetain");
            check(JCudaDriver.cuCtxSetCurrent(context), "cuCtxSetCurrent");
            String description = String.format(Locale.ROOT, "%s (sm_%d%d, %.1f GiB, PCI %s, CUDA driver %d.%d)", name,
                    major, minor, total[0] / (double) (1L << 30), busId.orElse("?"), driver[0] / 1000,
                    driver[0] % 1000 / 10);
            return new JCudaDevice(device, context,
                    new DeviceInfo(name, DeviceBackend.CUDA, total[0], busId, major, minor, description));
        } catch (DeviceException e) {
            throw new DeviceUnavailableException("no GPU: " + e.getMessage());
        } catch (LinkageError e) {
            throw new DeviceUnavailableException("no GPU: the JCuda driver binding could not load ("
                    + CudaProbe.rootMessage(e) + ")");
        } catch (CudaException e) {
            throw new DeviceUnavailableException("no GPU: " + e.getMessage());
        }
    }

    private static int attribute(CUdevice device, int attribute) {
        int[] value = new int[1];
        check(JCudaDriver.cuDeviceGetAttribute(value, attribute, device), "cuDeviceGetAttribute(" + attribute + ")");
        return value[0];
    }

    private static String cString(byte[] bytes) {
        int end = 0;
        while (end < bytes.length && bytes[end] != 0) {
            end++;
        }
        return new String(bytes, 0, end, StandardCharsets.UTF_8);
    }

    /** Makes this device's context current on the calling thread. */
    void makeCurrent() {
        if (closed) {
            throw new IllegalStateException("the CUDA device is closed");
        }
        check(JCudaDriver.cuCtxSetCurrent(context), "cuCtxSetCurrent");
    }

    @Override
    public DeviceInfo info() {
        return info;
    }

    @Override
    public DeviceBuffer allocate(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("cannot allocate " + bytes + " bytes of device memory");
        }
        makeCurrent();
        CUdeviceptr pointer = new CUdeviceptr();
        int rc = JCudaDriver.cuMemAlloc(pointer, Math.max(bytes, 1));
        if (rc != CUresult.CUDA_SUCCESS) {
            throw new DeviceException("cuMemAlloc of " + bytes + " bytes failed: " + CUresult.stringFor(rc) + " ("
                    + freeBytes() + " bytes free)");
        }
        allocated.addAndGet(bytes);
        CudaBuffer buffer = new CudaBuffer(pointer, bytes, null);
        liveBuffers.add(buffer);
        return buffer;
    }

    @Override
    public long allocatedBytes() {
        return allocated.get();
    }

    @Override
    public long freeBytes() {
        makeCurrent();
        long[] free = new long[1];
        long[] total = new long[1];
        check(JCudaDriver.cuMemGetInfo(free, total), "cuMemGetInfo");
        return free[0];
    }

    @Override
    public PinnedHostBuffer allocatePinned(long bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("pinned allocation must be positive, got " + bytes);
        }
        makeCurrent();
        HostPointer pointer = new HostPointer(0);
        int rc = JCudaDriver.cuMemHostAlloc(pointer, bytes, JCudaDriver.CU_MEMHOSTALLOC_PORTABLE);
        if (rc != CUresult.CUDA_SUCCESS) {
            throw new DeviceException("cuMemHostAlloc of " + bytes + " bytes failed: " + CUresult.stringFor(rc));
        }
        MemorySegment segment = MemorySegment.ofAddress(pointer.address()).reinterpret(bytes);
        return livePinned.track(segment, HostMemoryKind.PINNED, OptionalInt.empty(), () -> {
            if (!closed) {
                makeCurrent();
            }
            JCudaDriver.cuMemFreeHost(pointer);
        });
    }

    @Override
    public PinnedHostBuffer register(MemorySegment memory, OptionalInt numaNode) {
        if (!memory.isNative() || memory.byteSize() == 0) {
            throw new IllegalArgumentException("only non-empty native memory can be registered");
        }
        makeCurrent();
        HostPointer pointer = HostPointer.at(memory, 0);
        // A read-only file mapping (--pin-in-place with --mmap) must be registered read-only.
        int flags = JCudaDriver.CU_MEMHOSTREGISTER_PORTABLE | (memory.isReadOnly() ? JCudaDriver.CU_MEMHOSTREGISTER_READ_ONLY : 0);
        int rc = JCudaDriver.cuMemHostRegister(pointer, memory.byteSize(), flags);
        if (rc != CUresult.CUDA_SUCCESS) {
            throw new DeviceException("cuMemHostRegister of " + memory.byteSize() + " bytes at 0x"
                    + Long.toHexString(memory.address()) + " failed: " + CUresult.stringFor(rc));
        }
        return livePinned.track(memory, HostMemoryKind.REGISTERED, numaNode, () -> {
            if (!closed) {
                makeCurrent();
            }
            JCudaDriver.cuMemHostUnregister(pointer);
        });
    }

    @Override
    public Stream createStream() {
        makeCurrent();
        return new CudaStream(false);
    }

    @Override
    public Stream defaultStream() {
        return defaultStream;
    }

    @Override
    public void copyToDevice(PinnedHostBuffer src, long srcOffset, DeviceBuffer dst, long dstOffset, long bytes) {
        synchronized (defaultStream) {
            defaultStream.copy(src, srcOffset, dst, dstOffset, bytes, CopyDirection.HOST_TO_DEVICE, false);
            defaultStream.synchronize();
        }
    }

    @Override
    public void copyToHost(DeviceBuffer src, long srcOffset, PinnedHostBuffer dst, long dstOffset, long bytes) {
        synchronized (defaultStream) {
            defaultStream.copy(dst, dstOffset, src, srcOffset, bytes, CopyDirection.DEVICE_TO_HOST, false);
            defaultStream.synchronize();
        }
    }

    @Override
    public KernelSupport kernels() {
        return kernels;
    }

    @Override
    public Gemm gemm() {
        Gemm g = gemm;
        if (g == null) {
            synchronized (this) {
                if (gemm == null) {
                    makeCurrent();
                    gemm = CublasGemms.open(this);
                }
                g = gemm;
            }
        }
        return g;
    }

    @Override
    public TransferStats transferStats() {
        return stats;
    }

    @Override
    public void synchronize() {
        makeCurrent();
        check(JCudaDriver.cuCtxSynchronize(), "cuCtxSynchronize");
        for (CudaStream s : liveStreams) {
            s.resolvePending();
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        makeCurrent();
        JCudaDriver.cuCtxSynchronize();
        if (gemm instanceof AutoCloseable c) {
            try {
                c.close();
            } catch (Exception e) {
                throw new DeviceException("closing cuBLAS failed", e);
            }
        }
        for (CudaStream s : new ArrayList<>(liveStreams)) {
            s.destroy();
        }
        for (CudaBuffer b : new ArrayList<>(liveBuffers)) {
            b.close();
        }
        livePinned.closeAll();
        kernels.unload();
        closed = true;
        JCudaDriver.cuDevicePrimaryCtxRelease(device);
    }

    CudaBuffer own(DeviceBuffer buffer) {
        return SlicedDeviceBuffer.owned(buffer, CudaBuffer.class, this, "CUDA device");
    }

    CudaStream own(Stream stream) {
        if (!(stream instanceof CudaStream s) || s.owner() != this) {
            throw new IllegalArgumentException("stream does not belong to this CUDA device");
        }
        return s;
    }

    /** Device memory: a CUdeviceptr (a slice's pointer carries a byte offset). */
    final class CudaBuffer extends SlicedDeviceBuffer {
        private final CUdeviceptr pointer;

        CudaBuffer(CUdeviceptr pointer, long size, CudaBuffer parent) {
            super(size, parent);
            this.pointer = pointer;
        }

        @Override
        protected Device device() {
            return JCudaDevice.this;
        }

        CUdeviceptr pointer() {
            return pointer;
        }

        @Override
        protected DeviceBuffer sliceAt(long offset, long bytes) {
            return new CudaBuffer(pointer.withByteOffset(offset), bytes, this);
        }

        @Override
        protected void release() {
            liveBuffers.remove(this);
            allocated.addAndGet(-size());
            if (!closed) {
                makeCurrent();
            }
            JCudaDriver.cuMemFree(pointer);
        }

        @Override
        public String toString() {
            return "CUDA device buffer of " + size() + " bytes";
        }
    }

    final class CudaEvent implements Event {
        private final CUevent event = new CUevent();
        private volatile boolean destroyed;

        CudaEvent(CUstream stream) {
            check(JCudaDriver.cuEventCreate(event, CUevent_flags.CU_EVENT_DEFAULT), "cuEventCreate");
            check(JCudaDriver.cuEventRecord(event, stream), "cuEventRecord");
        }

        CUevent handle() {
            return event;
        }

        @Override
        public boolean isComplete() {
            makeCurrent();
            int rc = JCudaDriver.cuEventQuery(event);
            if (rc == CUresult.CUDA_ERROR_NOT_READY) {
                return false;
            }
            check(rc, "cuEventQuery");
            return true;
        }

        @Override
        public void synchronize() {
            makeCurrent();
            check(JCudaDriver.cuEventSynchronize(event), "cuEventSynchronize");
        }

        @Override
        public double secondsSince(Event earlier) {
            if (!(earlier instanceof CudaEvent e)) {
                throw new IllegalArgumentException("event does not belong to the CUDA device");
            }
            makeCurrent();
            float[] ms = new float[1];
            check(JCudaDriver.cuEventElapsedTime(ms, e.event, event), "cuEventElapsedTime");
            return ms[0] / 1e3;
        }

        @Override
        public void close() {
            if (!destroyed) {
                destroyed = true;
                JCudaDriver.cuEventDestroy(event);
            }
        }
    }

    /** A copy whose events have not been read yet. */
    private record PendingCopy(CudaEvent start, CudaEvent end, CopyDirection direction, HostMemoryKind kind,
                               OptionalInt node, long bytes, boolean async) {
    }

    final class CudaStream implements Stream {
        private static final int MAX_PENDING = 512;
        private final CUstream stream = new CUstream();
        private final boolean isDefault;
        private final List<PendingCopy> pending = new ArrayList<>();
        private volatile boolean destroyed;

        CudaStream(boolean isDefault) {
            this.isDefault = isDefault;
            check(JCudaDriver.cuStreamCreate(stream, CUstream_flags.CU_STREAM_NON_BLOCKING), "cuStreamCreate");
            liveStreams.add(this);
        }

        JCudaDevice owner() {
            return JCudaDevice.this;
        }

        CUstream handle() {
            return stream;
        }

        @Override
        public void copyToDeviceAsync(PinnedHostBuffer src, long srcOffset, DeviceBuffer dst, long dstOffset, long bytes) {
            copy(src, srcOffset, dst, dstOffset, bytes, CopyDirection.HOST_TO_DEVICE, true);
        }

        @Override
        public void copyToHostAsync(DeviceBuffer src, long srcOffset, PinnedHostBuffer dst, long dstOffset, long bytes) {
            copy(dst, dstOffset, src, srcOffset, bytes, CopyDirection.DEVICE_TO_HOST, true);
        }

        synchronized void copy(PinnedHostBuffer host, long hostOffset, DeviceBuffer device, long deviceOffset, long bytes,
                               CopyDirection direction, boolean async) {
            checkUsable();
            host.checkOpen();
            CudaBuffer dev = own(device);
            DeviceBuffer.checkRange("host " + host.kind().label() + " buffer", host.size(), hostOffset, bytes);
            DeviceBuffer.checkRange("device buffer", dev.size(), deviceOffset, bytes);
            makeCurrent();
            Pointer hostPointer = HostPointer.at(host.segment(), hostOffset);
            CUdeviceptr devPointer = dev.pointer().withByteOffset(deviceOffset);
            CudaEvent start = new CudaEvent(stream);
            int rc = direction == CopyDirection.HOST_TO_DEVICE
                    ? JCudaDriver.cuMemcpyHtoDAsync(devPointer, hostPointer, bytes, stream)
                    : JCudaDriver.cuMemcpyDtoHAsync(hostPointer, devPointer, bytes, stream);
            if (rc != CUresult.CUDA_SUCCESS) {
                start.close();
                throw new DeviceException(direction.shortName() + " copy of " + bytes + " bytes failed: "
                        + CUresult.stringFor(rc));
            }
            CudaEvent end = new CudaEvent(stream);
            pending.add(new PendingCopy(start, end, direction, host.kind(), host.numaNode(), bytes, async));
            if (pending.size() >= MAX_PENDING) {
                resolvePending();
            }
        }

        @Override
        public synchronized void copyOnDevice(DeviceBuffer src, long srcOffset, DeviceBuffer dst, long dstOffset, long bytes) {
            checkUsable();
            CudaBuffer s = own(src);
            CudaBuffer d = own(dst);
            DeviceBuffer.checkRange("source device buffer", s.size(), srcOffset, bytes);
            DeviceBuffer.checkRange("target device buffer", d.size(), dstOffset, bytes);
            makeCurrent();
            check(JCudaDriver.cuMemcpyDtoDAsync(d.pointer().withByteOffset(dstOffset), s.pointer().withByteOffset(srcOffset),
                    bytes, stream), "cuMemcpyDtoDAsync");
        }

        @Override
        public synchronized void launch(String name, LaunchGrid grid, KernelArg... args) {
            Objects.requireNonNull(grid, "grid");
            checkUsable();
            CUfunction function = kernels.function(name).orElseThrow(() -> new DeviceException(
                    "kernel " + name + " is not available: " + kernels.status()));
            Pointer[] values = new Pointer[args.length];
            for (int i = 0; i < args.length; i++) {
                values[i] = switch (args[i]) {
                    case KernelArg.Buffer b -> Pointer.to(own(b.buffer()).pointer());
                    case KernelArg.I32 v -> Pointer.to(new int[] {v.value()});
                    case KernelArg.I64 v -> Pointer.to(new long[] {v.value()});
                    case KernelArg.F32 v -> Pointer.to(new float[] {v.value()});
                };
            }
            makeCurrent();
            check(JCudaDriver.cuLaunchKernel(function, grid.gridX(), grid.gridY(), grid.gridZ(), grid.blockX(),
                    grid.blockY(), grid.blockZ(), grid.sharedBytes(), stream, Pointer.to(values), null),
                    "cuLaunchKernel(" + name + ")");
        }

        @Override
        public synchronized Event record() {
            checkUsable();
            makeCurrent();
            return new CudaEvent(stream);
        }

        @Override
        public synchronized void waitFor(Event event) {
            checkUsable();
            if (!(event instanceof CudaEvent e)) {
                throw new IllegalArgumentException("event does not belong to the CUDA device");
            }
            makeCurrent();
            check(JCudaDriver.cuStreamWaitEvent(stream, e.handle(), 0), "cuStreamWaitEvent");
        }

        @Override
        public synchronized void synchronize() {
            checkUsable();
            makeCurrent();
            check(JCudaDriver.cuStreamSynchronize(stream), "cuStreamSynchronize");
            resolvePending();
        }

        /** Moves finished copies into the statistics, in order, stopping at the first unfinished one. */
        synchronized void resolvePending() {
            int done = 0;
            for (PendingCopy p : pending) {
                if (!p.end().isComplete()) {
                    break;
                }
                double seconds = p.end().secondsSince(p.start());
                stats.add(new TransferRecord(p.direction(), p.kind(), p.node(), p.bytes(), seconds, seconds, false,
                        p.async()));
                p.start().close();
                p.end().close();
                done++;
            }
            pending.subList(0, done).clear();
        }

        @Override
        public void close() {
            if (!isDefault) {
                destroy();
            }
        }

        synchronized void destroy() {
            if (destroyed) {
                return;
            }
            makeCurrent();
            JCudaDriver.cuStreamSynchronize(stream);
            resolvePending();
            destroyed = true;
            liveStreams.remove(this);
            JCudaDriver.cuStreamDestroy(stream);
        }

        private void checkUsable() {
            if (destroyed) {
                throw new IllegalStateException("stream is closed");
            }
        }
    }
}
