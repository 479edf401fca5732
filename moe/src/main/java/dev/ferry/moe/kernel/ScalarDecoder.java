package dev.ferry.moe.kernel;

import dev.ferry.loader.GgmlType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Straightforward block decoders (one value at a time) for every supported ggml type, following
 * ggml's reference {@code dequantize_row_*} arithmetic so the values are bit-exact. Used by the
 * generic kernel path and as the reference in tests.
 */
final class ScalarDecoder {

    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;

    /** IQ4_NL / IQ4_XS non-linear 4-bit code book. */
    static final byte[] IQ4_VALUES = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};
    /** MXFP4 (e2m1) values, doubled so they are integers; the block scale is halved to match. */
    static final byte[] MXFP4_VALUES = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

    private ScalarDecoder() {
    }

    static float f16(MemorySegment s, long offset) {
        return Float.float16ToFloat(s.get(SHORT, offset));
    }

    private static int u8(MemorySegment s, long offset) {
        return s.get(ValueLayout.JAVA_BYTE, offset) & 0xFF;
    }

    private static int s8(MemorySegment s, long offset) {
        return s.get(ValueLayout.JAVA_BYTE, offset);
    }

    /** ggml's E8M0 exponent to float, halved (GGML_E8M0_TO_FP32_HALF). */
    static float e8m0Half(int e) {
        int bits = e < 2 ? 0x00200000 << e : (e - 1) << 23;
        return Float.intBitsToFloat(bits);
    }

    /**
     * Decodes {@code cols} values (whole blocks) starting at byte {@code src} into floats at
     * float index {@code dstIndex} of {@code dst}.
     */
    static void decodeRow(GgmlType type, MemorySegment w, long src, long cols, MemorySegment dst, long dstIndex) {
        int bs = type.blockSize();
        int bb = type.blockBytes();
        long blocks = cols / bs;
        for (long b = 0; b < blocks; b++) {
            decodeBlock(type, w, src + b * bb, dst, dstIndex + b * bs);
        }
    }

    static void decodeBlock(GgmlType type, MemorySegment w, long o, MemorySegment dst, long di) {
        switch (type) {
            case F32 -> dst.setAtIndex(FLOAT, di, w.get(FLOAT, o));
            case F16 -> dst.setAtIndex(FLOAT, di, f16(w, o));
            case BF16 -> dst.setAtIndex(FLOAT, di, Float.intBitsToFloat((w.get(SHORT, o) & 0xFFFF) << 16));
            case Q8_0 -> {
                float d = f16(w, o);
                for (int j = 0; j < 32; j++) {
                    dst.setAtIndex(FLOAT, di + j, s8(w, o + 2 + j) * d);
                }
            }
            case Q4_0 -> {
                float d = f16(w, o);
                for (int j = 0; j < 16; j++) {
                    int q = u8(w, o + 2 + j);
                    dst.setAtIndex(FLOAT, di + j, ((q & 0xF) - 8) * d);
                    dst.setAtIndex(FLOAT, di + j + 16, ((q >> 4) - 8) * d);
                }
            }
            case Q4_1 -> {
                float d = f16(w, o);
                float m = f16(w, o + 2);
                for (int j = 0; j < 16; j++) {
                    int q = u8(w, o + 4 + j);
                    dst.setAtIndex(FLOAT, di + j, (q & 0xF) * d + m);
                    dst.setAtIndex(FLOAT, di + j + 16, (q >> 4) * d + m);
                }
            }
            case Q5_0 -> {
                float d = f16(w, o);
                int qh = w.get(ValueLayout.JAVA_INT_UNALIGNED, o + 2);
                for (int j = 0; j < 16; j++) {
                    int q = u8(w, o + 6 + j);
                    int h0 = ((qh >>> j) << 4) & 0x10;
                    int h1 = (qh >>> (j + 12)) & 0x10;
                    dst.setAtIndex(FLOAT, di + j, (((q & 0xF) | h0) - 16) * d);
                    dst.setAtIndex(FLOAT, di + j + 16, (((q >> 4) | h1) - 16) * d);
                }
            }
            case Q5_1 -> {
                float d = f16(w, o);
                float m = f16(w, o + 2);
                int qh = w.get(ValueLayout.JAVA_INT_UNALIGNED, o + 4);
                for (int j = 0; j < 16; j++) {
                    int q = u8(w, o + 8 + j);
                    int h0 = ((qh >>> j) << 4) & 0x10;
                    int h1 = (qh >>> (j + 12)) & 0x10;
                    dst.setAtIndex(FLOAT, di + j, ((q & 0xF) | h0) * d + m);
                    dst.setAtIndex(FLOAT, di + j + 16, ((q >> 4) | h1) * d + m);
                }
            }
            case IQ4_NL -> {
                float d = f16(w, o);
                for (int j = 0; j < 16; j++) {
                    int q = u8(w, o + 2 + j);
                    dst.setAtIndex(FLOAT, di + j, d * IQ4_VALUES[q & 0xF]);
                    dst.setAtIndex(FLOAT, di + j + 16, d * IQ4_VALUES[q >> 4]);
                }
            }
            case MXFP4 -> {
                float d = e8m0Half(u8(w, o));
                for (int j = 0; j < 16; j++) {
                    int q = u8(w, o + 1 + j);
                    dst.setAtIndex(FLOAT, di + j, MXFP4_VALUES[q & 0xF] * d);
                    dst.setAtIndex(FLOAT, di + j + 16, MXFP4_VALUES[q >> 4] * d);
                }
            }
            case Q2_K -> decodeQ2K(w, o, dst, di);
            case Q3_K -> decodeQ3K(w, o, dst, di);
            case Q4_K -> decodeQ4K(w, o, dst, di);
            case Q5_K -> decodeQ5K(w, o, dst, di);
            case Q6_K -> decodeQ6K(w, o, dst, di);
            case IQ4_XS -> decodeIq4Xs(w, o, dst, di);
            default -> throw new IllegalArgumentException("ggml type " + type + " is not supported by the CPU kernels");
        }
    }

    private static void decodeQ2K(MemorySegment w, long o, MemorySegment dst, long di) {
        // scales[16] @0, qs[64] @16, d @80, dmin @82
        float d = f16(w, o + 80);
        float min = f16(w, o + 82);
        int is = 0;
        long y = di;
        for (int n = 0; n < 2; n++) {
            long q = o + 16 + 32L * n;
            for (int shift = 0; shift < 8; shift += 2) {
                for (int half = 0; half < 2; half++) {
                    int sc = u8(w, o + is++);
                    float dl = d * (sc & 0xF);
                    float ml = min * (sc >> 4);
                    for (int l = 0; l < 16; l++) {
                        dst.setAtIndex(FLOAT, y++, dl * ((u8(w, q + 16L * half + l) >> shift) & 3) - ml);
                    }
                }
            }
        }
    }

    /** Q3_K's sixteen 6-bit scales (biased by 32), unpacked from its 12 scale bytes at {@code s}. */
    static int q3kScale(MemorySegment w, long s, int j) {
        int low = j < 8 ? u8(w, s + j) & 0xF : u8(w, s + j - 8) >> 4;
        int high = (u8(w, s + 8 + (j & 3)) >> (2 * (j >> 2))) & 3;
        return (low | high << 4) - 32;
    }

    private static void decodeQ3K(MemorySegment w, long o, MemorySegment dst, long di) {
        // hmask[32] @0, qs[64] @32, scales[12] @96, d @108
        float dAll = f16(w, o + 108);
        int is = 0;
        int m = 1;
        long y = di;
        for (int n = 0; n < 2; n++) {
            long q = o + 32 + 32L * n;
            for (int shift = 0; shift < 8; shift += 2) {
                for (int half = 0; half < 2; half++) {
                    float dl = dAll * q3kScale(w, o + 96, is++);
                    for (int l = 0; l < 16; l++) {
                        int li = 16 * half + l;
                        int v = ((u8(w, q + li) >> shift) & 3) - ((u8(w, o + li) & m) != 0 ? 0 : 4);
                        dst.setAtIndex(FLOAT, y++, dl * v);
                    }
                }
                m <<= 1;
            }
        }
    }

    /** Q4_K/Q5_K 6-bit scale {@code j} (0..7) from the 12 scale bytes at {@code s}. */
    static int kScale(MemorySegment w, long s, int j) {
        return j < 4 ? u8(w, s + j) & 63 : (u8(w, s + j + 4) & 0xF) | ((u8(w, s + j - 4) >> 6) << 4);
    }

    /** Q4_K/Q5_K 6-bit minimum {@code j} (0..7) from the 12 scale bytes at {@code s}. */
    static int kMin(MemorySegment w, long s, int j) {
        return j < 4 ? u8(w, s + j + 4) & 63 : (u8(w, s + j + 4) >> 4) | ((u8(w, s + j) >> 6) << 4);
    }

    private static void decodeQ4K(MemorySegment w, long o, MemorySegment dst, long di) {
        // d @0, dmin @2, scales[12] @4, qs[128] @16
        float d = f16(w, o);
        float min = f16(w, o + 2);
        for (int p = 0; p < 4; p++) {
            float d1 = d * kScale(w, o + 4, 2 * p);
            float m1 = min * kMin(w, o + 4, 2 * p);
            float d2 = d * kScale(w, o + 4, 2 * p + 1);
            float m2 = min * kMin(w, o + 4, 2 * p + 1);
            long q = o + 16 + 32L * p;
            long y = di + 64L * p;
            for (int l = 0; l < 32; l++) {
                int v = u8(w, q + l);
                dst.setAtIndex(FLOAT, y + l, d1 * (v & 0xF) - m1);
                dst.setAtIndex(FLOAT, y + 32 + l, d2 * (v >> 4) - m2);
            }
        }
    }

    private static void decodeQ5K(MemorySegment w, long o, MemorySegment dst, long di) {
        // d @0, dmin @2, scales[12] @4, qh[32] @16, qs[128] @48
        float d = f16(w, o);
        float min = f16(w, o + 2);
        for (int p = 0; p < 4; p++) {
            float d1 = d * kScale(w, o + 4, 2 * p);
            float m1 = min * kMin(w, o + 4, 2 * p);
            float d2 = d * kScale(w, o + 4, 2 * p + 1);
            float m2 = min * kMin(w, o + 4, 2 * p + 1);
            long q = o + 48 + 32L * p;
            long y = di + 64L * p;
            for (int l = 0; l < 32; l++) {
                int v = u8(w, q + l);
                int h = u8(w, o + 16 + l);
                int lo = (v & 0xF) + (((h >> (2 * p)) & 1) << 4);
                int hi = (v >> 4) + (((h >> (2 * p + 1)) & 1) << 4);
                dst.setAtIndex(FLOAT, y + l, d1 * lo - m1);
                dst.setAtIndex(FLOAT, y + 32 + l, d2 * hi - m2);
            }
        }
    }

    private static void decodeQ6K(MemorySegment w, long o, MemorySegment dst, long di) {
        // ql[128] @0, qh[64] @128, scales[16] (int8) @192, d @208
        float d = f16(w, o + 208);
        for (int n = 0; n < 2; n++) {
            long ql = o + 64L * n;
            long qh = o + 128 + 32L * n;
            long sc = o + 192 + 8L * n;
            long y = di + 128L * n;
            for (int l = 0; l < 32; l++) {
                int is = l / 16;
                int a = u8(w, ql + l);
                int b = u8(w, ql + l + 32);
                int h = u8(w, qh + l);
                int q1 = ((a & 0xF) | ((h & 3) << 4)) - 32;
                int q2 = ((b & 0xF) | (((h >> 2) & 3) << 4)) - 32;
                int q3 = ((a >> 4) | (((h >> 4) & 3) << 4)) - 32;
                int q4 = ((b >> 4) | (((h >> 6) & 3) << 4)) - 32;
                dst.setAtIndex(FLOAT, y + l, d * s8(w, sc + is) * q1);
                dst.setAtIndex(FLOAT, y + l + 32, d * s8(w, sc + is + 2) * q2);
                dst.setAtIndex(FLOAT, y + l + 64, d * s8(w, sc + is + 4) * q3);
                dst.setAtIndex(FLOAT, y + l + 96, d * s8(w, sc + is + 6) * q4);
            }
        }
    }

    private static void decodeIq4Xs(MemorySegment w, long o, MemorySegment dst, long di) {
        // d @0, scales_h (u16) @2, scales_l[4] @4, qs[128] @8
        float d = f16(w, o);
        int scalesH = w.get(SHORT, o + 2) & 0xFFFF;
        for (int ib = 0; ib < 8; ib++) {
            int ls = ((u8(w, o + 4 + ib / 2) >> (4 * (ib % 2))) & 0xF) | (((scalesH >> (2 * ib)) & 3) << 4);
            float dl = d * (ls - 32);
            long q = o + 8 + 16L * ib;
            long y = di + 32L * ib;
            for (int j = 0; j < 16; j++) {
                int v = u8(w, q + j);
                dst.setAtIndex(FLOAT, y + j, dl * IQ4_VALUES[v & 0xF]);
                dst.setAtIndex(FLOAT, y + j + 16, dl * IQ4_VALUES[v >> 4]);
            }
        }
    }
}
