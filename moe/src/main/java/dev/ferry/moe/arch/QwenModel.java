package dev.ferry.moe.arch;

import dev.ferry.loader.GgufFile;
import dev.ferry.moe.kernel.WeightMatrix;
import dev.ferry.moe.model.InferenceSession;
import dev.ferry.moe.model.LanguageModel;
import dev.ferry.moe.model.ModelConfig;
import dev.ferry.moe.model.SessionOptions;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** Bound weights of a qwen3 / qwen3moe model; tensors stay in the file mapping. */
public final class QwenModel implements LanguageModel {

    private final ModelConfig config;
    private final WeightMatrix tokenEmbedding;
    private final QwenLayer[] layers;
    private final MemorySegment outputNorm;
    private final WeightMatrix output;

    private QwenModel(ModelConfig config, WeightMatrix tokenEmbedding, QwenLayer[] layers, MemorySegment outputNorm,
                      WeightMatrix output) {
        this.config = config;
        this.tokenEmbedding = tokenEmbedding;
        this.layers = layers;
        this.outputNorm = outputNorm;
        this.output = output;
    }

    static QwenModel bind(GgufFile file, ModelConfig c) {
        TensorBinder b = new TensorBinder(file, Arena.ofAuto());
        long embd = c.embeddingLength();
        WeightMatrix embedding = b.matrix("token_embd.weight", c.vocabSize(), embd);
        QwenLayer[] layers = new QwenLayer[c.layerCount()];
        for (int l = 0; l < layers.length; l++) {
            String p = "blk." + l + ".";
            boolean moe = c.isMixtureOfExperts();
            layers[l] = new QwenLayer(
                    b.vector(p + "attn_norm.weight", embd),
                    b.matrix(p + "attn_q.weight", c.queryWidth(), embd),
                    b.matrix(p + "attn_k.weight", c.keyWidth(), embd),
                    b.matrix(p + "attn_v.weight", c.valueWidth(), embd),
                    b.matrix(p + "attn_output.weight", embd, (long) c.headCount() * c.valueLength()),
                    b.vector(p + "attn_q_norm.weight", c.keyLength()),
                    b.vector(p + "attn_k_norm.weight", c.keyLength()),
                    b.vector(p + "ffn_norm.weight", embd),
                    moe ? null : b.matrix(p + "ffn_gate.weight", c.feedForwardLength(), embd),
                    moe ? null : b.matrix(p + "ffn_up.weight", c.feedForwardLength(), embd),
                    moe ? null : b.matrix(p + "ffn_down.weight", embd, c.feedForwardLength()),
                    moe ? b.matrix(p + "ffn_gate_inp.weight", c.expertCount(), embd) : null,
                    moe ? b.experts(p + "ffn_gate_exps.weight", c.expertCount(), c.expertFeedForwardLength(), embd) : null,
                    moe ? b.experts(p + "ffn_up_exps.weight", c.expertCount(), c.expertFeedForwardLength(), embd) : null,
                    moe ? b.experts(p + "ffn_down_exps.weight", c.expertCount(), embd, c.expertFeedForwardLength()) : null);
        }
        // Tied embeddings: llama.cpp falls back to token_embd when output.weight is absent.
        WeightMatrix output = b.has("output.weight") ? b.matrix("output.weight", c.vocabSize(), embd) : embedding;
        return new QwenModel(c, embedding, layers, b.vector("output_norm.weight", embd), output);
    }

    @Override
    public ModelConfig config() {
        return config;
    }

    WeightMatrix tokenEmbedding() {
        return tokenEmbedding;
    }

    QwenLayer layer(int i) {
        return layers[i];
    }

    MemorySegment outputNorm() {
        return outputNorm;
    }

    WeightMatrix output() {
        return output;
    }

    @Override
    public InferenceSession newSession(SessionOptions options) {
        return new QwenSession(this, options);
    }
}
