package dev.ferry.moe.quant;

import dev.ferry.loader.GgmlType;
import java.lang.foreign.MemorySegment;

/**
 * Quantizes a row of float32 values into blocks of one ggml type. Implementations are stateless
 * and thread-safe and allocate nothing per call.
 */
public interface BlockEncoder {
    /** The ggml type this encoder writes. */
    GgmlType type();

    /**
     * Encodes {@code n} little-endian floats at byte offset {@code srcByteOffset} of {@code src}
     * into {@code n / blockSize} blocks at byte offset {@code dstByteOffset} of {@code dst}.
     *
     * @throws IllegalArgumentException when {@code n} is negative or not a multiple of the
     *     type's block size, or either range lies outside its segment
     */
    void encodeRow(MemorySegment src, long srcByteOffset, MemorySegment dst, long dstByteOffset, long n);
}
