package dev.ferry.moe.quant;

import static dev.ferry.moe.quant.Bytes.f32;
import static dev.ferry.moe.quant.Bytes.putI16;
import static dev.ferry.moe.quant.Bytes.putU8;
import static dev.ferry.moe.quant.Bytes.u8;

import dev.ferry.loader.GgmlType;
import java.lang.foreign.MemorySegment;

/**
 * Weight quantizers for writing synthetic models and for tests. Q4_0 follows ggml's reference
 * exactly; Q4_K, Q5_K and Q6_K use ggml's block layouts and scale quantization but pick each sub-block's
 * scale directly from its range instead of ggml's iterative search, so their blocks are valid and
 * decode close to the input but are not byte-identical to llama-quantize's.
 */
final class WeightEncoders {
    private WeightEncoders() {
    }

    /**
     * ggml's {@code quantize_row_q4_0_ref}: d = (value of largest magnitude) / -8, q = trunc(x / d +
     * 8.5) capped at 15. The product and the add round once, as in an FMA-contracted x86-64 build.
     */
    static final class Q4_0 extends AbstractBlockEncoder {
        Q4_0() {
            super(GgmlType.Q4_0);
        }

        @Override
        void encodeBlock(MemorySegment src, long in, MemorySegment dst, long block, int[] scratch) {
            float amax = 0.0f;
            float max = 0.0f;
            for (int j = 0; j < 32; j++) {
                float v = f32(src, in + j * 4L);
                if (amax < Math.abs(v)) {
                    amax = Math.abs(v);
                    max = v;
                }
            }
            float d = max / -8.0f;
            float id = d != 0.0f ? 1.0f / d : 0.0f;
            putI16(dst, block, HalfFloats.floatToHalf(d));
            for (int j = 0; j < 16; j++) {
                int lo = Math.min(15, (byte) (int) Math.fma(f32(src, in + j * 4L), id, 8.5f));
                int hi = Math.min(15, (byte) (int) Math.fma(f32(src, in + (j + 16) * 4L), id, 8.5f));
                putU8(dst, block + 2 + j, lo | (hi << 4));
            }
        }
    }

    /**
     * Q4_K and Q5_K: per 32 values, scale = (max - min) / top (15 or 31 quant levels) and offset
     * = -min (min capped at 0), both quantized to 6 bits against the super-block's largest, then
     * every value re-quantized with the scale and offset the decoder will actually see. Both
     * blocks start with d, dmin and the same 12 packed scale bytes; the subclasses store the quants.
     */
    abstract static sealed class KQuant extends AbstractBlockEncoder permits Q4_K, Q5_K {
        private final int top;

        KQuant(GgmlType type, int top) {
            super(type);
            this.top = top;
        }

        @Override
        int scratchInts() {
            // 6-bit scales and mins of the 8 sub-blocks, then their float scales and offsets (raw bits)
            return 32;
        }

        @Override
        void encodeBlock(MemorySegment src, long in, MemorySegment dst, long block, int[] levels) {
            float maxScale = 0.0f;
            float maxOffset = 0.0f;
            for (int j = 0; j < 8; j++) {
                float lo = Float.POSITIVE_INFINITY;
                float hi = Float.NEGATIVE_INFINITY;
                for (int l = 0; l < 32; l++) {
                    float x = f32(src, in + (j * 32L + l) * 4);
                    lo = Math.min(lo, x);
                    hi = Math.max(hi, x);
                }
                lo = Math.min(lo, 0.0f);
                float scale = (hi - lo) / top;
                levels[16 + j] = Float.floatToRawIntBits(scale);
                levels[24 + j] = Float.floatToRawIntBits(-lo);
                maxScale = Math.max(maxScale, scale);
                maxOffset = Math.max(maxOffset, -lo);
            }
            float invScale = maxScale > 0 ? 63.0f / maxScale : 0.0f;
            float invOffset = maxOffset > 0 ? 63.0f / maxOffset : 0.0f;
            for (int j = 0; j < 8; j++) {
                levels[j] = Math.min(63, Rounding.nearestInt(invScale * Float.intBitsToFloat(levels[16 + j])));
                levels[8 + j] = Math.min(63, Rounding.nearestInt(invOffset * Float.intBitsToFloat(levels[24 + j])));
            }
            short dBits = HalfFloats.floatToHalf(maxScale / 63.0f);
            short dminBits = HalfFloats.floatToHalf(maxOffset / 63.0f);
            putI16(dst, block, dBits);
            putI16(dst, block + 2, dminBits);
            long scales = block + 4;
            for (int j = 0; j < 4; j++) {
                int ls = levels[j];
                int lm = levels[8 + j];
                int ls4 = levels[j + 4];
                int lm4 = levels[8 + j + 4];
                putU8(dst, scales + j, ls | ((ls4 >>> 4) << 6));
                putU8(dst, scales + j + 4, lm | ((lm4 >>> 4) << 6));
                putU8(dst, scales + j + 8, (ls4 & 0xF) | ((lm4 & 0xF) << 4));
            }
            float d = HalfFloats.halfToFloat(dBits);
            float dmin = HalfFloats.halfToFloat(dminBits);
            for (int j = 0; j < 4; j++) {
                float d1 = d * levels[2 * j];
                float m1 = dmin * levels[8 + 2 * j];
                float d2 = d * levels[2 * j + 1];
                float m2 = dmin * levels[8 + 2 * j + 1];
                for (int l = 0; l < 32; l++) {
                    int q1 = level(f32(src, in + (j * 64L + l) * 4), d1, m1);
                    int q2 = level(f32(src, in + (j * 64L + 32 + l) * 4), d2, m2);
                    putQuants(dst, block, j, l, q1, q2);
                }
            }
        }

