package dev.ferry.moe.quant;

import static dev.ferry.moe.quant.Bytes.f32;
import static dev.ferry.moe.quant.Bytes.putF32;
import static dev.ferry.moe.quant.Bytes.putI16;
import static dev.ferry.moe.quant.Bytes.putU8;

import dev.ferry.loader.GgmlType;
import java.lang.foreign.MemorySegment;

/** The 8-bit formats llama.cpp quantizes activations to before integer dot products. */
final class Q8Encoders {
    private Q8Encoders() {
    }

    /** Largest |x| over {@code count} floats at {@code in}. */
    private static float absMax(MemorySegment src, long in, int count) {
        float amax = 0.0f;
        for (int j = 0; j < count; j++) {
            amax = Math.max(amax, Math.abs(f32(src, in + j * 4L)));
        }
        return amax;
    }

    /**
     * Writes the 32 quants of a Q8_0/Q8_1 block at {@code qs} and returns their sum; d = amax/127
     * is the caller's to store.
     */
    private static int quantize32(MemorySegment src, long in, MemorySegment dst, long qs, float amax, Q8Rounding rounding) {
        int sum = 0;
        if (rounding == Q8Rounding.REFERENCE) {
            float d = amax / 127.0f;
            float id = d != 0.0f ? 1.0f / d : 0.0f;
            for (int j = 0; j < 32; j++) {
                int q = Rounding.roundHalfAway(f32(src, in + j * 4L) * id);
                putU8(dst, qs + j, q);
                sum += q;
            }
        } else {
            float id = amax != 0.0f ? 127.0f / amax : 0.0f;
            for (int j = 0; j < 32; j++) {
                int q = Rounding.roundHalfEven(f32(src, in + j * 4L) * id);
                putU8(dst, qs + j, q);
                sum += q;
            }
        }
        return sum;
    }

    /** d (F16), qs[32]. */
    static final class Q8_0 extends AbstractBlockEncoder {
        private final Q8Rounding rounding;

        Q8_0(Q8Rounding rounding) {
            super(GgmlType.Q8_0);
            this.rounding = rounding;
        }

        @Override
        void encodeBlock(MemorySegment src, long in, MemorySegment dst, long block, int[] scratch) {
            float amax = absMax(src, in, 32);
            putI16(dst, block, HalfFloats.floatToHalf(amax / 127.0f));
            quantize32(src, in, dst, block + 2, amax, rounding);
        }

        @Override
        public String toString() {
            return "Q8_0 encoder (" + rounding + ")";
        }
    }

    /** d (F16), s = d * sum(qs) (F16), qs[32]; the stored sum lets Q4_1/Q5_1 dots apply their offset. */
    static final class Q8_1 extends AbstractBlockEncoder {
        private final Q8Rounding rounding;

        Q8_1(Q8Rounding rounding) {
            super(GgmlType.Q8_1);
            this.rounding = rounding;
        }

        @Override
        void encodeBlock(MemorySegment src, long in, MemorySegment dst, long block, int[] scratch) {
            float amax = absMax(src, in, 32);
            float d = amax / 127.0f;
            int sum = quantize32(src, in, dst, block + 4, amax, rounding);
            putI16(dst, block, HalfFloats.floatToHalf(d));
            putI16(dst, block + 2, HalfFloats.floatToHalf(sum * d));
        }

        @Override
        public String toString() {
            return "Q8_1 encoder (" + rounding + ")";
        }
    }

    /**
     * ggml's {@code quantize_row_q8_K_ref} (x86 uses it too): d (float32), qs[256], bsums[16]
     * (sum of each 16 quants). The value with the largest magnitude maps to -127 exactly.
     */
    static final class Q8_K extends AbstractBlockEncoder {
        /** Byte offset of the float32 scale in a Q8_K block. */
        static final int D_OFFSET = 0;
        /** Byte offset of the 256 int8 quants. */
        static final int QS_OFFSET = 4;
        /** Byte offset of the 16 int16 sums of 16 quants each. */
        static final int BSUMS_OFFSET = 260;

        Q8_K() {
            super(GgmlType.Q8_K);
        }

        @Override
        void encodeBlock(MemorySegment src, long in, MemorySegment dst, long block, int[] scratch) {
            float max = 0.0f;
            float amax = 0.0f;
            for (int j = 0; j < 256; j++) {
                float x = f32(src, in + j * 4L);
                float ax = Math.abs(x);
                if (ax > amax) {
                    amax = ax;
                    max = x;
                }
            }
            if (amax == 0.0f) {
                dst.asSlice(block, GgmlType.Q8_K.blockBytes()).fill((byte) 0);
                return;
            }
            float iscale = -127.0f / max;
            for (int g = 0; g < 16; g++) {
                int sum = 0;
                for (int j = g * 16; j < g * 16 + 16; j++) {
                    int q = Math.min(127, Rounding.nearestInt(iscale * f32(src, in + j * 4L)));
                    putU8(dst, block + QS_OFFSET + j, q);
                    sum += q;
                }
                putI16(dst, block + BSUMS_OFFSET + g * 2L, sum);
            }
            putF32(dst, block + D_OFFSET, 1.0f / iscale);
        }
    }
}
