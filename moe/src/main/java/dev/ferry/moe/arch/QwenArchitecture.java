package dev.ferry.moe.arch;

import dev.ferry.loader.GgufFile;
import dev.ferry.moe.model.Architecture;
import dev.ferry.moe.model.LanguageModel;
import dev.ferry.moe.model.MetadataReader;
import dev.ferry.moe.model.ModelConfig;

/**
 * The Qwen3 family: dense {@code qwen3} and mixture-of-experts {@code qwen3moe} share attention
 * with per-head Q/K RMSNorm and NEOX RoPE; they differ only in the feed-forward block.
 */
public abstract class QwenArchitecture implements Architecture {

    private final String name;
    private final boolean mixtureOfExperts;

    protected QwenArchitecture(String name, boolean mixtureOfExperts) {
        this.name = name;
        this.mixtureOfExperts = mixtureOfExperts;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public ModelConfig readConfig(GgufFile file) {
        MetadataReader md = new MetadataReader(file, name);
        int embd = md.requireInt("embedding_length");
        int heads = md.requireInt("attention.head_count");
        int keyLength = md.intOr("attention.key_length", embd / heads);
        int valueLength = md.intOr("attention.value_length", keyLength);
        int experts = mixtureOfExperts ? md.requireInt("expert_count") : 0;
        int used = mixtureOfExperts ? md.requireInt("expert_used_count") : 0;
        int expertFf = mixtureOfExperts ? md.requireInt("expert_feed_forward_length") : 0;
        int ff = mixtureOfExperts ? md.intOr("feed_forward_length", 0) : md.requireInt("feed_forward_length");
        return new ModelConfig(
                name,
                md.requireInt("block_count"),
                embd,
                heads,
                md.intOr("attention.head_count_kv", heads),
                keyLength,
                valueLength,
                md.intOr("rope.dimension_count", keyLength),
                md.floatOr("rope.freq_base", 10000.0f),
                md.requireFloat("attention.layer_norm_rms_epsilon"),
                md.requireInt("context_length"),
                ff,
                experts,
                used,
                expertFf,
                md.boolOr("expert_weights_norm", true),
                md.vocabSize());
    }

    @Override
    public LanguageModel bind(GgufFile file, ModelConfig config) {
        return QwenModel.bind(file, config);
    }

    /** {@code qwen3}: dense SwiGLU feed-forward. */
    public static final class Dense extends QwenArchitecture {
        public Dense() {
            super("qwen3", false);
        }
    }

    /** {@code qwen3moe}: routed experts (softmax router, top-k, renormalised weights). */
    public static final class MixtureOfExperts extends QwenArchitecture {
        public MixtureOfExperts() {
            super("qwen3moe", true);
        }
    }
}
