package dev.ferry.moe.quant;

import dev.ferry.loader.GgmlType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** Little-endian, unaligned access to ggml block fields, and row-range validation. */
final class Bytes {
    static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Bytes() {
    }

    static int u8(MemorySegment s, long offset) {
        return s.get(ValueLayout.JAVA_BYTE, offset) & 0xFF;
    }

    static int i8(MemorySegment s, long offset) {
        return s.get(ValueLayout.JAVA_BYTE, offset);
    }

    static int u16(MemorySegment s, long offset) {
        return s.get(LE_SHORT, offset) & 0xFFFF;
    }

    static int i32(MemorySegment s, long offset) {
        return s.get(LE_INT, offset);
    }

    /** An F16 field decoded to float. */
    static float half(MemorySegment s, long offset) {
        return HalfFloats.halfToFloat(s.get(LE_SHORT, offset));
    }

    static float f32(MemorySegment s, long offset) {
        return s.get(LE_FLOAT, offset);
    }

    static void putF32(MemorySegment s, long offset, float value) {
        s.set(LE_FLOAT, offset, value);
    }

    static void putU8(MemorySegment s, long offset, int value) {
        s.set(ValueLayout.JAVA_BYTE, offset, (byte) value);
    }

    static void putI16(MemorySegment s, long offset, int value) {
        s.set(LE_SHORT, offset, (short) value);
    }

    /**
     * Checks that {@code n} values of {@code type} fit at the given offsets and returns the number
     * of blocks; {@code packed} is the segment holding blocks, {@code floats} the one holding f32.
     */
    static long checkRow(GgmlType type, MemorySegment packed, long packedByteOffset,
                         MemorySegment floats, long floatByteOffset, long n) {
        int blockSize = type.blockSize();
        if (n < 0 || n % blockSize != 0) {
            throw new IllegalArgumentException(
                    type + " rows hold whole blocks of " + blockSize + " values, got n=" + n);
        }
        long blocks = n / blockSize;
        long packedBytes = blocks * type.blockBytes();
        if (packedByteOffset < 0 || packedByteOffset > packed.byteSize() - packedBytes) {
            throw new IllegalArgumentException(type + " row of " + n + " values needs " + packedBytes
                    + " bytes at offset " + packedByteOffset + ", segment holds " + packed.byteSize());
        }
        long floatBytes = n * Float.BYTES;
        if (floatByteOffset < 0 || floatByteOffset > floats.byteSize() - floatBytes) {
            throw new IllegalArgumentException("float row of " + n + " values needs " + floatBytes
                    + " bytes at offset " + floatByteOffset + ", segment holds " + floats.byteSize());
        }
        return blocks;
    }
}
