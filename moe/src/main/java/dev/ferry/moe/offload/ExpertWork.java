package dev.ferry.moe.offload;

/**
 * What the routed experts of one layer cost for one micro-batch.
 *
 * @param tokens         tokens in the micro-batch
 * @param pairs          (token, expert) pairs the router chose
 * @param routedExperts  distinct experts chosen (each of them must be read or uploaded once)
 * @param bytesPerExpert one expert's gate + up + down bytes
 * @param flopsPerPair   {@code 2 * (gate + up + down parameters)}: the flops of one (token, expert) pair
 */
public record ExpertWork(int tokens, int pairs, int routedExperts, long bytesPerExpert, long flopsPerPair) {

    public ExpertWork {
        if (tokens < 0 || pairs < 0 || routedExperts < 0 || bytesPerExpert < 0 || flopsPerPair < 0) {
            throw new IllegalArgumentException("expert work figures must not be negative: " + tokens + " tokens, " + pairs
                    + " pairs, " + routedExperts + " experts, " + bytesPerExpert + " bytes, " + flopsPerPair + " flops");
        }
        if (routedExperts > pairs) {
            throw new IllegalArgumentException(routedExperts + " routed experts cannot come from only " + pairs + " pairs");
        }
    }

    /**
     * The expected work of {@code tokens} tokens each routed to {@code expertsUsed} of
     * {@code expertCount} experts uniformly at random: the distinct experts are
     * {@code expertCount * (1 - (1 - expertsUsed / expertCount)^tokens)}, rounded up. For
     * planning before the router has run; the runtime passes real counts.
     */
    public static ExpertWork uniform(int tokens, int expertsUsed, int expertCount, long bytesPerExpert, long flopsPerPair) {
        if (expertsUsed < 1 || expertCount < expertsUsed) {
            throw new IllegalArgumentException("need 1 <= experts used (" + expertsUsed + ") <= expert count (" + expertCount + ")");
        }
        int pairs = Math.multiplyExact(tokens, expertsUsed);
        double untouched = Math.pow(1.0 - (double) expertsUsed / expertCount, tokens);
        int routed = (int) Math.min(Math.min(pairs, expertCount), Math.ceil(expertCount * (1.0 - untouched) - 1e-9));
        return new ExpertWork(tokens, pairs, routed, bytesPerExpert, flopsPerPair);
    }

    /** Bytes of all routed experts: what the CPU streams once per batch or the GPU must upload. */
    public double routedBytes() {
        return (double) routedExperts * bytesPerExpert;
    }

    /** Flops of all pairs. */
    public double flops() {
        return (double) pairs * flopsPerPair;
    }
}
