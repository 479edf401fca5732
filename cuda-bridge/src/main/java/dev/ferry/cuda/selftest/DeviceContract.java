package dev.ferry.cuda.selftest;

import dev.ferry.cuda.CopyDirection;
import dev.ferry.cuda.Device;
import dev.ferry.cuda.DeviceBuffer;
import dev.ferry.cuda.Event;
import dev.ferry.cuda.GemmCall;
import dev.ferry.cuda.GemmType;
import dev.ferry.cuda.HostMemoryKind;
import dev.ferry.cuda.PinnedHostBuffer;
import dev.ferry.cuda.Stream;
import dev.ferry.cuda.TransferRecord;
import dev.ferry.cuda.kernels.CpuTwins;
import dev.ferry.cuda.kernels.DeviceKernels;
import dev.ferry.cuda.kernels.QuantFormat;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * The behaviour every {@link Device} must show, as named checks that run without JUnit: the
 * JUnit suites run them on the simulated device (always) and on a GPU (tagged {@code gpu}), and
 * {@link GpuSelfTest} runs them from the jar on a machine with no build tools. Kernel and GEMM
 * checks compare the device's results with the CPU twins computed on the host.
 */
public final class DeviceContract {

    /** One named check of a device. */
    public record Check(String name, Consumer<Device> body) {
    }

    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfShort F16 = ValueLayout.JAVA_SHORT_UNALIGNED;

    private DeviceContract() {
    }

    /** Every check, in a stable order. */
    public static List<Check> checks() {
        List<Check> checks = new ArrayList<>(List.of(
                new Check("memory accounting follows allocate and close", DeviceContract::memoryAccounting),
                new Check("pageable round trip keeps every byte", DeviceContract::pageableRoundTrip),
                new Check("pinned copies are recorded as pinned", DeviceContract::pinnedCopies),
                new Check("registered memory copies are recorded with their node", DeviceContract::registeredCopies),
                new Check("async copies on two streams are ordered by an event", DeviceContract::asyncWithEvents),
                new Check("slices address the right bytes", DeviceContract::slices),
                new Check("bad ranges and freed buffers are refused", DeviceContract::misuseIsRefused),
                new Check("rmsnorm matches its twin", DeviceContract::rmsNorm),
                new Check("neox rope matches its twin", DeviceContract::rope),
                new Check("decode attention (GQA) matches its twin", d -> attention(d, 1, 37)),
                new Check("prefill attention (causal, GQA) matches its twin", d -> attention(d, 19, 5)),
                new Check("swiglu, add, scale and axpy match their twins", DeviceContract::swigluAndAdd),
                new Check("router top-k matches its twin", DeviceContract::routerTopK),
                new Check("f32 to f16 conversion matches its twin", DeviceContract::f32ToF16),
                new Check("F32 GEMM matches its twin", d -> gemm(d, GemmType.F32, 1)),
                new Check("F16 GEMM matches its twin", d -> gemm(d, GemmType.F16, 1)),
                new Check("strided batched F16 GEMM matches its twin", d -> gemm(d, GemmType.F16, 3))));
        for (QuantFormat format : QuantFormat.values()) {
            checks.add(new Check("dequantize " + format + " to F16 matches its twin", d -> dequant(d, format)));
        }
        for (QuantFormat format : QuantFormat.values()) {
            checks.add(new Check(format + " matrix x vector matches its twin", d -> matvec(d, format)));
        }
        return List.copyOf(checks);
    }

    static void memoryAccounting(Device d) {
        long before = d.allocatedBytes();
        long freeBefore = d.freeBytes();
        long bytes = 64L << 20;
        DeviceBuffer b = d.allocate(bytes);
        expect(d.allocatedBytes() == before + bytes, "allocatedBytes grew by " + (d.allocatedBytes() - before)
                + ", expected " + bytes);
        expect(freeBefore - d.freeBytes() >= bytes - (4L << 20), "freeBytes dropped by only "
                + (freeBefore - d.freeBytes()) + " after allocating " + bytes);
        b.close();
        b.close();
        expect(d.allocatedBytes() == before, "allocatedBytes is " + d.allocatedBytes() + " after close, expected " + before);
    }

    static void pageableRoundTrip(Device d) {
        for (long size : new long[] {1, 4097, 3L << 20}) {
            try (Arena arena = Arena.ofConfined(); DeviceBuffer b = d.allocate(size)) {
                MemorySegment src = random(arena, size, size);
                MemorySegment back = arena.allocate(size);
                d.copyToDevice(src, b, 0);
                d.copyToHost(b, 0, back);
                expect(src.mismatch(back) == -1, "round trip of " + size + " bytes differs at byte " + src.mismatch(back));
            }
        }
    }

