package dev.ferry.moe.quant;

import static dev.ferry.moe.quant.Bytes.half;
import static dev.ferry.moe.quant.Bytes.i8;
import static dev.ferry.moe.quant.Bytes.putF32;
import static dev.ferry.moe.quant.Bytes.u8;

import dev.ferry.loader.GgmlType;
import java.lang.foreign.MemorySegment;

/**
 * The 256-value super-block K-quants. Each product is rounded exactly where ggml's C code rounds
 * it (sub-block scale = d * sc first, then value = scale * q - min), with no fused multiply-add.
 */
final class KQuantDecoders {
    private KQuantDecoders() {
    }

    /** scales[16] (low nibble scale, high nibble min), qs[64] (2 bits), d, dmin. */
    static final class Q2_K extends AbstractBlockDecoder {
        Q2_K() {
            super(GgmlType.Q2_K);
        }

        @Override
        void decodeBlock(MemorySegment src, long block, MemorySegment dst, long out) {
            float d = half(src, block + 80);
            float dmin = half(src, block + 82);
            long qs = block + 16;
            for (int n = 0; n < 2; n++) {
                for (int j = 0; j < 4; j++) {
                    int shift = 2 * j;
                    for (int h = 0; h < 2; h++) {
                        int sc = u8(src, block + n * 8 + j * 2 + h);
                        float dl = d * (sc & 0xF);
                        float ml = dmin * (sc >>> 4);
                        long y = out + (n * 128L + j * 32 + h * 16) * 4;
                        long q = qs + n * 32 + h * 16;
                        for (int l = 0; l < 16; l++) {
                            putF32(dst, y + l * 4L, dl * ((u8(src, q + l) >>> shift) & 3) - ml);
                        }
                    }
                }
            }
        }
    }

    /** hmask[32] (third bit, set means no -4 offset), qs[64] (2 bits), scales[12] (6 bits), d. */
    static final class Q3_K extends AbstractBlockDecoder {
        Q3_K() {
            super(GgmlType.Q3_K);
        }

        @Override
        void decodeBlock(MemorySegment src, long block, MemorySegment dst, long out) {
            float d = half(src, block + 108);
            long hmask = block;
            long qs = block + 32;
            long scales = block + 96;
            for (int n = 0; n < 2; n++) {
                for (int j = 0; j < 4; j++) {
                    int shift = 2 * j;
                    int maskBit = 4 * n + j;
                    for (int h = 0; h < 2; h++) {
                        float dl = d * KQuantScales.k3Scale(src, scales, n * 8 + j * 2 + h);
                        long y = out + (n * 128L + j * 32 + h * 16) * 4;
                        for (int l = 0; l < 16; l++) {
                            int idx = h * 16 + l;
                            int low = (u8(src, qs + n * 32 + idx) >>> shift) & 3;
                            int high = (u8(src, hmask + idx) >>> maskBit) & 1;
                            putF32(dst, y + l * 4L, dl * (low - (high != 0 ? 0 : 4)));
                        }
                    }
                }
            }
        }
    }

    /** d, dmin, scales[12] (6-bit scale and min per 32 values), qs[128] (4 bits). */
    static final class Q4_K extends AbstractBlockDecoder {
        Q4_K() {
            super(GgmlType.Q4_K);
        }

        @Override
        void decodeBlock(MemorySegment src, long block, MemorySegment dst, long out) {
            float d = half(src, block);
            float dmin = half(src, block + 2);
            long scales = block + 4;
            long qs = block + 16;
            for (int j = 0; j < 4; j++) {
                float d1 = d * KQuantScales.k4Scale(src, scales, 2 * j);
                float m1 = dmin * KQuantScales.k4Min(src, scales, 2 * j);
                float d2 = d * KQuantScales.k4Scale(src, scales, 2 * j + 1);
                float m2 = dmin * KQuantScales.k4Min(src, scales, 2 * j + 1);
                long y = out + j * 64L * 4;
                for (int l = 0; l < 32; l++) {
                    int q = u8(src, qs + j * 32 + l);
                    putF32(dst, y + l * 4L, d1 * (q & 0xF) - m1);
                    putF32(dst, y + (l + 32) * 4L, d2 * (q >>> 4) - m2);
                }
            }
        }
    }

    /** d, dmin, scales[12], qh[32] (fifth bit, bit k for sub-block k), qs[128]. */
    static final class Q5_K extends AbstractBlockDecoder {
        Q5_K() {
            super(GgmlType.Q5_K);
        }

        @Override
        void decodeBlock(MemorySegment src, long block, MemorySegment dst, long out) {
            float d = half(src, block);
            float dmin = half(src, block + 2);
            long scales = block + 4;
            long qh = block + 16;
            long qs = block + 48;
            for (int j = 0; j < 4; j++) {
                float d1 = d * KQuantScales.k4Scale(src, scales, 2 * j);
                float m1 = dmin * KQuantScales.k4Min(src, scales, 2 * j);
                float d2 = d * KQuantScales.k4Scale(src, scales, 2 * j + 1);
                float m2 = dmin * KQuantScales.k4Min(src, scales, 2 * j + 1);
                long y = out + j * 64L * 4;
                for (int l = 0; l < 32; l++) {
                    int q = u8(src, qs + j * 32 + l);
                    int h = u8(src, qh + l);
                    int lo = (q & 0xF) | (((h >>> (2 * j)) & 1) << 4);
                    int hi = (q >>> 4) | (((h >>> (2 * j + 1)) & 1) << 4);
                    putF32(dst, y + l * 4L, d1 * lo - m1);
                    putF32(dst, y + (l + 32) * 4L, d2 * hi - m2);
                }
            }
        }
    }

    /** ql[128] (low 4 bits), qh[64] (high 2 bits), scales[16] (int8 per 16 values), d. */
    static final class Q6_K extends AbstractBlockDecoder {
        Q6_K() {
            super(GgmlType.Q6_K);
        }

        @Override
        void decodeBlock(MemorySegment src, long block, MemorySegment dst, long out) {
            float d = half(src, block + 208);
            for (int n = 0; n < 2; n++) {
                long ql = block + n * 64L;
                long qh = block + 128 + n * 32L;
                long sc = block + 192 + n * 8L;
                long y = out + n * 128L * 4;
                for (int part = 0; part < 2; part++) {
                    float s0 = d * i8(src, sc + part);
                    float s2 = d * i8(src, sc + part + 2);
                    float s4 = d * i8(src, sc + part + 4);
                    float s6 = d * i8(src, sc + part + 6);
                    for (int l = part * 16; l < part * 16 + 16; l++) {
                        int a = u8(src, ql + l);
                        int b = u8(src, ql + l + 32);
                        int h = u8(src, qh + l);
                        putF32(dst, y + l * 4L, s0 * (((a & 0xF) | ((h & 3) << 4)) - 32));
                        putF32(dst, y + (l + 32) * 4L, s2 * (((b & 0xF) | (((h >>> 2) & 3) << 4)) - 32));
                        putF32(dst, y + (l + 64) * 4L, s4 * (((a >>> 4) | (((h >>> 4) & 3) << 4)) - 32));
                        putF32(dst, y + (l + 96) * 4L, s6 * (((b >>> 4) | (((h >>> 6) & 3) << 4)) - 32));
                    }
                }
            }
        }
    }
}
