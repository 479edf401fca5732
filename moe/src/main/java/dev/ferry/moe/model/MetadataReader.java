package dev.ferry.moe.model;

import dev.ferry.loader.GgufFile;
import dev.ferry.loader.GgufMetadata;

/**
 * Reads {@code <arch>.<key>} hyper-parameters of one file, naming the file and the full key
 * in every error, so a missing required key reads like llama.cpp's complaint.
 */
public final class MetadataReader {

    private final GgufFile file;
    private final GgufMetadata metadata;
    private final String prefix;

    public MetadataReader(GgufFile file, String architecture) {
        this.file = file;
        this.metadata = file.metadata();
        this.prefix = architecture + ".";
    }

    public boolean has(String key) {
        return metadata.has(prefix + key);
    }

    public int requireInt(String key) {
        String full = prefix + key;
        if (!metadata.has(full)) {
            throw new IllegalArgumentException(file.path() + ": required key '" + full + "' is missing");
        }
        return metadata.getInt(full);
    }

    public float requireFloat(String key) {
        String full = prefix + key;
        if (!metadata.has(full)) {
            throw new IllegalArgumentException(file.path() + ": required key '" + full + "' is missing");
        }
        return metadata.getFloat(full);
    }

    public int intOr(String key, int fallback) {
        return metadata.has(prefix + key) ? metadata.getInt(prefix + key) : fallback;
    }

    public float floatOr(String key, float fallback) {
        return metadata.has(prefix + key) ? metadata.getFloat(prefix + key) : fallback;
    }

    public boolean boolOr(String key, boolean fallback) {
        return metadata.has(prefix + key) ? metadata.getBool(prefix + key) : fallback;
    }

    /** Vocabulary size: the tokenizer's token list, else the embedding tensor's row count. */
    public int vocabSize() {
        if (metadata.has("tokenizer.ggml.tokens")) {
            return metadata.getStringArray("tokenizer.ggml.tokens").length;
        }
        return Math.toIntExact(file.tensor("token_embd.weight").shape()[1]);
    }
}