    static void pinnedCopies(Device d) {
        long size = 5L << 20;
        d.transferStats().clear();
        try (Arena arena = Arena.ofConfined(); PinnedHostBuffer pinned = d.allocatePinned(size);
             DeviceBuffer b = d.allocate(size)) {
            expect(pinned.kind() == HostMemoryKind.PINNED, "allocatePinned gave kind " + pinned.kind());
            MemorySegment.copy(random(arena, size, 7), 0, pinned.segment(), 0, size);
            d.copyToDevice(pinned, 0, b, 0, size);
            pinned.segment().fill((byte) 0);
            d.copyToHost(b, 0, pinned, 0, size);
            expect(random(arena, size, 7).mismatch(pinned.segment()) == -1, "pinned round trip differs");
        }
        List<TransferRecord> records = d.transferStats().recent();
        expect(records.size() == 2, "expected 2 transfer records, got " + records.size());
        TransferRecord up = records.get(0);
        expect(up.direction() == CopyDirection.HOST_TO_DEVICE && up.hostKind() == HostMemoryKind.PINNED
                && up.bytes() == size && up.seconds() > 0, "first record should be a timed pinned H2D of " + size
                + " bytes: " + up);
        expect(records.get(1).direction() == CopyDirection.DEVICE_TO_HOST, "second record should be D2H: " + records.get(1));
        expect(d.transferStats().totalBytes(CopyDirection.HOST_TO_DEVICE) == size, "H2D total bytes wrong");
    }

    static void registeredCopies(Device d) {
        long size = 2L << 20;
        d.transferStats().clear();
        try (Arena arena = Arena.ofConfined(); DeviceBuffer b = d.allocate(size)) {
            MemorySegment memory = arena.allocate(size, 4096);
            MemorySegment.copy(random(arena, size, 11), 0, memory, 0, size);
            try (PinnedHostBuffer registered = d.register(memory, OptionalInt.of(0))) {
                expect(registered.kind() == HostMemoryKind.REGISTERED, "register gave kind " + registered.kind());
                d.copyToDevice(registered, 0, b, 0, size);
            }
            MemorySegment back = arena.allocate(size);
            d.copyToHost(b, 0, back);
            expect(memory.mismatch(back) == -1, "registered round trip differs");
        }
        TransferRecord up = d.transferStats().recent().get(0);
        expect(up.hostKind() == HostMemoryKind.REGISTERED && up.numaNode().equals(OptionalInt.of(0)),
                "registered copy should record kind REGISTERED and node 0: " + up);
    }

    static void asyncWithEvents(Device d) {
        long size = 8L << 20;
        d.transferStats().clear();
        try (Arena arena = Arena.ofConfined(); PinnedHostBuffer in = d.allocatePinned(size);
             PinnedHostBuffer out = d.allocatePinned(size); DeviceBuffer b = d.allocate(size);
             Stream upload = d.createStream(); Stream download = d.createStream()) {
            MemorySegment.copy(random(arena, size, 13), 0, in.segment(), 0, size);
            Event before = upload.record();
            upload.copyToDeviceAsync(in, 0, b, 0, size);
            Event uploaded = upload.record();
            download.waitFor(uploaded);
            download.copyToHostAsync(b, 0, out, 0, size);
            download.synchronize();
            upload.synchronize();
            expect(uploaded.isComplete(), "event not complete after synchronize");
            expect(uploaded.secondsSince(before) > 0, "event timing of an 8 MiB copy should be positive, got "
                    + uploaded.secondsSince(before));
            expect(in.segment().mismatch(out.segment()) == -1, "download did not see the upload");
            before.close();
            uploaded.close();
        }
        expect(d.transferStats().totalCopies(CopyDirection.HOST_TO_DEVICE) == 1
                && d.transferStats().totalCopies(CopyDirection.DEVICE_TO_HOST) == 1,
                "async copies should be recorded once each after synchronize: " + d.transferStats().aggregates());
        expect(d.transferStats().recent().stream().allMatch(TransferRecord::async), "async copies should be marked async");
    }

