package dev.ferry.moe.offload;

import dev.ferry.cuda.Device;
import dev.ferry.cuda.DeviceBuffer;
import dev.ferry.cuda.DeviceException;
import dev.ferry.cuda.Event;
import dev.ferry.cuda.GemmCall;
import dev.ferry.cuda.GemmType;
import dev.ferry.cuda.PinnedHostBuffer;
import dev.ferry.cuda.Stream;
import dev.ferry.hostmemory.ByteSizes;
import dev.ferry.hostmemory.WorkerPool;
import dev.ferry.moe.kernel.ExpertBatch;
import dev.ferry.moe.kernel.ExpertWeights;
import dev.ferry.moe.kernel.MatMul;
import dev.ferry.moe.kernel.Precision;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeSet;

/**
 * Measures {@link OffloadCosts} on this machine at load time, on one layer's real expert
 * tensors (a few hundred ms at most on a small model). The upload copies it makes show up in
 * the device's transfer statistics.
 */
public final class OffloadCalibration {

    /**
     * F16 GEMM rate assumed where the device models no kernel time (the simulated device): 100
     * TFLOP/s, a conservative dense F16 figure for a current data-centre GPU.
     */
    public static final double ASSUMED_GPU_FLOPS_PER_SECOND = 100e12;
    /** Per-layer fixed GPU cost assumed on the simulated device: three expert GEMM launches and their sync, 50 us. */
    public static final double ASSUMED_GPU_FIXED_SECONDS = 50e-6;
    /** Tokens of the batched CPU product (enough to make it compute-bound). */
    static final int BATCH_TOKENS = 32;
    /** Experts every batch token is routed to in the batched CPU product. */
    static final int BATCH_EXPERTS = 4;
    /** Most expert bytes one CPU timing pass reads. */
    static final long CPU_PASS_BYTES = 32 * ByteSizes.MIB;
    /** Most bytes the upload timing copies. */
    static final long UPLOAD_BYTES = 256 * ByteSizes.MIB;
    /** Shortest time one CPU rate is measured for. */
    private static final double MIN_SECONDS = 0.02;
    /** Longest time one CPU rate is measured for (two of them per calibration). */
    private static final double MAX_SECONDS = 0.25;
    /** Runs without a 2% improvement after which a timing counts as settled. */
    private static final int SETTLE_RUNS = 8;
    private static final int GEMM_M = 1024;
    private static final int GEMM_NK = 4096;
    private static final int TINY_NK = 256;
    private static final int GEMM_RUNS = 5;

    private OffloadCalibration() {
    }

    /**
     * CPU rates: {@link MatMul} matvecs (weight streaming) and a small batch via
     * {@code matmulExperts} (flops) on {@code layerTensors} with {@code pool} and
     * {@code precision}; upload rate: event-timed uploads of the layer's experts on a copy
     * stream from the sources {@code cache} hands out (pinned, registered, staged or pageable;
     * modelled by the simulated device's link); GPU rate: a timed F16 GEMM on the device, or on
     * the simulated device {@link #ASSUMED_GPU_FLOPS_PER_SECOND}, marked "assumed".
     *
     * <p>{@link HostExpertTensor} carries no matrix shape, so each expert's bytes are viewed as
     * the most nearly square matrix of whole blocks with the same parameter count: the same
     * bytes and flops as the real shape, which is what the rates are about.
     */
    public static OffloadCosts measure(Device device, PinnedExpertCache cache, List<HostExpertTensor> layerTensors,
                                       WorkerPool pool, Precision precision) {
        Objects.requireNonNull(device, "device");
        Objects.requireNonNull(cache, "cache");
        Objects.requireNonNull(pool, "pool");
        Objects.requireNonNull(precision, "precision");
        if (layerTensors == null || layerTensors.isEmpty()) {
            throw new IllegalArgumentException("offload calibration needs one layer's expert tensors, got none");
        }
        if (layerTensors.stream().map(HostExpertTensor::layer).distinct().count() != 1) {
            throw new IllegalArgumentException("offload calibration takes the tensors of one layer, got layers "
                    + new TreeSet<>(layerTensors.stream().map(HostExpertTensor::layer).toList()));
        }
        CpuRates cpu = cpuRates(layerTensors, pool, precision);
        Upload upload = uploadRate(device, cache, layerTensors);
        Gpu gpu = gpuRate(device);
        String provenance = String.format(Locale.ROOT, "CPU measured with %d workers, %s activations%s; upload measured over "
                        + "%s from %s sources%s; %s", pool.size(), precision.name().toLowerCase(Locale.ROOT),
                cpu.settled() ? "" : String.format(Locale.ROOT, " (timings not settled within %.2f s, a cold JIT: CPU rates "
                        + "are low)", MAX_SECONDS),
                ByteSizes.format(upload.bytes()), upload.kinds(),
                device.info().simulated() ? " (times modelled by the simulated link)" : "", gpu.provenance());
        return new OffloadCosts(cpu.bytesPerSecond(), cpu.flopsPerSecond(), upload.bytesPerSecond(), gpu.flopsPerSecond(), gpu.fixedSeconds(), provenance);
    }

