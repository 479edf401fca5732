package dev.ferry.moe.quant;

import dev.ferry.loader.GgmlType;
import java.lang.foreign.MemorySegment;

/** Validates the row once, then encodes it block by block with one scratch array per row. */
abstract sealed class AbstractBlockEncoder implements BlockEncoder
        permits FloatEncoders.F32, FloatEncoders.F16, FloatEncoders.BF16,
        Q8Encoders.Q8_0, Q8Encoders.Q8_1, Q8Encoders.Q8_K,
        WeightEncoders.Q4_0, WeightEncoders.KQuant, WeightEncoders.Q6_K {
    private static final int[] NO_SCRATCH = new int[0];

    private final GgmlType type;

    AbstractBlockEncoder(GgmlType type) {
        this.type = type;
    }

    @Override
    public final GgmlType type() {
        return type;
    }

    @Override
    public final void encodeRow(MemorySegment src, long srcByteOffset, MemorySegment dst, long dstByteOffset, long n) {
        long blocks = Bytes.checkRow(type, dst, dstByteOffset, src, srcByteOffset, n);
        int scratchInts = scratchInts();
        int[] scratch = scratchInts == 0 ? NO_SCRATCH : new int[scratchInts];
        long blockBytes = type.blockBytes();
        long blockFloatBytes = (long) type.blockSize() * Float.BYTES;
        for (long b = 0; b < blocks; b++) {
            encodeBlock(src, srcByteOffset + b * blockFloatBytes, dst, dstByteOffset + b * blockBytes, scratch);
        }
    }

    /** Ints of scratch space {@link #encodeBlock} needs (reused across the blocks of a row). */
    int scratchInts() {
        return 0;
    }

    /** Encodes the floats at {@code in} into the block at {@code block}; offsets already checked. */
    abstract void encodeBlock(MemorySegment src, long in, MemorySegment dst, long block, int[] scratch);

    @Override
    public String toString() {
        return type + " encoder";
    }
}
