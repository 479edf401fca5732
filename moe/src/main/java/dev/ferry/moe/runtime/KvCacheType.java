package dev.ferry.moe.runtime;

import java.util.Locale;

/** Element type of the KV cache, as llama.cpp's {@code --cache-type-k/-v} name them. */
public enum KvCacheType {
    F32(4),
    F16(2);

    private final int bytes;

    KvCacheType(int bytes) {
        this.bytes = bytes;
    }

    public int bytes() {
        return bytes;
    }

    /** Parses a flag value such as {@code f16}; the error names the flag and the valid values. */
    public static KvCacheType parse(String flag, String value) {
        try {
            return valueOf(value.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(flag + ": unsupported cache type '" + value + "' (supported: f32, f16)");
        }
    }
}