    /** {rows, cols} of the most nearly square matrix of whole blocks holding one expert of {@code t}. */
    static long[] matrixShape(HostExpertTensor t) {
        long blockSize = t.type().blockSize();
        long blocks = t.paramsPerExpert() / blockSize;
        long bestBlocksPerRow = blocks;
        double bestSkew = Double.MAX_VALUE;
        for (long c = 1; c <= blocks; c++) {
            if (blocks % c == 0) {
                double skew = Math.abs(Math.log((double) (c * blockSize) / (blocks / c)));
                if (skew < bestSkew) {
                    bestSkew = skew;
                    bestBlocksPerRow = c;
                }
            }
        }
        return new long[] {blocks / bestBlocksPerRow, bestBlocksPerRow * blockSize};
    }

    private record CpuRates(double bytesPerSecond, double flopsPerSecond, boolean settled) {
    }

    private static CpuRates cpuRates(List<HostExpertTensor> tensors, WorkerPool pool, Precision precision) {
        List<ExpertWeights> weights = new ArrayList<>();
        long maxCols = 1;
        long maxRows = 1;
        long bytesPerExpert = 0;
        long paramsPerExpert = 0;
        for (HostExpertTensor t : tensors) {
            long[] shape = matrixShape(t);
            weights.add(new ExpertWeights(t.type(), t.data(), t.experts(), shape[0], shape[1]));
            maxRows = Math.max(maxRows, shape[0]);
            maxCols = Math.max(maxCols, shape[1]);
            bytesPerExpert += t.expertBytes();
            paramsPerExpert += t.paramsPerExpert();
        }
        int experts = tensors.get(0).experts();
        int passExperts = (int) Math.max(1, Math.min(experts, CPU_PASS_BYTES / bytesPerExpert));
        int routed = Math.min(BATCH_EXPERTS, experts);
        int pairs = BATCH_TOKENS * routed;
        try (Arena arena = Arena.ofShared();
             MatMul matMul = new MatMul(pool, maxCols, BATCH_TOKENS, precision)) {
            MemorySegment x = arena.allocate(4 * maxCols * BATCH_TOKENS, 64);
            for (long i = 0; i < maxCols * BATCH_TOKENS; i++) {
                x.setAtIndex(ValueLayout.JAVA_FLOAT, i, ((i * 7919) % 17 - 8) * 0.0625f);
            }
            MemorySegment y = arena.allocate(4 * maxRows * pairs, 64);
            Timing matvec = bestSeconds(() -> {
                for (int e = 0; e < passExperts; e++) {
                    for (ExpertWeights w : weights) {
                        matMul.matmul(w.expert(e), x, w.cols(), 1, y, w.rows());
                    }
                }
            });
            ExpertBatch batch = new ExpertBatch(experts, pairs);
            for (int t = 0; t < BATCH_TOKENS; t++) {
                for (int j = 0; j < routed; j++) {
                    batch.add(j, t, t * routed + j);
                }
            }
            Timing batched = bestSeconds(() -> {
                for (ExpertWeights w : weights) {
                    matMul.matmulExperts(w, x, w.cols(), batch, y, w.rows());
                }
            });
            return new CpuRates((double) passExperts * bytesPerExpert / matvec.seconds(),
                    2.0 * pairs * paramsPerExpert / batched.seconds(), matvec.settled() && batched.settled());
        }
    }

