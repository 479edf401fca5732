package dev.ferry.moe.model;

/** A model whose weights are bound and ready; each inference session gets its own state. */
public interface LanguageModel {

    ModelConfig config();

    /** Creates the per-session state (KV cache, activation buffers) for {@code options}. */
    InferenceSession newSession(SessionOptions options);
}