    static void slices(Device d) {
        try (Arena arena = Arena.ofConfined(); DeviceBuffer b = d.allocate(4096)) {
            MemorySegment zeros = arena.allocate(4096);
            d.copyToDevice(zeros, b, 0);
            DeviceBuffer middle = b.slice(1000, 100);
            expect(middle.size() == 100, "slice size " + middle.size());
            MemorySegment data = random(arena, 100, 17);
            d.copyToDevice(data, middle, 0);
            MemorySegment back = arena.allocate(4096);
            d.copyToHost(b, 0, back);
            expect(back.asSlice(1000, 100).mismatch(data) == -1, "slice data not at offset 1000");
            expect(back.asSlice(0, 1000).mismatch(zeros.asSlice(0, 1000)) == -1
                    && back.asSlice(1100).mismatch(zeros.asSlice(1100)) == -1, "slice copy touched bytes outside it");
            DeviceBuffer inner = middle.slice(10, 20);
            middle.close();
            expect(b.isOpen() && inner.isOpen(), "closing a slice must not free its parent");
            b.close();
            expect(!middle.isOpen() && !inner.isOpen(), "slices (and slices of slices) must close with their buffer");
            expectThrows(IllegalStateException.class, () -> b.slice(0, 1), "slicing a freed buffer");
            b.close();
        }
    }

    static void misuseIsRefused(Device d) {
        try (Arena arena = Arena.ofConfined()) {
            DeviceBuffer b = d.allocate(1024);
            MemorySegment host = arena.allocate(2048);
            expectThrows(IndexOutOfBoundsException.class, () -> d.copyToDevice(host, b, 0), "copy past the end");
            expectThrows(IndexOutOfBoundsException.class, () -> b.slice(1000, 100), "slice past the end");
            expectThrows(IllegalArgumentException.class, () -> d.copyToDevice(MemorySegment.ofArray(new byte[16]), b, 0),
                    "copy from a heap segment");
            b.close();
            expectThrows(IllegalStateException.class, () -> d.copyToDevice(host.asSlice(0, 16), b, 0), "use after free");
        }
    }

