package dev.ferry.moe.model;

import dev.ferry.loader.GgufFile;

/**
 * One model architecture as GGUF names it in {@code general.architecture}. Adding an
 * architecture means adding an implementation and listing it in
 * {@code META-INF/services/dev.ferry.moe.model.Architecture}; nothing else switches on names.
 */
public interface Architecture {

    /** The {@code general.architecture} value this implementation serves. */
    String name();

    /** Reads the hyper-parameters, with llama.cpp's defaults for keys it treats as optional. */
    ModelConfig readConfig(GgufFile file);

    /** Binds the file's tensors to a runnable model; validates every tensor's presence and shape. */
    LanguageModel bind(GgufFile file, ModelConfig config);
}
