package dev.ferry.moe.offload;

import java.util.Locale;
import java.util.Objects;

/**
 * Measured rates the offload decision uses, and how they were obtained ({@code provenance}: says
 * which figures were measured, modelled by the simulated device, or assumed).
 *
 * @param cpuBytesPerSecond    rate the CPU streams expert weights (a matvec over them)
 * @param cpuFlopsPerSecond    rate of the CPU's batched expert products
 * @param uploadBytesPerSecond host-to-device rate of expert uploads from the cache's sources
 * @param gpuFlopsPerSecond    rate of the GPU's F16 GEMMs
 * @param gpuFixedSeconds      fixed cost of running one layer's experts on the GPU (launches, sync)
 */
public record OffloadCosts(double cpuBytesPerSecond, double cpuFlopsPerSecond, double uploadBytesPerSecond,
                           double gpuFlopsPerSecond, double gpuFixedSeconds, String provenance) {

    public OffloadCosts {
        Objects.requireNonNull(provenance, "provenance");
        positive("CPU bytes per second", cpuBytesPerSecond);
        positive("CPU flops per second", cpuFlopsPerSecond);
        positive("upload bytes per second", uploadBytesPerSecond);
        positive("GPU flops per second", gpuFlopsPerSecond);
        if (!(gpuFixedSeconds >= 0) || Double.isInfinite(gpuFixedSeconds)) {
            throw new IllegalArgumentException("GPU fixed seconds must be finite and >= 0, got " + gpuFixedSeconds);
        }
    }

    /** Rates given directly (a test, a flag): provenance "given". */
    public OffloadCosts(double cpuBytesPerSecond, double cpuFlopsPerSecond, double uploadBytesPerSecond,
                        double gpuFlopsPerSecond, double gpuFixedSeconds) {
        this(cpuBytesPerSecond, cpuFlopsPerSecond, uploadBytesPerSecond, gpuFlopsPerSecond, gpuFixedSeconds, "given");
    }

    /**
     * On the CPU each routed expert's weights are streamed once per batch while its tokens are
     * multiplied, so the slower of the two bounds the time.
     */
    public double cpuSeconds(ExpertWork w) {
        return Math.max(w.routedBytes() / cpuBytesPerSecond, w.flops() / cpuFlopsPerSecond);
    }

    /**
     * On the GPU the routed experts must be uploaded; uploads overlap compute (double buffering),
     * so the slower of upload and GEMM, plus the fixed launch overhead.
     */
    public double gpuSeconds(ExpertWork w) {
        return Math.max(w.routedBytes() / uploadBytesPerSecond, w.flops() / gpuFlopsPerSecond) + gpuFixedSeconds;
    }

    /** This model with another upload rate (e.g. a what-if for pageable versus pinned sources). */
    public OffloadCosts withUploadBytesPerSecond(double rate) {
        return new OffloadCosts(cpuBytesPerSecond, cpuFlopsPerSecond, rate, gpuFlopsPerSecond, gpuFixedSeconds, provenance);
    }

    public String describe() {
        return String.format(Locale.ROOT, "offload costs: CPU %.2f GB/s of weights, %.1f GFLOP/s; upload %.2f GB/s; "
                        + "GPU %.1f TFLOP/s + %.0f us per layer (%s)",
                cpuBytesPerSecond / 1e9, cpuFlopsPerSecond / 1e9, uploadBytesPerSecond / 1e9, gpuFlopsPerSecond / 1e12,
                gpuFixedSeconds * 1e6, provenance);
    }

    private static void positive(String what, double value) {
        if (!(value > 0) || Double.isInfinite(value)) {
            throw new IllegalArgumentException(what + " must be positive and finite, got " + value);
        }
    }
}
