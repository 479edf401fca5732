package dev.ferry.moe.runtime;

import dev.ferry.loader.GgufFile;
import dev.ferry.loader.tokenizer.Tokenizer;
import dev.ferry.moe.model.Architecture;
import dev.ferry.moe.model.Architectures;
import dev.ferry.moe.model.LanguageModel;
import dev.ferry.moe.model.ModelConfig;
import java.nio.file.Path;

/**
 * A GGUF file opened and bound to its architecture. Owns the file mapping: closing it
 * invalidates every session and weight view made from it.
 */
public final class LoadedModel implements AutoCloseable {

    private final GgufFile file;
    private final Architecture architecture;
    private final LanguageModel model;
    private final long loadNanos;
    private Tokenizer tokenizer;

    private LoadedModel(GgufFile file, Architecture architecture, LanguageModel model, long loadNanos) {
        this.file = file;
        this.architecture = architecture;
        this.model = model;
        this.loadNanos = loadNanos;
    }

    /** Maps, validates and binds {@code path}; the error names the file and what is wrong. */
    public static LoadedModel open(Path path) {
        long start = System.nanoTime();
        GgufFile file = GgufFile.open(path);
        try {
            Architecture arch = Architectures.of(file);
            ModelConfig config = arch.readConfig(file);
            LanguageModel model = arch.bind(file, config);
            return new LoadedModel(file, arch, model, System.nanoTime() - start);
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    public GgufFile file() {
        return file;
    }

    public Architecture architecture() {
        return architecture;
    }

    public LanguageModel model() {
        return model;
    }

    /** The tokenizer stored in the file (parsed on first use). */
    public synchronized Tokenizer tokenizer() {
        if (tokenizer == null) {
            try {
                tokenizer = Tokenizer.fromGguf(file.metadata());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(file.path() + ": " + e.getMessage(), e);
            }
        }
        return tokenizer;
    }

    public ModelConfig config() {
        return model.config();
    }

    /** Time spent mapping, validating and binding, in milliseconds. */
    public double loadMillis() {
        return loadNanos / 1e6;
    }

    @Override
    public void close() {
        file.close();
    }
}
