package dev.ferry.cuda.pcie;

import dev.ferry.cuda.CopyDirection;
import dev.ferry.cuda.Device;
import dev.ferry.cuda.DeviceBuffer;
import dev.ferry.cuda.PinnedHostBuffer;
import dev.ferry.cuda.TransferRecord;
import dev.ferry.cuda.TransferStats;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;

/**
 * Measures copy bandwidth between host memory and a device (or, without a GPU, the host-side
 * staging copy a pageable transfer costs) for each source kind, NUMA node, alignment, chunk
 * size and direction. Every cell is timed {@code reps} times after one warm-up copy; device copies
 * on the device clock (CUDA events, or the simulated link), with the host-side call time beside it.
 */
public final class PcieBenchmark {

    /** A source start address: aligned to {@code alignment} (and not to the next larger one), plus {@code extra} bytes. */
    public record Alignment(String label, long alignment, long notAlignedTo, long extra) {
    }

    public static final List<Alignment> ALIGNMENTS = List.of(
            new Alignment("4 KiB", 4096, 65536, 0),
            new Alignment("64 KiB", 65536, 2L << 20, 0),
            new Alignment("2 MiB", 2L << 20, 0, 0),
            new Alignment("2 MiB + 32 B", 2L << 20, 0, 32));

    private static final long SLACK = 4L << 20;
    /** Untimed copies each way before the first cell (see {@link #warmUp}). */
    private static final int WARM_UP_COPIES = 200;

    private record Source(String label, PinnedHostBuffer buffer, OptionalInt node) {
    }

    private PcieBenchmark() {
    }

    /** Offset into memory at {@code address} where a chunk with {@code a}'s alignment starts. */
    public static long offsetFor(long address, Alignment a) {
        long off = Math.floorMod(-address, a.alignment());
        if (a.notAlignedTo() > 0 && (address + off) % a.notAlignedTo() == 0) {
            off += a.alignment();
        }
        return off + a.extra();
    }

