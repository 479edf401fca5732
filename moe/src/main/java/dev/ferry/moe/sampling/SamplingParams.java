package dev.ferry.moe.sampling;

/**
 * Sampling settings with llama.cpp's flag names and default values (common_params_sampling).
 *
 * @param temperature      {@code --temp}; 0 or below means greedy (always the most likely token)
 * @param topK             {@code --top-k}; 0 or below keeps every token
 * @param topP             {@code --top-p}; 1 keeps every token
 * @param minP             {@code --min-p}; 0 keeps every token
 * @param repeatPenalty    {@code --repeat-penalty}; 1 is off
 * @param repeatLastN      {@code --repeat-last-n}; how many recent tokens are penalised, 0 none, -1 the context
 * @param frequencyPenalty {@code --frequency-penalty}; 0 is off
 * @param presencePenalty  {@code --presence-penalty}; 0 is off
 * @param seed             {@code --seed}; {@link #RANDOM_SEED} (-1), or 4294967295 as in llama.cpp, picks a random one
 */
public record SamplingParams(float temperature, int topK, float topP, float minP, float repeatPenalty,
                             int repeatLastN, float frequencyPenalty, float presencePenalty, long seed) {

    /** llama.cpp's -1 (LLAMA_DEFAULT_SEED): a different random seed every run. */
    public static final long RANDOM_SEED = -1;

    public SamplingParams {
        requireFinite("--temp", temperature);
        requireFinite("--top-p", topP);
        requireFinite("--min-p", minP);
        requireFinite("--repeat-penalty", repeatPenalty);
        requireFinite("--frequency-penalty", frequencyPenalty);
        requireFinite("--presence-penalty", presencePenalty);
        if (topP < 0 || topP > 1) {
            throw new IllegalArgumentException("--top-p must be between 0 and 1, got " + topP);
        }
        if (minP < 0 || minP > 1) {
            throw new IllegalArgumentException("--min-p must be between 0 and 1, got " + minP);
        }
        if (repeatPenalty <= 0) {
            throw new IllegalArgumentException("--repeat-penalty must be above 0 (1 is off), got " + repeatPenalty);
        }
        if (repeatLastN < -1) {
            throw new IllegalArgumentException("--repeat-last-n must be -1 (context size), 0 (off) or more, got "
                    + repeatLastN);
        }
        if (seed < -1 || seed > 0xFFFFFFFFL) {
            throw new IllegalArgumentException("--seed must be -1 (random) or between 0 and 4294967295, got " + seed);
        }
    }

    /** llama.cpp's defaults: temp 0.8, top-k 40, top-p 0.95, min-p 0.05, no penalties (last 64), random seed. */
    public static SamplingParams defaults() {
        return new SamplingParams(0.8f, 40, 0.95f, 0.05f, 1.0f, 64, 0.0f, 0.0f, RANDOM_SEED);
    }

    /** Always the most likely token. */
    public static SamplingParams greedy() {
        return defaults().withTemperature(0);
    }

    public boolean isGreedy() {
        return temperature <= 0;
    }

    /** Whether any of the repeat, frequency or presence penalties changes logits. */
    public boolean penalizes() {
        return repeatLastN != 0 && (repeatPenalty != 1.0f || frequencyPenalty != 0.0f || presencePenalty != 0.0f);
    }

    public SamplingParams withTemperature(float v) {
        return new SamplingParams(v, topK, topP, minP, repeatPenalty, repeatLastN, frequencyPenalty, presencePenalty, seed);
    }

    public SamplingParams withTopK(int v) {
        return new SamplingParams(temperature, v, topP, minP, repeatPenalty, repeatLastN, frequencyPenalty,
                presencePenalty, seed);
    }

    public SamplingParams withTopP(float v) {
        return new SamplingParams(temperature, topK, v, minP, repeatPenalty, repeatLastN, frequencyPenalty,
                presencePenalty, seed);
    }

    public SamplingParams withMinP(float v) {
        return new SamplingParams(temperature, topK, topP, v, repeatPenalty, repeatLastN, frequencyPenalty,
                presencePenalty, seed);
    }

    public SamplingParams withRepeatPenalty(float v) {
        return new SamplingParams(temperature, topK, topP, minP, v, repeatLastN, frequencyPenalty, presencePenalty, seed);
    }

    public SamplingParams withRepeatLastN(int v) {
        return new SamplingParams(temperature, topK, topP, minP, repeatPenalty, v, frequencyPenalty, presencePenalty, seed);
    }

    public SamplingParams withFrequencyPenalty(float v) {
        return new SamplingParams(temperature, topK, topP, minP, repeatPenalty, repeatLastN, v, presencePenalty, seed);
    }

    public SamplingParams withPresencePenalty(float v) {
        return new SamplingParams(temperature, topK, topP, minP, repeatPenalty, repeatLastN, frequencyPenalty, v, seed);
    }

    public SamplingParams withSeed(long v) {
        return new SamplingParams(temperature, topK, topP, minP, repeatPenalty, repeatLastN, frequencyPenalty,
                presencePenalty, v);
    }

    private static void requireFinite(String flag, float v) {
        if (!Float.isFinite(v)) {
            throw new IllegalArgumentException(flag + " must be a finite number, got " + v);
        }
    }
}