    static void rmsNorm(Device d) {
        int rows = 3;
        int dim = 1000;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment x = floats(arena, rows * dim, 1);
            MemorySegment w = floats(arena, dim, 2);
            MemorySegment expected = arena.allocate(rows * dim * 4L);
            CpuTwins.rmsNorm(x, w, expected, rows, dim, 1e-6f);
            try (DeviceBuffer dx = upload(d, x); DeviceBuffer dw = upload(d, w); DeviceBuffer dy = d.allocate(x.byteSize())) {
                DeviceKernels.rmsNorm(d.defaultStream(), dx, dw, dy, rows, dim, 1e-6f);
                closeFloats("rmsnorm", expected, download(d, dy, arena), 1e-5, 1e-5);
            }
        }
    }

    static void rope(Device d) {
        int tokens = 4;
        int heads = 3;
        int headDim = 64;
        int ropeDim = 48;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment x = floats(arena, tokens * heads * headDim, 3);
            MemorySegment pos = arena.allocate(tokens * 4L);
            for (int t = 0; t < tokens; t++) {
                pos.set(I32, t * 4L, 1000 * t + 7);
            }
            MemorySegment expected = arena.allocate(x.byteSize());
            MemorySegment.copy(x, 0, expected, 0, x.byteSize());
            CpuTwins.ropeNeox(expected, pos, tokens, heads, headDim, ropeDim, 1_000_000f, 1f);
            try (DeviceBuffer dx = upload(d, x); DeviceBuffer dp = upload(d, pos)) {
                DeviceKernels.ropeNeox(d.defaultStream(), dx, dp, tokens, heads, headDim, ropeDim, 1_000_000f, 1f);
                closeFloats("rope", expected, download(d, dx, arena), 2e-3, 2e-3);
            }
        }
    }

    static void attention(Device d, int tokens, int startPos) {
        int nHead = 8;
        int nHeadKv = 2;
        int headDim = 64;
        int positions = startPos + tokens;
        float scale = (float) (1 / Math.sqrt(headDim));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment q = floats(arena, tokens * nHead * headDim, 4);
            MemorySegment k = floats(arena, positions * nHeadKv * headDim, 5);
            MemorySegment v = floats(arena, positions * nHeadKv * headDim, 6);
            MemorySegment expected = arena.allocate(q.byteSize());
            CpuTwins.attention(q, k, v, expected, tokens, nHead, nHeadKv, headDim, startPos, scale);
            try (DeviceBuffer dq = upload(d, q); DeviceBuffer dk = upload(d, k); DeviceBuffer dv = upload(d, v);
                 DeviceBuffer out = d.allocate(q.byteSize())) {
                DeviceKernels.attention(d.defaultStream(), dq, dk, dv, out, tokens, nHead, nHeadKv, headDim, startPos, scale);
                closeFloats("attention", expected, download(d, out, arena), 1e-4, 1e-4);
            }
        }
    }

    static void swigluAndAdd(Device d) {
        int n = 3000;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = floats(arena, n, 7);
            MemorySegment b = floats(arena, n, 8);
            MemorySegment expected = arena.allocate(n * 4L);
            try (DeviceBuffer da = upload(d, a); DeviceBuffer db = upload(d, b); DeviceBuffer out = d.allocate(n * 4L)) {
                CpuTwins.swiglu(a, b, expected, n);
                DeviceKernels.swiglu(d.defaultStream(), da, db, out, n);
                closeFloats("swiglu", expected, download(d, out, arena), 1e-5, 1e-6);
                CpuTwins.add(a, b, expected, n);
                DeviceKernels.add(d.defaultStream(), da, db, out, n);
                closeFloats("add", expected, download(d, out, arena), 0, 0);
                CpuTwins.scale(a, expected, -1.5f, n);
                DeviceKernels.scale(d.defaultStream(), da, out, -1.5f, n);
                closeFloats("scale", expected, download(d, out, arena), 0, 0);
                CpuTwins.axpy(b, expected, 0.25f, n);
                DeviceKernels.axpy(d.defaultStream(), db, out, 0.25f, n);
                closeFloats("axpy", expected, download(d, out, arena), 0, 0);
            }
        }
    }

    static void routerTopK(Device d) {
        int tokens = 5;
        int experts = 128;
        int k = 8;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment logits = floats(arena, tokens * experts, 9);
            MemorySegment ids = arena.allocate(tokens * k * 4L);
            MemorySegment weights = arena.allocate(tokens * k * 4L);
            CpuTwins.routerTopK(logits, ids, weights, tokens, experts, k, true);
            try (DeviceBuffer dl = upload(d, logits); DeviceBuffer di = d.allocate(ids.byteSize());
                 DeviceBuffer dw = d.allocate(weights.byteSize())) {
                DeviceKernels.routerTopK(d.defaultStream(), dl, di, dw, tokens, experts, k, true);
                MemorySegment gotIds = download(d, di, arena);
                expect(gotIds.mismatch(ids) == -1, "router picked different experts: " + ints(gotIds) + " vs " + ints(ids));
                closeFloats("router weights", weights, download(d, dw, arena), 1e-5, 1e-6);
            }
        }
    }

    static void f32ToF16(Device d) {
        int n = 1000;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment x = floats(arena, n, 10);
            MemorySegment expected = arena.allocate(n * 2L);
            CpuTwins.f32ToF16(x, expected, n);
            try (DeviceBuffer dx = upload(d, x); DeviceBuffer dy = d.allocate(n * 2L)) {
                DeviceKernels.f32ToF16(d.defaultStream(), dx, dy, n);
                MemorySegment got = download(d, dy, arena);
                expect(got.mismatch(expected) == -1, "f32 to f16 differs at byte " + got.mismatch(expected));
            }
        }
    }

    static void gemm(Device d, GemmType type, int batch) {
        int m = 7;
        int n = 33;
        int k = 96;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment w = elements(arena, type, (long) batch * n * k, 11);
            MemorySegment x = elements(arena, type, (long) batch * m * k, 12);
            MemorySegment expected = arena.allocate((long) batch * m * n * 4);
            CpuTwins.gemm(type == GemmType.F16, w, x, expected, m, n, k, batch, (long) n * k, (long) m * k, (long) m * n,
                    1f, 0f);
            try (DeviceBuffer dw = upload(d, w); DeviceBuffer dx = upload(d, x);
                 DeviceBuffer out = d.allocate(expected.byteSize())) {
                GemmCall call = batch == 1 ? GemmCall.of(type, dw, dx, out, m, n, k)
                        : GemmCall.batched(type, dw, dx, out, m, n, k, batch, (long) n * k, (long) m * k, (long) m * n);
                d.gemm().run(d.defaultStream(), call);
                closeFloats("GEMM " + type + " (" + d.gemm().implementation() + ")", expected, download(d, out, arena),
                        1e-3, 1e-3);
            }
        }
    }

    static void dequant(Device d, QuantFormat format) {
        long values = 4L * 256;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment blocks = QuantSamples.blocks(arena, format, values / format.blockValues(), 21);
            MemorySegment expected = arena.allocate(values * 2);
            CpuTwins.dequantToF16(format, blocks, expected, values);
            try (DeviceBuffer db = upload(d, blocks); DeviceBuffer out = d.allocate(values * 2)) {
                DeviceKernels.dequantToF16(d.defaultStream(), format, db, out, values);
                MemorySegment got = download(d, out, arena);
                for (long i = 0; i < values; i++) {
                    float e = Float.float16ToFloat(expected.get(F16, i * 2));
                    float g = Float.float16ToFloat(got.get(F16, i * 2));
                    expect(Math.abs(e - g) <= 1e-3 * Math.abs(e) + 1e-7, "dequantize " + format + " value " + i
                            + ": expected " + e + ", got " + g);
                }
            }
        }
    }

    static void matvec(Device d, QuantFormat format) {
        int rows = 37;
        int cols = 512;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment w = QuantSamples.blocks(arena, format, (long) rows * cols / format.blockValues(), 22);
            MemorySegment x = floats(arena, cols, 23);
            MemorySegment expected = arena.allocate(rows * 4L);
            CpuTwins.matvec(format, w, x, expected, rows, cols);
            try (DeviceBuffer dw = upload(d, w); DeviceBuffer dx = upload(d, x); DeviceBuffer y = d.allocate(rows * 4L)) {
                DeviceKernels.matvec(d.defaultStream(), format, dw, dx, y, rows, cols);
                closeFloats("matvec " + format, expected, download(d, y, arena), 1e-3, 1e-3);
            }
        }
    }

    private static DeviceBuffer upload(Device d, MemorySegment host) {
        DeviceBuffer b = d.allocate(host.byteSize());
        d.copyToDevice(host, b, 0);
        return b;
    }

    private static MemorySegment download(Device d, DeviceBuffer b, Arena arena) {
        d.defaultStream().synchronize();
        MemorySegment host = arena.allocate(b.size());
        d.copyToHost(b, 0, host);
        return host;
    }

    private static MemorySegment random(Arena arena, long size, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        MemorySegment s = arena.allocate(size);
        for (long i = 0; i < size; i++) {
            s.set(ValueLayout.JAVA_BYTE, i, (byte) random.nextInt(256));
        }
        return s;
    }

    private static MemorySegment floats(Arena arena, int count, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        MemorySegment s = arena.allocate(count * 4L);
        for (long i = 0; i < count; i++) {
            s.set(F32, i * 4, (float) (random.nextDouble() * 2 - 1));
        }
        return s;
    }

    private static MemorySegment elements(Arena arena, GemmType type, long count, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        MemorySegment s = arena.allocate(count * type.bytes());
        for (long i = 0; i < count; i++) {
            float v = (float) (random.nextDouble() * 2 - 1);
            if (type == GemmType.F16) {
                s.set(F16, i * 2, Float.floatToFloat16(v));
            } else {
                s.set(F32, i * 4, v);
            }
        }
        return s;
    }

    private static String ints(MemorySegment s) {
        StringBuilder sb = new StringBuilder("[");
        for (long i = 0; i < s.byteSize() / 4; i++) {
            sb.append(i == 0 ? "" : ",").append(s.get(I32, i * 4));
        }
        return sb.append(']').toString();
    }

    private static void closeFloats(String what, MemorySegment expected, MemorySegment got, double relative, double absolute) {
        for (long i = 0; i < expected.byteSize() / 4; i++) {
            float e = expected.get(F32, i * 4);
            float g = got.get(F32, i * 4);
            if (!(Math.abs(e - g) <= relative * Math.abs(e) + absolute)) {
                throw new ContractFailure(what + ": value " + i + " expected " + e + ", got " + g);
            }
        }
    }

    private static void expect(boolean condition, String message) {
        if (!condition) {
            throw new ContractFailure(message);
        }
    }

    private static void expectThrows(Class<? extends RuntimeException> type, Runnable action, String what) {
        try {
            action.run();
        } catch (RuntimeException e) {
            if (type.isInstance(e)) {
                return;
            }
            throw new ContractFailure(what + " threw " + e.getClass().getSimpleName() + " instead of " + type.getSimpleName()
                    + ": " + e.getMessage());
        }
        throw new ContractFailure(what + " was accepted; expected " + type.getSimpleName());
    }
}
