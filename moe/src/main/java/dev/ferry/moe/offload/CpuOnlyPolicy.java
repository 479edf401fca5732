package dev.ferry.moe.offload;

/** {@code --no-op-offload}: never offload. */
record CpuOnlyPolicy() implements OffloadPolicy {

    @Override
    public OffloadDecision decide(ExpertWork work) {
        return new OffloadDecision(false, Double.NaN, Double.NaN, "--no-op-offload: experts stay on the CPU");
    }

    @Override
    public String describe() {
        return "no expert offload (--no-op-offload): routed experts always run on the CPU";
    }
}
