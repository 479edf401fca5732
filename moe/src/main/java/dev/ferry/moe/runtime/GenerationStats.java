package dev.ferry.moe.runtime;

/** Timings of one generation, for the llama.cpp-style summary on stderr. */
public record GenerationStats(int promptTokens, double promptMillis, int generatedTokens, double generationMillis,
                              boolean stoppedAtEndOfGeneration) {

    public double promptTokensPerSecond() {
        return promptTokens / (promptMillis / 1e3);
    }

    public double generationTokensPerSecond() {
        return generatedTokens / (generationMillis / 1e3);
    }
}