    /**
     * Best wall time of {@code pass}. On a cold JVM the first passes run interpreted (the Vector
     * API 100x slower), so passes repeat until the best has not improved by 2% for
     * {@link #SETTLE_RUNS} runs, or the time budget is spent: on a cold JVM the rates may then
     * still be low, which errs towards offloading.
     */
    private record Timing(double seconds, boolean settled) {
    }

    private static Timing bestSeconds(Runnable pass) {
        double best = Double.MAX_VALUE;
        int sinceImprovement = 0;
        long start = System.nanoTime();
        while (true) {
            long t0 = System.nanoTime();
            pass.run();
            long t1 = System.nanoTime();
            double seconds = Math.max(1e-9, (t1 - t0) / 1e9);
            sinceImprovement = seconds < best * 0.98 ? 0 : sinceImprovement + 1;
            best = Math.min(best, seconds);
            double elapsed = (t1 - start) / 1e9;
            if (sinceImprovement >= SETTLE_RUNS && elapsed >= MIN_SECONDS) {
                return new Timing(best, true);
            }
            if (elapsed >= MAX_SECONDS) {
                return new Timing(best, false);
            }
        }
    }

    private record Upload(double bytesPerSecond, long bytes, String kinds) {
    }

    /**
     * Event-timed copies of the layer's experts from the cache's sources. Staged misses also
     * cost a host copy; with double buffering that overlaps the uploads, so the slower of the
     * two totals sets the rate.
     */
    private static Upload uploadRate(Device device, PinnedExpertCache cache, List<HostExpertTensor> tensors) {
        int layer = tensors.get(0).layer();
        int experts = tensors.get(0).experts();
        long maxSlice = tensors.stream().mapToLong(HostExpertTensor::expertBytes).max().orElseThrow();
        long bytesPerExpert = tensors.stream().mapToLong(HostExpertTensor::expertBytes).sum();
        int count = (int) Math.max(1, Math.min(experts, UPLOAD_BYTES / bytesPerExpert));
        TreeSet<String> kinds = new TreeSet<>();
        try (Stream stream = device.createStream();
             DeviceBuffer target = device.allocate(maxSlice);
             PinnedHostBuffer staging = cache.stagesMisses() ? device.allocatePinned(maxSlice) : null) {
            UploadSource warm = source(cache, layer, tensors.get(0), 0, Optional.ofNullable(staging));
            stream.copyToDeviceAsync(warm.buffer(), warm.offset(), target, 0, warm.bytes());
            stream.synchronize();
            double deviceSeconds = 0;
            double stagingSeconds = 0;
            long bytes = 0;
            for (int e = 0; e < count; e++) {
                for (HostExpertTensor t : tensors) {
                    Optional<UploadSource> pinned = cache.pinned(layer, t.projection(), e);
                    UploadSource src;
                    if (pinned.isPresent()) {
                        src = pinned.get();
                        kinds.add(src.kind().label());
                    } else if (staging != null) {
                        long s0 = System.nanoTime();
                        src = cache.stage(layer, t.projection(), e, staging, 0);
                        stagingSeconds += (System.nanoTime() - s0) / 1e9;
                        kinds.add("staged");
                    } else {
                        src = cache.pageable(layer, t.projection(), e);
                        kinds.add(src.kind().label());
                    }
                    try (Event before = stream.record()) {
                        stream.copyToDeviceAsync(src.buffer(), src.offset(), target, 0, src.bytes());
                        try (Event after = stream.record()) {
                            after.synchronize();
                            deviceSeconds += after.secondsSince(before);
                        }
                    }
                    bytes += src.bytes();
                }
            }
            stream.synchronize();
            double seconds = Math.max(Math.max(deviceSeconds, stagingSeconds), 1e-9);
            return new Upload(bytes / seconds, bytes, String.join("+", kinds));
        }
    }

