package dev.ferry.cuda.sim;

import dev.ferry.cuda.CopyDirection;
import dev.ferry.cuda.Device;
import dev.ferry.cuda.DeviceBackend;
import dev.ferry.cuda.DeviceBuffer;
import dev.ferry.cuda.DeviceException;
import dev.ferry.cuda.DeviceInfo;
import dev.ferry.cuda.Event;
import dev.ferry.cuda.Gemm;
import dev.ferry.cuda.GemmCall;
import dev.ferry.cuda.GemmType;
import dev.ferry.cuda.HostMemoryKind;
import dev.ferry.cuda.KernelArg;
import dev.ferry.cuda.LivePinnedBuffers;
import dev.ferry.cuda.KernelSupport;
import dev.ferry.cuda.LaunchGrid;
import dev.ferry.cuda.PinnedHostBuffer;
import dev.ferry.cuda.SlicedDeviceBuffer;
import dev.ferry.cuda.Stream;
import dev.ferry.cuda.TransferRecord;
import dev.ferry.cuda.TransferStats;
import dev.ferry.cuda.kernels.CpuKernel;
import dev.ferry.cuda.kernels.CpuTwins;
import dev.ferry.cuda.kernels.KernelCallArgs;
import dev.ferry.cuda.kernels.KernelRegistry;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A GPU simulated in host RAM. Device memory is native memory, copies really copy and are
 * accounted like real ones, with their time modelled by a {@link SimulatedLink} (the real
 * elapsed time is recorded too). Kernels run their CPU twins from a {@link KernelRegistry}.
 * Work runs at once when queued (so ordering holds trivially); each stream keeps a modelled
 * clock, copies in one direction share the link, and events carry clock readings.
 */
public final class SimulatedDevice implements Device {

    /** Default simulated device memory: 24 GiB (only what is allocated uses host RAM). */
    public static final long DEFAULT_MEMORY_BYTES = 24L << 30;

    private final SimulatedLink link;
    private final KernelRegistry registry;
    private final long capacity;
    private final DeviceInfo info;
    private final TransferStats stats = new TransferStats();
    private final AtomicLong allocated = new AtomicLong();
    private final Set<SimBuffer> liveBuffers = ConcurrentHashMap.newKeySet();
    private final LivePinnedBuffers livePinned = new LivePinnedBuffers();
    private final Map<CopyDirection, Double> linkFreeAt = new EnumMap<>(CopyDirection.class);
    private final Object lock = new Object();
    private final SimStream defaultStream;
    private final SimGemm gemm = new SimGemm();
    private volatile boolean closed;

    public SimulatedDevice(SimulatedLink link, KernelRegistry registry, long memoryBytes) {
        this.link = Objects.requireNonNull(link, "link");
        this.registry = Objects.requireNonNull(registry, "registry");
        if (memoryBytes <= 0) {
            throw new IllegalArgumentException("simulated device memory must be positive, got " + memoryBytes);
        }
        this.capacity = memoryBytes;
        this.info = new DeviceInfo("simulated GPU", DeviceBackend.SIMULATED, memoryBytes, Optional.empty(), 0, 0,
                String.format(java.util.Locale.ROOT, "simulated GPU (no real device: %.1f GiB in host RAM, %s)",
                        memoryBytes / (double) (1L << 30), link.describe()));
        this.defaultStream = new SimStream(true);
    }

    /** A simulated device with the standard CPU twins, a PCIe 4.0 x16 link and 24 GiB. */
    public static SimulatedDevice standard() {
        return new SimulatedDevice(SimulatedLink.pcie4x16(), KernelRegistry.withStandardTwins(), DEFAULT_MEMORY_BYTES);
    }

    public SimulatedLink link() {
        return link;
    }

    public KernelRegistry registry() {
        return registry;
    }

    /** The host-RAM segment that backs {@code buffer} (for tests and CPU-side twins). */
    public MemorySegment backing(DeviceBuffer buffer) {
        return own(buffer).segment();
    }

    @Override
    public DeviceInfo info() {
        return info;
    }

    @Override
    public DeviceBuffer allocate(long bytes) {
        checkOpen();
        if (bytes < 0) {
            throw new IllegalArgumentException("cannot allocate " + bytes + " bytes of device memory");
        }
        long after = allocated.addAndGet(bytes);
        if (after > capacity) {
            allocated.addAndGet(-bytes);
            throw new DeviceException("out of device memory: " + bytes + " bytes requested, " + (capacity - after + bytes)
                    + " of " + capacity + " free on the simulated GPU");
        }
        Arena arena = Arena.ofShared();
        try {
            SimBuffer buffer = new SimBuffer(arena.allocate(Math.max(bytes, 1), 256).asSlice(0, bytes), arena, null);
            liveBuffers.add(buffer);
            return buffer;
        } catch (OutOfMemoryError | RuntimeException e) {
            arena.close();
            allocated.addAndGet(-bytes);
            throw new DeviceException("simulated device memory of " + bytes + " bytes could not be allocated in host RAM", e);
        }
    }

