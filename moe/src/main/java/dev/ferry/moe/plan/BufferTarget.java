package dev.ferry.moe.plan;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where an {@code -ot REGEX=BUFFER} rule sends a tensor, spelt as llama.cpp names its buffer
 * types ({@code CPU}, {@code CUDA0}; exact case). ferry drives one GPU, so only {@code CUDA0}.
 */
public enum BufferTarget {
    CPU,
    CUDA0;

    private static final Pattern OTHER_CUDA = Pattern.compile("CUDA(\\d+)");

    /** The home a tensor sent here gets. */
    public Home home() {
        return this == CPU ? Home.HOST : Home.GPU;
    }

    /** Parses a buffer name; {@code flag} and {@code rule} go into the error. */
    public static BufferTarget parse(String flag, String rule, String name) {
        for (BufferTarget t : values()) {
            if (t.name().equals(name)) {
                return t;
            }
        }
        Matcher m = OTHER_CUDA.matcher(name);
        if (m.matches()) {
            throw new IllegalArgumentException(flag + " '" + rule + "': buffer " + name
                    + " names GPU " + m.group(1) + ", but ferry uses one GPU (CUDA0)");
        }
        throw new IllegalArgumentException(flag + " '" + rule + "': unknown buffer type '" + name
                + "' (available: CPU, CUDA0; the names are case-sensitive, as in llama.cpp)");
    }
}
