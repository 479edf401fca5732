package dev.ferry.moe.offload;

import java.util.Locale;
import java.util.Objects;

/**
 * The cost-model policy: the GPU when its estimate is strictly below the CPU's. Measured CPU
 * rates are raised whenever a real CPU expert run was faster than they predict: calibration on
 * a cold JIT under-rates the CPU, and only the best observed speed is what the CPU can do
 * (slower runs are noise). Rates given by the user ({@code provenance} "given") stay as given.
 */
final class CostModelPolicy implements OffloadPolicy {

    private static final String GIVEN = "given";

    private volatile OffloadCosts costs;

    CostModelPolicy(OffloadCosts costs) {
        this.costs = Objects.requireNonNull(costs, "costs");
    }

    OffloadCosts costs() {
        return costs;
    }

    @Override
    public OffloadDecision decide(ExpertWork work) {
        OffloadCosts now = costs;
        double cpu = now.cpuSeconds(work);
        double gpu = now.gpuSeconds(work);
        boolean onGpu = gpu < cpu;
        return new OffloadDecision(onGpu, cpu, gpu, String.format(Locale.ROOT,
                "cost model: %d tokens, %d experts: GPU %.3f ms %s CPU %.3f ms", work.tokens(), work.routedExperts(),
                gpu * 1e3, onGpu ? "<" : ">=", cpu * 1e3));
    }

    @Override
    public synchronized void observeCpu(ExpertWork work, double seconds) {
        OffloadCosts now = costs;
        if (!(seconds > 0) || work.routedExperts() == 0 || now.provenance().equals(GIVEN)) {
            return;
        }
        double bytesBound = work.routedBytes() / now.cpuBytesPerSecond();
        double flopsBound = work.flops() / now.cpuFlopsPerSecond();
        if (Math.max(bytesBound, flopsBound) <= seconds) {
            return;
        }
        // Raise the rate that bounds this work so the model predicts what was observed.
        double bytesRate = bytesBound >= flopsBound ? work.routedBytes() / seconds : now.cpuBytesPerSecond();
        double flopsRate = flopsBound > bytesBound ? work.flops() / seconds : now.cpuFlopsPerSecond();
        String provenance = now.provenance().contains("raised by observed CPU runs") ? now.provenance()
                : now.provenance() + "; CPU rates raised by observed CPU runs";
        costs = new OffloadCosts(bytesRate, flopsRate, now.uploadBytesPerSecond(), now.gpuFlopsPerSecond(),
                now.gpuFixedSeconds(), provenance);
    }

    @Override
    public String describe() {
        return "expert offload by cost model; " + costs.describe();
    }
}
