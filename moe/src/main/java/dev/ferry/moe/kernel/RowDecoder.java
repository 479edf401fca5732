package dev.ferry.moe.kernel;

import dev.ferry.loader.GgmlType;
import java.lang.foreign.MemorySegment;

/** Decodes a column range of one weight row to float32, with vector code where it exists. */
final class RowDecoder {

    private RowDecoder() {
    }

    /**
     * Decodes columns {@code c0 .. c0+n-1} (block-aligned) of the row at byte {@code rowOffset}
     * into floats at index {@code dstIndex} of {@code dst}.
     */
    static void decode(GgmlType type, MemorySegment w, long rowOffset, long c0, long n, MemorySegment dst,
                       long dstIndex) {
        long src = rowOffset + c0 / type.blockSize() * type.blockBytes();
        if (Kernels.WIDE && VectorDecoder.handles(type)) {
            VectorDecoder.decode(type, w, src, n, dst, dstIndex);
        } else {
            ScalarDecoder.decodeRow(type, w, src, n, dst, dstIndex);
        }
    }
}
