package dev.ferry.moe.arch;

import dev.ferry.loader.GgmlType;
import dev.ferry.loader.GgufFile;
import dev.ferry.moe.kernel.ExpertWeights;
import dev.ferry.moe.kernel.WeightMatrix;
import dev.ferry.moe.model.InferenceSession;
import dev.ferry.moe.model.LanguageModel;
import dev.ferry.moe.model.ModelConfig;
import dev.ferry.moe.model.SessionOptions;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Optional;
import java.util.function.Function;

/**
 * Bound weights of a qwen3 / qwen3moe model; tensors stay in the file mapping unless a session
 * rebinds them to placed copies ({@link #withCopies}).
 */
public final class QwenModel implements LanguageModel {

    private final ModelConfig config;
    private final WeightMatrix tokenEmbedding;
    private final QwenLayer[] layers;
    private final MemorySegment outputNorm;
    private final WeightMatrix output;

    private final GgufFile file;

    private QwenModel(GgufFile file, ModelConfig config, WeightMatrix tokenEmbedding, QwenLayer[] layers, MemorySegment outputNorm,
                      WeightMatrix output) {
        this.file = file;
        this.config = config;
        this.tokenEmbedding = tokenEmbedding;
        this.layers = layers;
        this.outputNorm = outputNorm;
        this.output = output;
    }

    static QwenModel bind(GgufFile file, ModelConfig c) {
        return bind(file, c, name -> Optional.empty());
    }

    /**
     * The same model with the non-expert tensors read from {@code copies} where it has them (a
     * placed copy per {@code --no-mmap} / {@code --numa}); expert tensors stay as bound.
     */
    QwenModel withCopies(Function<String, Optional<MemorySegment>> copies) {
        return bind(file, config, copies);
    }

    private static QwenModel bind(GgufFile file, ModelConfig c, Function<String, Optional<MemorySegment>> copies) {
        Binder b = new Binder(new TensorBinder(file, Arena.ofAuto()), copies);
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
        return new QwenModel(file, c, embedding, layers, b.vector("output_norm.weight", embd), output);
    }

    /** A {@link TensorBinder} whose matrices and float32 vectors come from {@code copies} where present. */
    private record Binder(TensorBinder b, Function<String, Optional<MemorySegment>> copies) {
        boolean has(String name) {
            return b.has(name);
        }

        WeightMatrix matrix(String name, long rows, long cols) {
            WeightMatrix w = b.matrix(name, rows, cols);
            return copies.apply(name).map(d -> new WeightMatrix(w.type(), d, w.rows(), w.cols())).orElse(w);
        }

        MemorySegment vector(String name, long length) {
            if (b.info(name, length).type() == GgmlType.F32) {
                Optional<MemorySegment> copy = copies.apply(name);
                if (copy.isPresent()) {
                    return copy.get();
                }
            }
            return b.vector(name, length);
        }

        ExpertWeights experts(String name, int experts, long rows, long cols) {
            return b.experts(name, experts, rows, cols);
        }
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
        if (options.hybrid().isPresent() && options.hybrid().get().plan().bytesAt(dev.ferry.moe.plan.Home.GPU) > 0) {
            return new HybridQwenSession(this, options, options.hybrid().get());
        }
        return new QwenSession(this, options);
    }
}