        /** Stores quant {@code l} of sub-blocks 2j ({@code q1}) and 2j+1 ({@code q2}). */
        abstract void putQuants(MemorySegment dst, long block, int j, int l, int q1, int q2);

        private int level(float x, float scale, float offset) {
            if (scale == 0.0f) {
                return 0;
            }
            return Math.clamp(Rounding.nearestInt((x + offset) / scale), 0, top);
        }
    }

    /** Q4_K: the two sub-blocks' nibbles share a byte of the 128 quant bytes at 16. */
    static final class Q4_K extends KQuant {
        Q4_K() {
            super(GgmlType.Q4_K, 15);
        }

        @Override
        void putQuants(MemorySegment dst, long block, int j, int l, int q1, int q2) {
            putU8(dst, block + 16 + j * 32L + l, q1 | (q2 << 4));
        }
    }

    /**
     * Q5_K: the low nibbles as Q4_K's at byte 48; the fifth bits in the 32 high-bit bytes at 16, bit
     * 2j of byte l for sub-block 2j, bit 2j+1 for 2j+1.
     */
    static final class Q5_K extends KQuant {
        Q5_K() {
            super(GgmlType.Q5_K, 31);
        }

        @Override
        void putQuants(MemorySegment dst, long block, int j, int l, int q1, int q2) {
            putU8(dst, block + 48 + j * 32L + l, (q1 & 0xF) | ((q2 & 0xF) << 4));
            long h = block + 16 + l;
            int high = j == 0 ? 0 : u8(dst, h);
            putU8(dst, h, high | ((q1 >> 4) << (2 * j)) | ((q2 >> 4) << (2 * j + 1)));
        }
    }

    /**
     * Per 16 values: scale = (value of largest magnitude) / -32, quantized to int8 against the
     * super-block's largest (which maps to -128), then every value re-quantized to -32..31 with
     * the scale the decoder will see.
     */
    static final class Q6_K extends AbstractBlockEncoder {
        Q6_K() {
            super(GgmlType.Q6_K);
        }

        @Override
        int scratchInts() {
            return 256 + 16; // 6-bit levels (0..63), then the 16 int8 scales
        }

        @Override
        void encodeBlock(MemorySegment src, long in, MemorySegment dst, long block, int[] scratch) {
            float maxScale = 0.0f;
            float maxAbsScale = 0.0f;
            for (int j = 0; j < 16; j++) {
                float scale = signedMax(src, in + j * 64L) / -32.0f;
                if (Math.abs(scale) > maxAbsScale) {
                    maxAbsScale = Math.abs(scale);
                    maxScale = scale;
                }
            }
            if (maxAbsScale == 0.0f) {
                dst.asSlice(block, GgmlType.Q6_K.blockBytes()).fill((byte) 0);
                return;
            }
            float iscale = -128.0f / maxScale;
            short dBits = HalfFloats.floatToHalf(1.0f / iscale);
            float d = HalfFloats.halfToFloat(dBits);
            for (int j = 0; j < 16; j++) {
                float scale = signedMax(src, in + j * 64L) / -32.0f;
                int sc = Math.min(127, Rounding.nearestInt(iscale * scale));
                scratch[256 + j] = sc;
                float dl = d * sc;
                for (int l = 0; l < 16; l++) {
                    int q = 0;
                    if (dl != 0.0f) {
                        q = Math.clamp(Rounding.nearestInt(f32(src, in + (j * 16L + l) * 4) / dl), -32, 31);
                    }
                    scratch[j * 16 + l] = q + 32;
                }
            }
            for (int n = 0; n < 2; n++) {
                for (int l = 0; l < 32; l++) {
                    int q1 = scratch[n * 128 + l];
                    int q2 = scratch[n * 128 + l + 32];
                    int q3 = scratch[n * 128 + l + 64];
                    int q4 = scratch[n * 128 + l + 96];
                    putU8(dst, block + n * 64L + l, (q1 & 0xF) | ((q3 & 0xF) << 4));
                    putU8(dst, block + n * 64L + l + 32, (q2 & 0xF) | ((q4 & 0xF) << 4));
                    putU8(dst, block + 128 + n * 32L + l, (q1 >>> 4) | ((q2 >>> 4) << 2) | ((q3 >>> 4) << 4) | ((q4 >>> 4) << 6));
                }
            }
            for (int j = 0; j < 16; j++) {
                putU8(dst, block + 192 + j, scratch[256 + j]);
            }
            putI16(dst, block + 208, dBits);
        }

        /** The value of largest magnitude among the 16 floats at {@code in} (first one on ties). */
        private static float signedMax(MemorySegment src, long in) {
            float amax = 0.0f;
            float max = 0.0f;
            for (int l = 0; l < 16; l++) {
                float x = f32(src, in + l * 4L);
                if (Math.abs(x) > amax) {
                    amax = Math.abs(x);
                    max = x;
                }
            }
            return max;
        }
    }
}
