package dev.ferry.moe.quant;

import java.lang.foreign.MemorySegment;

/**
 * The packed sub-block scales of the K-quants, for kernels that read them directly. Offsets are
 * byte offsets of the 12-byte scales field inside a block.
 */
public final class KQuantScales {
    private KQuantScales() {
    }

    /**
     * Q4_K / Q5_K: the 6-bit scale of sub-block {@code j} (0..7). Sub-blocks 0-3 keep theirs in the
     * low six bits of bytes 0-3; 4-7 combine a nibble of bytes 8-11 with the top two bits of bytes 0-3.
     */
    public static int k4Scale(MemorySegment s, long scales, int j) {
        if (j < 4) {
            return Bytes.u8(s, scales + j) & 63;
        }
        return (Bytes.u8(s, scales + j + 4) & 0xF) | ((Bytes.u8(s, scales + j - 4) >>> 6) << 4);
    }

    /** Q4_K / Q5_K: the 6-bit min of sub-block {@code j} (0..7), packed like {@link #k4Scale}. */
    public static int k4Min(MemorySegment s, long scales, int j) {
        if (j < 4) {
            return Bytes.u8(s, scales + j + 4) & 63;
        }
        return (Bytes.u8(s, scales + j + 4) >>> 4) | ((Bytes.u8(s, scales + j) >>> 6) << 4);
    }

    /**
     * Q3_K: the signed scale (-32..31) of 16-value sub-block {@code i} (0..15): a nibble of bytes
     * 0-7 (low nibbles for 0-7, high for 8-15) plus two bits of bytes 8-11, minus 32.
     */
    public static int k3Scale(MemorySegment s, long scales, int i) {
        int low = i < 8 ? Bytes.u8(s, scales + i) & 0xF : Bytes.u8(s, scales + i - 8) >>> 4;
        int high = (Bytes.u8(s, scales + 8 + (i & 3)) >>> (2 * (i >>> 2))) & 3;
        return (low | (high << 4)) - 32;
    }
}