    /** Copies between host sources and {@code device}; simulated devices report their modelled times. */
    public static PcieReport runOnDevice(Device device, Optional<PcieLink> link, HostPlacement placement,
                                         PcieOptions options) {
        long start = System.nanoTime();
        boolean simulated = device.info().simulated();
        long region = options.maxSize() + SLACK;
        List<PcieResult> results = new ArrayList<>();
        Path file = null;
        try (Arena arena = Arena.ofShared(); DeviceBuffer target = device.allocate(options.maxSize())) {
            List<Source> sources = new ArrayList<>();
            try (PinnedHostBuffer pinned = device.allocatePinned(region)) {
                pinned.segment().fill((byte) 1);
                sources.add(new Source("pinned (cuMemHostAlloc)", pinned, OptionalInt.empty()));
                file = Files.createTempFile(options.fileDir(), "ferry-pcie-", ".bin");
                sources.add(new Source("pageable file-mapped", PinnedHostBuffer.pageable(mapFile(file, region, arena),
                        OptionalInt.empty()), OptionalInt.empty()));
                List<PinnedHostBuffer> registered = new ArrayList<>();
                try {
                    for (OptionalInt node : placement.nodes()) {
                        MemorySegment anon = placement.allocate(node, region, 2L << 20, arena);
                        sources.add(new Source("pageable", PinnedHostBuffer.pageable(anon, node), node));
                        MemorySegment toRegister = placement.allocate(node, region, 2L << 20, arena);
                        PinnedHostBuffer r = device.register(toRegister, node);
                        registered.add(r);
                        sources.add(new Source("registered (cuMemHostRegister)", r, node));
                    }
                    warmUp(device, pinned, target, Math.min(1L << 20, options.sizes().stream().min(Long::compare).orElseThrow()));
                    for (Source s : sources) {
                        measureDevice(device, s, target, link, simulated, options, results);
                    }
                } finally {
                    registered.forEach(PinnedHostBuffer::close);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("ferry pcie: cannot create the file-mapped source in " + options.fileDir(), e);
        } finally {
            deleteQuietly(file);
        }
        String status = simulated ? device.info().description() + ": every GB/s below is simulated, not measured"
                : "GPU: " + device.info().description();
        return new PcieReport(status, !simulated, simulated, simulated ? Optional.empty() : link, placement.describe(),
                options.reps(), (System.nanoTime() - start) / 1e9, results);
    }

    /** Without a GPU: memcpy of each chunk from its source into a staging buffer and back. */
    public static PcieReport runHostOnly(String noGpuReason, Optional<PcieLink> link, HostPlacement placement,
                                         PcieOptions options) {
        long start = System.nanoTime();
        long region = options.maxSize() + SLACK;
        List<PcieResult> results = new ArrayList<>();
        Path file = null;
        try (Arena arena = Arena.ofShared()) {
            file = Files.createTempFile(options.fileDir(), "ferry-pcie-", ".bin");
            MemorySegment mapped = mapFile(file, region, arena);
            boolean first = true;
            for (OptionalInt node : placement.nodes()) {
                MemorySegment staging = placement.allocate(node, options.maxSize(), 2L << 20, arena);
                MemorySegment anon = placement.allocate(node, region, 2L << 20, arena);
                measureHost(new Source("pageable", PinnedHostBuffer.pageable(anon, node), node), staging, options, results);
                if (first) {
                    measureHost(new Source("pageable file-mapped", PinnedHostBuffer.pageable(mapped, OptionalInt.empty()),
                            OptionalInt.empty()), staging, options, results);
                    first = false;
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("ferry pcie: cannot create the file-mapped source in " + options.fileDir(), e);
        } finally {
            deleteQuietly(file);
        }
        String status = noGpuReason + "; measuring host-side staging copies only";
        return new PcieReport(status, false, false, link, placement.describe()
                + "; staging buffer: 2 MiB-aligned anonymous memory standing in for the driver's pinned buffer",
                options.reps(), (System.nanoTime() - start) / 1e9, results);
    }

    private static void measureDevice(Device device, Source s, DeviceBuffer target, Optional<PcieLink> link,
                                      boolean simulated, PcieOptions options, List<PcieResult> results) {
        for (Alignment a : ALIGNMENTS) {
            long off = offsetFor(s.buffer().segment().address(), a);
            for (long size : options.sizes()) {
                for (String direction : List.of("H2D", "D2H")) {
                    double[] gbps = new double[options.reps()];
                    double[] hostCall = new double[options.reps()];
                    CopyDirection dir = direction.equals("H2D") ? CopyDirection.HOST_TO_DEVICE : CopyDirection.DEVICE_TO_HOST;
                    for (int r = -1; r < options.reps(); r++) {
                        long copiesBefore = device.transferStats().totalCopies(dir);
                        long t0 = System.nanoTime();
                        if (direction.equals("H2D")) {
                            device.copyToDevice(s.buffer(), off, target, 0, size);
                        } else {
                            device.copyToHost(target, 0, s.buffer(), off, size);
                        }
                        double wall = Math.max((System.nanoTime() - t0) / 1e9, 1e-9);
                        if (r >= 0) {
                            // the device clock (CUDA events, or the simulated link's model) times the transfer
                            // itself; a copy shorter than the events' resolution reads 0 and takes the host time
                            double onDevice = deviceSeconds(device, dir, size, copiesBefore);
                            gbps[r] = size / (onDevice > 0 ? onDevice : wall) / 1e9;
                            hostCall[r] = size / wall / 1e9;
                        }
                    }
                    results.add(result(s, a, size, direction, gbps, simulated ? Optional.empty() : link,
                            simulated ? OptionalDouble.empty() : OptionalDouble.of(median(hostCall))));
                }
            }
        }
    }

    /**
     * Copies back and forth before the first timed cell, so the copy path is compiled and the link
     * awake: on an H200 the first cells of a run (small pinned copies) came out at half the rate of
     * the same size measured later.
     */
    private static void warmUp(Device device, PinnedHostBuffer host, DeviceBuffer target, long size) {
        for (int i = 0; i < WARM_UP_COPIES; i++) {
            device.copyToDevice(host, 0, target, 0, size);
            device.copyToHost(target, 0, host, 0, size);
        }
    }

    private static void measureHost(Source s, MemorySegment staging, PcieOptions options, List<PcieResult> results) {
        MemorySegment src = s.buffer().segment();
        for (Alignment a : ALIGNMENTS) {
            long off = offsetFor(src.address(), a);
            for (long size : options.sizes()) {
                for (String direction : List.of("H2D staging", "D2H staging")) {
                    double[] gbps = new double[options.reps()];
                    for (int r = -1; r < options.reps(); r++) {
                        long t0 = System.nanoTime();
                        if (direction.startsWith("H2D")) {
                            MemorySegment.copy(src, off, staging, 0, size);
                        } else {
                            MemorySegment.copy(staging, 0, src, off, size);
                        }
                        double seconds = Math.max((System.nanoTime() - t0) / 1e9, 1e-9);
                        if (r >= 0) {
                            gbps[r] = size / seconds / 1e9;
                        }
                    }
                    results.add(result(s, a, size, direction, gbps, Optional.empty(), OptionalDouble.empty()));
                }
            }
        }
    }

    /**
     * The device-clock seconds of the copy just made, or 0 when the device filed no record of it
     * (then the caller uses the host time).
     */
    private static double deviceSeconds(Device device, CopyDirection direction, long bytes, long copiesBefore) {
        TransferStats stats = device.transferStats();
        if (stats.totalCopies(direction) != copiesBefore + 1) {
            return 0;
        }
        List<TransferRecord> recent = stats.recent();
        if (recent.isEmpty()) {
            return 0;
        }
        TransferRecord last = recent.get(recent.size() - 1);
        return last.direction() == direction && last.bytes() == bytes ? last.seconds() : 0;
    }

    private static PcieResult result(Source s, Alignment a, long size, String direction, double[] gbps,
                                     Optional<PcieLink> link, OptionalDouble hostCall) {
        double[] sorted = gbps.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        double median = medianOfSorted(sorted);
        OptionalDouble percent = link.isPresent() && link.get().theoreticalGBps() > 0
                ? OptionalDouble.of(100 * median / link.get().theoreticalGBps()) : OptionalDouble.empty();
        return new PcieResult(s.node(), s.label(), a.label(), size, direction, median, sorted[0], sorted[n - 1], n, percent,
                hostCall);
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return medianOfSorted(sorted);
    }

    private static double medianOfSorted(double[] sorted) {
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    private static MemorySegment mapFile(Path file, long size, Arena arena) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            MemorySegment mapped = channel.map(FileChannel.MapMode.READ_WRITE, 0, size, arena);
            mapped.fill((byte) 1);
            return mapped;
        }
    }

    private static void deleteQuietly(Path file) {
        if (file != null) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException e) {
                // a leftover temp file is harmless; the report is what matters
            }
        }
    }
}