    @Override
    public long allocatedBytes() {
        return allocated.get();
    }

    @Override
    public long freeBytes() {
        return capacity - allocated.get();
    }

    @Override
    public PinnedHostBuffer allocatePinned(long bytes) {
        checkOpen();
        if (bytes < 0) {
            throw new IllegalArgumentException("cannot allocate " + bytes + " bytes of pinned memory");
        }
        Arena arena = Arena.ofShared();
        MemorySegment segment = arena.allocate(Math.max(bytes, 1), 4096).asSlice(0, bytes);
        return livePinned.track(segment, HostMemoryKind.PINNED, OptionalInt.empty(), arena::close);
    }

    @Override
    public PinnedHostBuffer register(MemorySegment memory, OptionalInt numaNode) {
        checkOpen();
        if (!memory.isNative()) {
            throw new IllegalArgumentException("only native memory can be registered, got a heap segment");
        }
        return livePinned.track(memory, HostMemoryKind.REGISTERED, numaNode, () -> { });
    }

    @Override
    public Stream createStream() {
        checkOpen();
        return new SimStream(false);
    }

    @Override
    public Stream defaultStream() {
        return defaultStream;
    }

    @Override
    public void copyToDevice(PinnedHostBuffer src, long srcOffset, DeviceBuffer dst, long dstOffset, long bytes) {
        defaultStream.copy(src, srcOffset, dst, dstOffset, bytes, CopyDirection.HOST_TO_DEVICE, false);
    }

    @Override
    public void copyToHost(DeviceBuffer src, long srcOffset, PinnedHostBuffer dst, long dstOffset, long bytes) {
        defaultStream.copy(dst, dstOffset, src, srcOffset, bytes, CopyDirection.DEVICE_TO_HOST, false);
    }

    @Override
    public KernelSupport kernels() {
        return new KernelSupport() {
            @Override
            public Set<String> available() {
                return registry.names();
            }

            @Override
            public String status() {
                return registry.names().size() + " kernels run by CPU twins (simulated device)";
            }
        };
    }

    @Override
    public Gemm gemm() {
        return gemm;
    }

    @Override
    public TransferStats transferStats() {
        return stats;
    }

