package dev.ferry.moe.offload;

/** {@code --offload-batch-size N}: the GPU from {@code minTokens} tokens on. */
record FixedBatchPolicy(int minTokens) implements OffloadPolicy {

    FixedBatchPolicy {
        if (minTokens < 1) {
            throw new IllegalArgumentException("--offload-batch-size must be at least 1, got " + minTokens);
        }
    }

    @Override
    public OffloadDecision decide(ExpertWork work) {
        boolean onGpu = work.tokens() >= minTokens;
        return new OffloadDecision(onGpu, Double.NaN, Double.NaN, "--offload-batch-size " + minTokens + ": " + work.tokens()
                + " tokens " + (onGpu ? ">=" : "<") + " " + minTokens);
    }

    @Override
    public String describe() {
        return "expert offload from " + minTokens + " tokens per micro-batch (--offload-batch-size)";
    }
}