    /** Where an uncached expert uploads from: staged into {@code staging} when the cache stages misses, else pageable. */
    private static UploadSource source(PinnedExpertCache cache, int layer, HostExpertTensor t, int expert,
                                       Optional<PinnedHostBuffer> staging) {
        Optional<UploadSource> pinned = cache.pinned(layer, t.projection(), expert);
        if (pinned.isPresent()) {
            return pinned.get();
        }
        return staging.isPresent() ? cache.stage(layer, t.projection(), expert, staging.get(), 0)
                : cache.pageable(layer, t.projection(), expert);
    }

    private record Gpu(double flopsPerSecond, double fixedSeconds, String provenance) {
    }

    private static Gpu gpuRate(Device device) {
        if (device.info().simulated()) {
            return assumed("the simulated device models no kernel time");
        }
        try {
            double big = bestGemmSeconds(device, GEMM_M, GEMM_NK);
            double tiny = bestGemmSeconds(device, 1, TINY_NK);
            double flops = 2.0 * GEMM_M * GEMM_NK * GEMM_NK / big;
            return new Gpu(flops, 3 * tiny, String.format(Locale.ROOT, "GPU rate measured with a %dx%dx%d F16 GEMM (%s), "
                    + "fixed cost = 3 tiny GEMMs", GEMM_M, GEMM_NK, GEMM_NK, device.gemm().implementation()));
        } catch (DeviceException | UnsupportedOperationException e) {
            return assumed("the GEMM could not be timed: " + e.getMessage());
        }
    }

    private static Gpu assumed(String why) {
        return new Gpu(ASSUMED_GPU_FLOPS_PER_SECOND, ASSUMED_GPU_FIXED_SECONDS, String.format(Locale.ROOT,
                "GPU rate assumed %.0f TFLOP/s and %.0f us per layer (%s)", ASSUMED_GPU_FLOPS_PER_SECOND / 1e12,
                ASSUMED_GPU_FIXED_SECONDS * 1e6, why));
    }

    /** Best event-timed seconds of an {@code m x nk x nk} F16 GEMM on zeroed operands. */
    private static double bestGemmSeconds(Device device, int m, int nk) {
        long weightBytes = 2L * nk * nk;
        long inputBytes = 2L * m * nk;
        // shared, not confined: see LinuxSystemCalls (one session kind through the JDK's access code)
        try (Arena arena = Arena.ofShared();
             Stream stream = device.createStream();
             DeviceBuffer weights = device.allocate(weightBytes);
             DeviceBuffer input = device.allocate(inputBytes);
             DeviceBuffer output = device.allocate(4L * m * nk)) {
            MemorySegment zeros = arena.allocate(weightBytes, 64);
            device.copyToDevice(zeros, weights, 0);
            device.copyToDevice(zeros.asSlice(0, inputBytes), input, 0);
            GemmCall call = GemmCall.of(GemmType.F16, weights, input, output, m, nk, nk);
            device.gemm().run(stream, call);
            stream.synchronize();
            double best = Double.MAX_VALUE;
            for (int run = 0; run < GEMM_RUNS; run++) {
                try (Event before = stream.record()) {
                    device.gemm().run(stream, call);
                    try (Event after = stream.record()) {
                        after.synchronize();
                        best = Math.min(best, after.secondsSince(before));
                    }
                }
            }
            return Math.max(best, 1e-9);
        }
    }
}