    @Override
    public void synchronize() {
        checkOpen();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (SimBuffer b : new ArrayList<>(liveBuffers)) {
            b.close();
        }
        livePinned.closeAll();
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the simulated device is closed");
        }
    }

    private SimBuffer own(DeviceBuffer buffer) {
        return SlicedDeviceBuffer.owned(buffer, SimBuffer.class, this, "simulated device");
    }

    private final class SimBuffer extends SlicedDeviceBuffer {
        private final MemorySegment segment;
        private final Arena arena;

        SimBuffer(MemorySegment segment, Arena arena, SimBuffer parent) {
            super(segment.byteSize(), parent);
            this.segment = segment;
            this.arena = arena;
        }

        @Override
        protected Device device() {
            return SimulatedDevice.this;
        }

        MemorySegment segment() {
            return segment;
        }

        @Override
        protected DeviceBuffer sliceAt(long offset, long bytes) {
            return new SimBuffer(segment.asSlice(offset, bytes), null, this);
        }

        @Override
        protected void release() {
            liveBuffers.remove(this);
            allocated.addAndGet(-segment.byteSize());
            arena.close();
        }

        @Override
        public String toString() {
            return "simulated device buffer of " + size() + " bytes";
        }
    }

    private final class SimEvent implements Event {
        private final double time;

        SimEvent(double time) {
            this.time = time;
        }

        @Override
        public boolean isComplete() {
            return true;
        }

        @Override
        public void synchronize() {
        }

        @Override
        public double secondsSince(Event earlier) {
            if (!(earlier instanceof SimEvent e)) {
                throw new IllegalArgumentException("event does not belong to the simulated device");
            }
            return time - e.time;
        }

        @Override
        public void close() {
        }
    }

    private final class SimStream implements Stream {
        private final boolean isDefault;
        private double clock;
        private boolean streamClosed;

        SimStream(boolean isDefault) {
            this.isDefault = isDefault;
        }

        SimulatedDevice outer() {
            return SimulatedDevice.this;
        }

        @Override
        public void copyToDeviceAsync(PinnedHostBuffer src, long srcOffset, DeviceBuffer dst, long dstOffset, long bytes) {
            copy(src, srcOffset, dst, dstOffset, bytes, CopyDirection.HOST_TO_DEVICE, true);
        }

        @Override
        public void copyToHostAsync(DeviceBuffer src, long srcOffset, PinnedHostBuffer dst, long dstOffset, long bytes) {
            copy(dst, dstOffset, src, srcOffset, bytes, CopyDirection.DEVICE_TO_HOST, true);
        }

        void copy(PinnedHostBuffer host, long hostOffset, DeviceBuffer device, long deviceOffset, long bytes,
                  CopyDirection direction, boolean async) {
            synchronized (lock) {
                checkUsable();
                host.checkOpen();
                SimBuffer dev = own(device);
                DeviceBuffer.checkRange("host " + host.kind().label() + " buffer", host.size(), hostOffset, bytes);
                DeviceBuffer.checkRange("device buffer", dev.size(), deviceOffset, bytes);
                long start = System.nanoTime();
                if (direction == CopyDirection.HOST_TO_DEVICE) {
                    MemorySegment.copy(host.segment(), hostOffset, dev.segment(), deviceOffset, bytes);
                } else {
                    MemorySegment.copy(dev.segment(), deviceOffset, host.segment(), hostOffset, bytes);
                }
                double real = (System.nanoTime() - start) / 1e9;
                double modelled = advance(direction, link.seconds(direction, host.kind(), bytes));
                stats.add(new TransferRecord(direction, host.kind(), host.numaNode(), bytes, modelled, real, true, async));
            }
        }

        @Override
        public void copyOnDevice(DeviceBuffer src, long srcOffset, DeviceBuffer dst, long dstOffset, long bytes) {
            synchronized (lock) {
                checkUsable();
                SimBuffer s = own(src);
                SimBuffer d = own(dst);
                DeviceBuffer.checkRange("source device buffer", s.size(), srcOffset, bytes);
                DeviceBuffer.checkRange("target device buffer", d.size(), dstOffset, bytes);
                long start = System.nanoTime();
                MemorySegment.copy(s.segment(), srcOffset, d.segment(), dstOffset, bytes);
                double real = (System.nanoTime() - start) / 1e9;
                double modelled = advance(CopyDirection.DEVICE_TO_DEVICE,
                        link.seconds(CopyDirection.DEVICE_TO_DEVICE, HostMemoryKind.PINNED, bytes));
                stats.add(new TransferRecord(CopyDirection.DEVICE_TO_DEVICE, HostMemoryKind.PINNED, OptionalInt.empty(),
                        bytes, modelled, real, true, true));
            }
        }

        /** Starts a copy when both this stream and the link direction are free; returns its modelled seconds. */
        private double advance(CopyDirection direction, double seconds) {
            double start = Math.max(clock, linkFreeAt.getOrDefault(direction, 0.0));
            clock = start + seconds;
            linkFreeAt.put(direction, clock);
            return seconds;
        }

        @Override
        public void launch(String name, LaunchGrid grid, KernelArg... args) {
            Objects.requireNonNull(grid, "grid");
            synchronized (lock) {
                checkUsable();
                CpuKernel twin = registry.find(name).orElseThrow(() -> new DeviceException(
                        "kernel " + name + " has no CPU twin registered in the simulated device"));
                List<Object> values = new ArrayList<>(args.length);
                for (KernelArg arg : args) {
                    values.add(switch (arg) {
                        case KernelArg.Buffer b -> own(b.buffer()).segment();
                        case KernelArg.I32 i -> i.value();
                        case KernelArg.I64 l -> l.value();
                        case KernelArg.F32 f -> f.value();
                    });
                }
                twin.run(grid, new KernelCallArgs(name, values));
            }
        }

        void gemm(GemmCall call) {
            synchronized (lock) {
                checkUsable();
                CpuTwins.gemm(call.type() == GemmType.F16, own(call.weights()).segment(), own(call.input()).segment(),
                        own(call.output()).segment(), call.m(), call.n(), call.k(), call.batch(), call.weightsStride(),
                        call.inputStride(), call.outputStride(), call.alpha(), call.beta());
            }
        }

        @Override
        public Event record() {
            synchronized (lock) {
                checkUsable();
                return new SimEvent(clock);
            }
        }

        @Override
        public void waitFor(Event event) {
            if (!(event instanceof SimEvent e)) {
                throw new IllegalArgumentException("event does not belong to the simulated device");
            }
            synchronized (lock) {
                checkUsable();
                clock = Math.max(clock, e.time);
            }
        }

        @Override
        public void synchronize() {
            checkUsable();
        }

        @Override
        public void close() {
            if (!isDefault) {
                streamClosed = true;
            }
        }

        private void checkUsable() {
            checkOpen();
            if (streamClosed) {
                throw new IllegalStateException("stream is closed");
            }
        }
    }

    private final class SimGemm implements Gemm {
        @Override
        public String implementation() {
            return "CPU twin of cuBLAS GEMM (simulated device)";
        }

        @Override
        public void run(Stream stream, GemmCall call) {
            if (!(stream instanceof SimStream s) || s.outer() != SimulatedDevice.this) {
                throw new IllegalArgumentException("stream does not belong to this simulated device");
            }
            s.gemm(call);
        }
    }
}
