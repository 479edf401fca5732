package dev.ferry.moe.quant;

import static dev.ferry.moe.quant.Bytes.half;
import static dev.ferry.moe.quant.Bytes.putF32;
import static dev.ferry.moe.quant.Bytes.u16;
import static dev.ferry.moe.quant.Bytes.u8;

import dev.ferry.loader.GgmlType;
import java.lang.foreign.MemorySegment;

/**
 * Types whose 4-bit (or ternary) codes index a fixed table of values: the non-linear IQ4 types,
 * the FP4 microscaling types (MXFP4, NVFP4) and the ternary TQ types.
 */
final class LookupDecoders {
    private LookupDecoders() {
    }

    /** d (F16), qs[16]; codes index {@link CodeBooks#iq4}. */
    static final class IQ4_NL extends AbstractBlockDecoder {
        IQ4_NL() {
            super(GgmlType.IQ4_NL);
        }

        @Override
        void decodeBlock(MemorySegment src, long block, MemorySegment dst, long out) {
            float d = half(src, block);
            for (int j = 0; j < 16; j++) {
                int q = u8(src, block + 2 + j);
                putF32(dst, out + j * 4L, d * CodeBooks.iq4(q & 0xF));
                putF32(dst, out + (j + 16) * 4L, d * CodeBooks.iq4(q >>> 4));
            }
        }
    }

    /** d (F16), scales_h (u16, 2 bits per sub-block), scales_l[4] (nibbles), qs[128]. */
    static final class IQ4_XS extends AbstractBlockDecoder {
        IQ4_XS() {
            super(GgmlType.IQ4_XS);
        }

        @Override
        void decodeBlock(MemorySegment src, long block, MemorySegment dst, long out) {
            float d = half(src, block);
            int scalesHigh = u16(src, block + 2);
            for (int ib = 0; ib < 8; ib++) {
                int low = (u8(src, block + 4 + ib / 2) >>> (4 * (ib % 2))) & 0xF;
                int high = (scalesHigh >>> (2 * ib)) & 3;
                float dl = d * ((low | (high << 4)) - 32);
                long qs = block + 8 + ib * 16L;
                long y = out + ib * 32L * 4;
                for (int j = 0; j < 16; j++) {
                    int q = u8(src, qs + j);
                    putF32(dst, y + j * 4L, dl * CodeBooks.iq4(q & 0xF));
                    putF32(dst, y + (j + 16) * 4L, dl * CodeBooks.iq4(q >>> 4));
                }
            }
        }
    }

    /** e (E8M0 exponent byte), qs[16]; codes index {@link CodeBooks#fp4Doubled}. */
    static final class MXFP4 extends AbstractBlockDecoder {
        MXFP4() {
            super(GgmlType.MXFP4);
        }

        @Override
        void decodeBlock(MemorySegment src, long block, MemorySegment dst, long out) {
            float d = CodeBooks.e8m0Half(u8(src, block));
            for (int j = 0; j < 16; j++) {
                int q = u8(src, block + 1 + j);
                putF32(dst, out + j * 4L, d * CodeBooks.fp4Doubled(q & 0xF));
                putF32(dst, out + (j + 16) * 4L, d * CodeBooks.fp4Doubled(q >>> 4));
            }
        }
    }

    /** scales[4] (UE4M3, one per 16 values), qs[32]: per 16 values, 8 low nibbles then 8 high. */
    static final class NVFP4 extends AbstractBlockDecoder {
        NVFP4() {
            super(GgmlType.NVFP4);
        }

        @Override
        void decodeBlock(MemorySegment src, long block, MemorySegment dst, long out) {
            for (int s = 0; s < 4; s++) {
                float d = CodeBooks.ue4m3Half(u8(src, block + s));
                long qs = block + 4 + s * 8L;
                long y = out + s * 16L * 4;
                for (int j = 0; j < 8; j++) {
                    int q = u8(src, qs + j);
                    putF32(dst, y + j * 4L, d * CodeBooks.fp4Doubled(q & 0xF));
                    putF32(dst, y + (j + 8) * 4L, d * CodeBooks.fp4Doubled(q >>> 4));
                }
            }
        }
    }

    /**
     * qs[48] and qh[4] hold five (four) base-3 digits per byte as a fixed-point fraction, d. Digit
     * k of byte b is recovered as ((b * 3^k mod 256) * 3) >> 8.
     */
    static final class TQ1_0 extends AbstractBlockDecoder {
        private static final int[] POWERS_OF_THREE = {1, 3, 9, 27, 81};

        TQ1_0() {
            super(GgmlType.TQ1_0);
        }

        @Override
        void decodeBlock(MemorySegment src, long block, MemorySegment dst, long out) {
            float d = half(src, block + 52);
            decodeDigits(src, block, 32, 5, d, dst, out);
            decodeDigits(src, block + 32, 16, 5, d, dst, out + 160 * 4);
            decodeDigits(src, block + 48, 4, 4, d, dst, out + 240 * 4);
        }

        private static void decodeDigits(MemorySegment src, long bytes, int count, int digits, float d,
                                         MemorySegment dst, long out) {
            for (int k = 0; k < digits; k++) {
                for (int l = 0; l < count; l++) {
                    int shifted = (u8(src, bytes + l) * POWERS_OF_THREE[k]) & 0xFF;
                    int q = ((shifted * 3) >>> 8) - 1;
                    putF32(dst, out + ((long) k * count + l) * 4, d * q);
                }
            }
        }
    }

    /** qs[64] (2 bits per value, value = code - 1), d. */
    static final class TQ2_0 extends AbstractBlockDecoder {
        TQ2_0() {
            super(GgmlType.TQ2_0);
        }

        @Override
        void decodeBlock(MemorySegment src, long block, MemorySegment dst, long out) {
            float d = half(src, block + 64);
            for (int c = 0; c < 2; c++) {
                for (int s = 0; s < 4; s++) {
                    long y = out + (c * 128L + s * 32) * 4;
                    for (int l = 0; l < 32; l++) {
                        int q = ((u8(src, block + c * 32 + l) >>> (2 * s)) & 3) - 1;
                        putF32(dst, y + l * 4L, d * q);
                    }
                }
            }
        }
    }
}
