package dev.ferry.moe.model;

/**
 * Hyper-parameters of a decoder-only transformer, read from GGUF metadata with llama.cpp's
 * defaults for absent keys. Dense models have {@code expertCount == 0}.
 */
public record ModelConfig(
        String architecture,
        int layerCount,
        int embeddingLength,
        int headCount,
        int headCountKv,
        int keyLength,
        int valueLength,
        int ropeDimensions,
        float ropeFreqBase,
        float rmsEpsilon,
        int contextLengthTrained,
        int feedForwardLength,
        int expertCount,
        int expertUsedCount,
        int expertFeedForwardLength,
        boolean normalizeExpertWeights,
        int vocabSize) {

    public ModelConfig {
        positive("block_count", layerCount);
        positive("embedding_length", embeddingLength);
        positive("attention.head_count", headCount);
        positive("attention.head_count_kv", headCountKv);
        positive("attention.key_length", keyLength);
        positive("attention.value_length", valueLength);
        positive("vocabulary size", vocabSize);
        if (headCount % headCountKv != 0) {
            throw new IllegalArgumentException("attention.head_count " + headCount
                    + " is not a multiple of attention.head_count_kv " + headCountKv);
        }
        if (ropeDimensions <= 0 || ropeDimensions > keyLength || ropeDimensions % 2 != 0) {
            throw new IllegalArgumentException("rope.dimension_count " + ropeDimensions
                    + " must be even and at most attention.key_length " + keyLength);
        }
        if (expertCount < 0 || expertUsedCount < 0 || expertUsedCount > expertCount) {
            throw new IllegalArgumentException("expert_used_count " + expertUsedCount
                    + " must be between 0 and expert_count " + expertCount);
        }
        if (expertCount > 0) {
            positive("expert_used_count", expertUsedCount);
            positive("expert_feed_forward_length", expertFeedForwardLength);
        }
        if (!(rmsEpsilon > 0) || !(ropeFreqBase > 0)) {
            throw new IllegalArgumentException("layer_norm_rms_epsilon and rope.freq_base must be positive, got "
                    + rmsEpsilon + " and " + ropeFreqBase);
        }
    }

    private static void positive(String key, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(key + " must be positive, got " + value);
        }
    }

    public boolean isMixtureOfExperts() {
        return expertCount > 0;
    }

    /** Query heads per key/value head (grouped-query attention). */
    public int groupSize() {
        return headCount / headCountKv;
    }

    public int queryWidth() {
        return headCount * keyLength;
    }

    public int keyWidth() {
        return headCountKv * keyLength;
    }

    public int valueWidth() {
        return headCountKv * valueLength;
    }
}
