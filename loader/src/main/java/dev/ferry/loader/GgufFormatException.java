package dev.ferry.loader;

import java.nio.file.Path;
import java.util.Locale;

/**
 * A GGUF file is malformed: the message names the file, the byte offset where the problem was
 * found and what is wrong.
 */
public final class GgufFormatException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String file;
    private final long byteOffset;
    private final String problem;

    public GgufFormatException(Path file, long byteOffset, String problem) {
        this(String.valueOf(file), byteOffset, problem);
    }

    public GgufFormatException(String file, long byteOffset, String problem) {
        super(String.format(Locale.ROOT, "%s: byte %,d: %s", file, byteOffset, problem));
        this.file = file;
        this.byteOffset = byteOffset;
        this.problem = problem;
    }

    /** The file as it was named when opened. */
    public String file() {
        return file;
    }

    /** Absolute byte position in the file where the problem was detected. */
    public long byteOffset() {
        return byteOffset;
    }

    /** What is wrong, without the file and offset prefix. */
    public String problem() {
        return problem;
    }
}
