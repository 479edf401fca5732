package dev.ferry.moe.offload;

/**
 * Where one layer's routed experts run for one micro-batch. {@code cpuSeconds} and
 * {@code gpuSeconds} are the cost model's estimates, NaN for policies without one.
 */
public record OffloadDecision(boolean onGpu, double cpuSeconds, double gpuSeconds, String reason) {

    public OffloadDecision {
        java.util.Objects.requireNonNull(reason, "reason");
    }
}
