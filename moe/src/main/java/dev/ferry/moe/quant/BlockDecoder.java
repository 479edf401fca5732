package dev.ferry.moe.quant;

import dev.ferry.loader.GgmlType;
import java.lang.foreign.MemorySegment;

/**
 * Decodes a row of one ggml tensor type to float32, bit for bit as llama.cpp's reference
 * dequantizers do. Implementations are stateless and thread-safe and allocate nothing per call.
 */
public interface BlockDecoder {
    /** The ggml type this decoder reads. */
    GgmlType type();

    /**
     * Decodes {@code n} values stored as {@code n / blockSize} consecutive blocks at byte offset
     * {@code srcByteOffset} of {@code src}, writing {@code n} little-endian floats at byte offset
     * {@code dstByteOffset} of {@code dst}.
     *
     * @throws IllegalArgumentException when {@code n} is negative or not a multiple of the
     *     type's block size, or either range lies outside its segment
     */
    void decodeRow(MemorySegment src, long srcByteOffset, MemorySegment dst, long dstByteOffset, long n);
}
