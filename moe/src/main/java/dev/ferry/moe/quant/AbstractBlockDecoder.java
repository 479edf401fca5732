package dev.ferry.moe.quant;

import dev.ferry.loader.GgmlType;
import java.lang.foreign.MemorySegment;

/** Validates the row once, then decodes it block by block. */
abstract sealed class AbstractBlockDecoder implements BlockDecoder
        permits FloatDecoders.F32, FloatDecoders.F16, FloatDecoders.BF16,
        LegacyDecoders.Q4_0, LegacyDecoders.Q4_1, LegacyDecoders.Q5_0, LegacyDecoders.Q5_1, LegacyDecoders.Q8_0,
        KQuantDecoders.Q2_K, KQuantDecoders.Q3_K, KQuantDecoders.Q4_K, KQuantDecoders.Q5_K, KQuantDecoders.Q6_K,
        LookupDecoders.IQ4_NL, LookupDecoders.IQ4_XS, LookupDecoders.MXFP4, LookupDecoders.NVFP4,
        LookupDecoders.TQ1_0, LookupDecoders.TQ2_0 {
    private final GgmlType type;

    AbstractBlockDecoder(GgmlType type) {
        this.type = type;
    }

    @Override
    public final GgmlType type() {
        return type;
    }

    @Override
    public void decodeRow(MemorySegment src, long srcByteOffset, MemorySegment dst, long dstByteOffset, long n) {
        long blocks = Bytes.checkRow(type, src, srcByteOffset, dst, dstByteOffset, n);
        long blockBytes = type.blockBytes();
        long blockFloatBytes = (long) type.blockSize() * Float.BYTES;
        for (long b = 0; b < blocks; b++) {
            decodeBlock(src, srcByteOffset + b * blockBytes, dst, dstByteOffset + b * blockFloatBytes);
        }
    }

    /** Decodes the one block at {@code block} to floats at {@code out}; offsets already checked. */
    abstract void decodeBlock(MemorySegment src, long block, MemorySegment dst, long out);

    @Override
    public String toString() {
        return type + " decoder";
    }
}
