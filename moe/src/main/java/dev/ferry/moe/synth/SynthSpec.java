package dev.ferry.moe.synth;

/**
 * The shape of a model to synthesize: the hyper-parameters llama.cpp reads for {@code qwen3}
 * (dense, {@code expertCount == 0}) and {@code qwen3moe}. {@code feedForwardLength} is the dense
 * FFN width (for a MoE model it is only written to the metadata, as the real models carry it).
 * {@code tiedEmbeddings} leaves {@code output.weight} out, so the output head reuses
 * {@code token_embd.weight} as in Qwen3-0.6B.
 */
public record SynthSpec(
        String architecture,
        String name,
        int layers,
        int embeddingLength,
        int headCount,
        int headCountKv,
        int headDim,
        int feedForwardLength,
        int expertCount,
        int expertUsedCount,
        int expertFeedForwardLength,
        int vocabSize,
        int contextLength,
        float ropeFreqBase,
        float rmsEpsilon,
        boolean tiedEmbeddings) {

    /** Smallest vocabulary: the 256 byte tokens and the three special tokens. */
    public static final int MIN_VOCAB = 256 + SynthVocabulary.SPECIAL_TOKENS.size();
    /** Larger than any real vocabulary (Gemma's 262144); guards against absurd {@code --vocab} values. */
    public static final int MAX_VOCAB = 1 << 20;
    /** Guards against typos such as {@code --layers 4000} that would write terabytes. */
    public static final int MAX_LAYERS = 1024;

    public SynthSpec {
        if (!architecture.equals("qwen3") && !architecture.equals("qwen3moe")) {
            throw new IllegalArgumentException("ferry synth writes qwen3 and qwen3moe models, not '" + architecture + "'");
        }
        if (layers < 1 || layers > MAX_LAYERS) {
            throw new IllegalArgumentException("--layers: block count must be between 1 and " + MAX_LAYERS
                    + ", got " + layers);
        }
        positive("embedding_length", embeddingLength);
        positive("attention.head_count", headCount);
        positive("attention.head_count_kv", headCountKv);
        positive("attention.key_length", headDim);
        positive("context_length", contextLength);
        if (headCount % headCountKv != 0) {
            throw new IllegalArgumentException("attention.head_count " + headCount
                    + " is not a multiple of attention.head_count_kv " + headCountKv);
        }
        if (headDim % 2 != 0) {
            throw new IllegalArgumentException("attention.key_length must be even for RoPE, got " + headDim);
        }
        if (vocabSize < MIN_VOCAB || vocabSize > MAX_VOCAB) {
            throw new IllegalArgumentException("--vocab: vocabulary size must be between " + MIN_VOCAB
                    + " (256 byte tokens and 3 special tokens) and " + MAX_VOCAB + ", got " + vocabSize);
        }
        if (architecture.equals("qwen3moe")) {
            positive("expert_count", expertCount);
            positive("expert_feed_forward_length", expertFeedForwardLength);
            if (expertUsedCount < 1 || expertUsedCount > expertCount) {
                throw new IllegalArgumentException("expert_used_count " + expertUsedCount
                        + " must be between 1 and expert_count " + expertCount);
            }
        } else {
            positive("feed_forward_length", feedForwardLength);
            if (expertCount != 0 || expertUsedCount != 0 || expertFeedForwardLength != 0) {
                throw new IllegalArgumentException("a dense qwen3 model has no experts");
            }
        }
        if (!(ropeFreqBase > 0) || !(rmsEpsilon > 0)) {
            throw new IllegalArgumentException("rope.freq_base and layer_norm_rms_epsilon must be positive, got "
                    + ropeFreqBase + " and " + rmsEpsilon);
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

    /** The same shape with {@code layers} blocks. */
    public SynthSpec withLayers(int layers) {
        return new SynthSpec(architecture, name, layers, embeddingLength, headCount, headCountKv, headDim,
                feedForwardLength, expertCount, expertUsedCount, expertFeedForwardLength, vocabSize, contextLength,
                ropeFreqBase, rmsEpsilon, tiedEmbeddings);
    }

    /** The same shape with a vocabulary of {@code vocabSize} tokens. */
    public SynthSpec withVocabSize(int vocabSize) {
        return new SynthSpec(architecture, name, layers, embeddingLength, headCount, headCountKv, headDim,
                feedForwardLength, expertCount, expertUsedCount, expertFeedForwardLength, vocabSize, contextLength,
                ropeFreqBase, rmsEpsilon, tiedEmbeddings);
    }

    /** Number of weights (parameters) the model has. */
    public long parameterCount() {
        long embd = embeddingLength;
        long q = (long) headCount * headDim;
        long kv = (long) headCountKv * headDim;
        long attention = embd * q + 2 * embd * kv + q * embd + 2L * headDim + embd;
        long ffn = isMixtureOfExperts()
                ? embd * expertCount + 3L * expertCount * expertFeedForwardLength * embd
                : 3L * feedForwardLength * embd;
        long perLayer = attention + ffn + embd;
        long head = (long) vocabSize * embd * (tiedEmbeddings ? 1 : 2) + embd;
        return layers * perLayer + head;
    }
}
