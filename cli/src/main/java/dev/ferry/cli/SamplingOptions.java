package dev.ferry.cli;

import dev.ferry.moe.sampling.SamplingParams;
import picocli.CommandLine.Option;

/** Sampling flags with llama.cpp's names and defaults. */
public final class SamplingOptions {

    private static final SamplingParams DEFAULTS = SamplingParams.defaults();

    @Option(names = "--temp", description = "Temperature; 0 = greedy (default: 0.8).")
    Float temperature;

    @Option(names = "--top-k", description = "Top-k sampling; 0 = off (default: 40).")
    Integer topK;

    @Option(names = "--top-p", description = "Top-p (nucleus) sampling; 1.0 = off (default: 0.95).")
    Float topP;

    @Option(names = "--min-p", description = "Min-p sampling; 0.0 = off (default: 0.05).")
    Float minP;

    @Option(names = "--repeat-penalty", description = "Penalty for repeated tokens; 1.0 = off (default: 1.0).")
    Float repeatPenalty;

    @Option(names = "--repeat-last-n", description = "Tokens considered by the repeat penalty; -1 = context (default: 64).")
    Integer repeatLastN;

    @Option(names = "--seed", description = "Random seed; -1 = random (default: -1).")
    Long seed;

    SamplingParams params() {
        SamplingParams p = DEFAULTS;
        if (temperature != null) {
            p = p.withTemperature(temperature);
        }
        if (topK != null) {
            p = p.withTopK(topK);
        }
        if (topP != null) {
            p = p.withTopP(topP);
        }
        if (minP != null) {
            p = p.withMinP(minP);
        }
        if (repeatPenalty != null) {
            p = p.withRepeatPenalty(repeatPenalty);
        }
        if (repeatLastN != null) {
            p = p.withRepeatLastN(repeatLastN);
        }
        if (seed != null) {
            p = p.withSeed(seed);
        }
        return p;
    }
}
