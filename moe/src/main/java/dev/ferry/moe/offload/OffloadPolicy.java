package dev.ferry.moe.offload;

/** Decides per layer and micro-batch where the routed experts run. */
public interface OffloadPolicy {

    OffloadDecision decide(ExpertWork work);

    /** One line for the run report. */
    String describe();

    /**
     * A real CPU run of {@code work} took {@code seconds}: policies that model the CPU may learn
     * from it. The default ignores it.
     */
    default void observeCpu(ExpertWork work, double seconds) {
    }

    /** Picks the faster of CPU and GPU by {@code costs}; ties stay on the CPU. */
    static OffloadPolicy costModel(OffloadCosts costs) {
        return new CostModelPolicy(costs);
    }

    /** {@code --offload-batch-size N}: the GPU iff the micro-batch has at least {@code minTokens} tokens. */
    static OffloadPolicy fixedBatch(int minTokens) {
        return new FixedBatchPolicy(minTokens);
    }

    /** {@code --no-op-offload}: the experts always run on the CPU. */
    static OffloadPolicy cpuOnly() {
        return new CpuOnlyPolicy();
    }
}
