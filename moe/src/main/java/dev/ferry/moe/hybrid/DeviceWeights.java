package dev.ferry.moe.hybrid;

import dev.ferry.cuda.Device;
import dev.ferry.cuda.DeviceBuffer;
import dev.ferry.cuda.HostMemoryKind;
import dev.ferry.cuda.kernels.QuantFormat;
import dev.ferry.loader.GgmlType;
import dev.ferry.moe.kernel.ExpertWeights;
import dev.ferry.moe.kernel.WeightMatrix;
import dev.ferry.moe.quant.Decoders;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The device home of the tensors the plan puts on the GPU: each is uploaded once, on first
 * request (when the first session of a model is built, before it runs), and kept until the
 * store closes, so later sessions reuse it. Uploads count in the {@link HybridStats.Phase#LOAD}
 * statistics. Quantized types the device kernels know keep their blocks; F32 and F16 go as
 * they are; anything else is decoded to F32 on the host first.
 */
public final class DeviceWeights implements AutoCloseable {

    private final Device device;
    private final HybridStats stats;
    private final Map<String, Object> byName = new HashMap<>();
    private final List<DeviceBuffer> owned = new ArrayList<>();

    public DeviceWeights(Device device, HybridStats stats) {
        this.device = device;
        this.stats = stats;
    }

    /** The matrix tensor {@code name}, uploaded on first use. */
    public synchronized DeviceMatrix matrix(String name, WeightMatrix w) {
        return (DeviceMatrix) byName.computeIfAbsent(name, k -> keep(upload(w)));
    }

    /** The expert tensor {@code name}, uploaded on first use; element {@code e} views expert {@code e}. */
    public synchronized DeviceMatrix[] experts(String name, ExpertWeights w) {
        return ((ResidentExperts) byName.computeIfAbsent(name, k -> {
            ResidentExperts r = upload(w);
            owned.add(r.owner());
            return r;
        })).experts().clone();
    }

    /** The float32 vector tensor {@code name}, uploaded on first use. */
    public synchronized DeviceBuffer vector(String name, MemorySegment f32) {
        return (DeviceBuffer) byName.computeIfAbsent(name, k -> {
            DeviceBuffer b = upload(f32);
            owned.add(b);
            return b;
        });
    }

    /** Bytes of device memory the stored tensors take. */
    public synchronized long bytes() {
        return owned.stream().mapToLong(DeviceBuffer::size).sum();
    }

    private DeviceMatrix keep(DeviceMatrix m) {
        owned.add(m.data());
        return m;
    }

    @Override
    public synchronized void close() {
        for (DeviceBuffer b : owned) {
            b.close();
        }
        owned.clear();
        byName.clear();
    }

    /** True when {@code type}'s bytes can be used on the device as stored (no host conversion). */
    public static boolean keepsBytes(GgmlType type) {
        return type == GgmlType.F32 || type == GgmlType.F16 || QuantFormat.byGgmlId(type.id()).isPresent();
    }

    /** How a {@code rows x cols} matrix of {@code type} is laid out on the device. */
    public static DeviceMatrix.Layout layoutOf(GgmlType type, long rows, long cols) {
        Optional<QuantFormat> format = QuantFormat.byGgmlId(type.id());
        DeviceMatrix.Storage storage = type == GgmlType.F16 ? DeviceMatrix.Storage.F16
                : format.isPresent() ? DeviceMatrix.Storage.QUANTIZED : DeviceMatrix.Storage.F32;
        return new DeviceMatrix.Layout(storage, format.filter(f -> storage == DeviceMatrix.Storage.QUANTIZED), rows, cols);
    }

    private DeviceMatrix upload(WeightMatrix w) {
        DeviceMatrix.Layout layout = layoutOf(w.type(), w.rows(), w.cols());
        DeviceBuffer buffer = device.allocate(layout.bytes());
        try {
            upload(w.type(), w.data(), w.rows() * w.cols(), buffer);
        } catch (RuntimeException e) {
            buffer.close();
            throw e;
        }
        return layout.over(buffer);
    }

    /** All experts of a 3-D tensor in one owning buffer; {@code experts[e]} views expert {@code e}. */
    private record ResidentExperts(DeviceBuffer owner, DeviceMatrix[] experts) { }

    private ResidentExperts upload(ExpertWeights w) {
        DeviceMatrix.Layout layout = layoutOf(w.type(), w.rows(), w.cols());
        long each = layout.bytes();
        DeviceBuffer buffer = device.allocate(each * w.experts());
        try {
            upload(w.type(), w.data(), w.rows() * w.cols() * w.experts(), buffer);
        } catch (RuntimeException e) {
            buffer.close();
            throw e;
        }
        DeviceMatrix[] out = new DeviceMatrix[w.experts()];
        for (int e = 0; e < out.length; e++) {
            out[e] = layout.over(buffer.slice(e * each, each));
        }
        return new ResidentExperts(buffer, out);
    }

    private DeviceBuffer upload(MemorySegment f32) {
        DeviceBuffer buffer = device.allocate(f32.byteSize());
        try {
            copy(f32, buffer);
        } catch (RuntimeException e) {
            buffer.close();
            throw e;
        }
        return buffer;
    }

    private void upload(GgmlType type, MemorySegment data, long values, DeviceBuffer dst) {
        if (keepsBytes(type)) {
            copy(data, dst);
            return;
        }
        // shared, not confined: see LinuxSystemCalls (one session kind through the JDK's access code)
        try (Arena arena = Arena.ofShared()) {
            MemorySegment f32 = arena.allocate(values * Float.BYTES, 64);
            Decoders.of(type).decodeRow(data, 0, f32, 0, values);
            copy(f32, dst);
        }
    }

    private void copy(MemorySegment src, DeviceBuffer dst) {
        long t0 = System.nanoTime();
        device.copyToDevice(src, dst, 0);
        stats.addUpload(HybridStats.Phase.LOAD, HostMemoryKind.PAGEABLE, OptionalInt.empty(), src.byteSize(), 1,
                (System.nanoTime() - t0) / 1e9);
    }
}
