package dev.ferry.cli;

import dev.ferry.cuda.DeviceChoice;
import dev.ferry.cuda.DeviceOptions;
import dev.ferry.cuda.sim.SimulatedLink;
import dev.ferry.moe.plan.PinnedCache;
import dev.ferry.moe.plan.PlanOptions;
import dev.ferry.moe.plan.TensorOverrides;
import dev.ferry.moe.runtime.DeviceRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import picocli.CommandLine.Option;

/**
 * The GPU flags shared by {@code run}, {@code logits}, {@code bench} and {@code inspect}, named as
 * in llama.cpp ({@code -ngl -ot --cpu-moe --n-cpu-moe}) and ik_llama.cpp ({@code --offload-batch-size},
 * {@code --no-op-offload}), plus ferry's pinned expert cache and device choice.
 */
public final class GpuOptions {

    @Option(names = "--device", paramLabel = "auto|cuda|sim",
            description = "Where GPU layers run: auto (a real GPU if there is one, else the CPU only), cuda, or sim (the simulated "
                    + "device: real results computed on the CPU, PCIe transfers modelled). Default: auto.")
    String device;

    @Option(names = {"-ngl", "--gpu-layers", "--n-gpu-layers"}, paramLabel = "N",
            description = "Repeating layers on the GPU, counted from the last (llama.cpp: layers i >= n_layer - N); N > n_layer "
                    + "also puts the output layer there; 'all' = every layer and the output. token_embd always stays on the CPU. "
                    + "Default: all when there is a GPU (as recent llama.cpp), 0 without one.")
    String gpuLayers;

    @Option(names = {"-ot", "--override-tensor"}, paramLabel = "REGEX=BUFFER",
            description = "Put tensors whose name matches REGEX (a search, as llama.cpp) on BUFFER: CPU or CUDA0. Repeatable and "
                    + "comma-separated; the first matching rule wins; -ot rules come before --cpu-moe / --n-cpu-moe.")
    List<String> overrides = new ArrayList<>();

    @Option(names = {"-cmoe", "--cpu-moe"}, description = "Keep all routed-expert tensors (*_exps) on the CPU.")
    boolean cpuMoe;

    @Option(names = {"-ncmoe", "--n-cpu-moe"}, paramLabel = "N", description = "Keep the routed experts of the first N layers on the CPU.")
    Integer nCpuMoe;

    @Option(names = "--pinned-expert-cache",
            description = "At load time, make a pinned (cuMemHostAlloc), 64 KiB-aligned copy of every host *_exps tensor on the GPU's "
                    + "NUMA node, so prefill uploads run at DMA speed.")
    boolean pinnedExpertCache;

    @Option(names = "--pin-in-place", description = "Pin the expert buffers where they are (cuMemHostRegister) instead of copying: no extra RAM.")
    boolean pinInPlace;

    @Option(names = "--pinned-cache-size", paramLabel = "SIZE",
            description = "Pin at most SIZE of experts (e.g. 8G, 512M; powers of 1024), preferring the experts the router picks most; "
                    + "the rest streams through a small pinned staging area.")
    String pinnedCacheSize;

    @Option(names = "--offload-batch-size", paramLabel = "N",
            description = "Offload host experts to the GPU for micro-batches of N tokens or more (ik_llama.cpp's knob). "
                    + "Default: decide per layer and batch from measured CPU and PCIe speed.")
    Integer offloadBatchSize;

    @Option(names = "--no-op-offload", description = "Never upload host experts: they always run on the CPU.")
    boolean noOpOffload;

    @Option(names = "--sim-pcie-gbps", paramLabel = "GB/s", description = "The simulated device's link rate for pinned sources (default 25).")
    Double simPinnedGbps;

    @Option(names = "--sim-pageable-gbps", paramLabel = "GB/s", description = "The simulated device's link rate for pageable sources (default 6).")
    Double simPageableGbps;

    /** True when any flag was given. */
    boolean any() {
        return device != null || gpuLayers != null || !overrides.isEmpty() || cpuMoe || nCpuMoe != null || pinnedExpertCache
                || pinInPlace || pinnedCacheSize != null || offloadBatchSize != null || noOpOffload || simPinnedGbps != null
                || simPageableGbps != null;
    }

    DeviceChoice choice() {
        return DeviceChoice.parse(device == null ? "auto" : device);
    }

    /** The simulated device's settings from {@code --sim-pcie-gbps} / {@code --sim-pageable-gbps}. */
    DeviceOptions deviceOptions() {
        SimulatedLink link = SimulatedLink.pcie4x16();
        if (simPinnedGbps != null) {
            link = link.withPinnedGBps(positive("--sim-pcie-gbps", simPinnedGbps));
        }
        if (simPageableGbps != null) {
            link = link.withPageableGBps(positive("--sim-pageable-gbps", simPageableGbps));
        }
        return DeviceOptions.defaults().withSimulatedLink(link);
    }

    TensorOverrides rules() {
        TensorOverrides rules = TensorOverrides.parse("-ot/--override-tensor", overrides);
        if (cpuMoe) {
            rules = rules.withCpuMoe();
        }
        if (nCpuMoe != null) {
            rules = rules.withCpuMoeLayers(nCpuMoe);
        }
        return rules;
    }

    PinnedCache pinned() {
        return PinnedCache.of(pinnedExpertCache, pinInPlace, pinnedCacheSize);
    }

    /** What the engine needs to open and use the device; errors name the flag. */
    DeviceRequest request() {
        if (noOpOffload && offloadBatchSize != null) {
            throw new IllegalArgumentException("--no-op-offload and --offload-batch-size exclude each other");
        }
        if (offloadBatchSize != null && offloadBatchSize < 1) {
            throw new IllegalArgumentException("--offload-batch-size: must be at least 1, got " + offloadBatchSize);
        }
        return new DeviceRequest(choice(), deviceOptions(), PlanOptions.parseGpuLayers(gpuLayers), rules(), pinned(),
                offloadBatchSize == null ? OptionalInt.empty() : OptionalInt.of(offloadBatchSize), noOpOffload, 0,
                java.util.Optional.empty());
    }

    private static double positive(String flag, double v) {
        if (!(v > 0) || Double.isInfinite(v)) {
            throw new IllegalArgumentException(flag + ": must be a positive rate in GB/s, got " + v);
        }
        return v;
    }
}
