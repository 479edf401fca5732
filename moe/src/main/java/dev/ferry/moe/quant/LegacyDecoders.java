package dev.ferry.moe.quant;

import static dev.ferry.moe.quant.Bytes.half;
import static dev.ferry.moe.quant.Bytes.i32;
import static dev.ferry.moe.quant.Bytes.i8;
import static dev.ferry.moe.quant.Bytes.putF32;
import static dev.ferry.moe.quant.Bytes.u8;

import dev.ferry.loader.GgmlType;
import java.lang.foreign.MemorySegment;

/**
 * The 32-value block types: an F16 scale (and for the _1 types an F16 offset) plus packed
 * integers. Value j of a block comes from the low nibble of byte j, value j + 16 from its high
 * nibble; the fifth bit of Q5 values sits in a 32-bit mask, bit j for value j.
 */
final class LegacyDecoders {
    private LegacyDecoders() {
    }

    static final class Q4_0 extends AbstractBlockDecoder {
        Q4_0() {
            super(GgmlType.Q4_0);
        }

        @Override
        void decodeBlock(MemorySegment src, long block, MemorySegment dst, long out) {
            float d = half(src, block);
            for (int j = 0; j < 16; j++) {
                int q = u8(src, block + 2 + j);
                putF32(dst, out + j * 4L, ((q & 0xF) - 8) * d);
                putF32(dst, out + (j + 16) * 4L, ((q >>> 4) - 8) * d);
            }
        }
    }

    static final class Q4_1 extends AbstractBlockDecoder {
        Q4_1() {
            super(GgmlType.Q4_1);
        }

        @Override
        void decodeBlock(MemorySegment src, long block, MemorySegment dst, long out) {
            float d = half(src, block);
            float m = half(src, block + 2);
            for (int j = 0; j < 16; j++) {
                int q = u8(src, block + 4 + j);
                putF32(dst, out + j * 4L, (q & 0xF) * d + m);
                putF32(dst, out + (j + 16) * 4L, (q >>> 4) * d + m);
            }
        }
    }

    static final class Q5_0 extends AbstractBlockDecoder {
        Q5_0() {
            super(GgmlType.Q5_0);
        }

        @Override
        void decodeBlock(MemorySegment src, long block, MemorySegment dst, long out) {
            float d = half(src, block);
            int qh = i32(src, block + 2);
            for (int j = 0; j < 16; j++) {
                int q = u8(src, block + 6 + j);
                int lo = (q & 0xF) | (((qh >>> j) & 1) << 4);
                int hi = (q >>> 4) | (((qh >>> (j + 16)) & 1) << 4);
                putF32(dst, out + j * 4L, (lo - 16) * d);
                putF32(dst, out + (j + 16) * 4L, (hi - 16) * d);
            }
        }
    }

    static final class Q5_1 extends AbstractBlockDecoder {
        Q5_1() {
            super(GgmlType.Q5_1);
        }

        @Override
        void decodeBlock(MemorySegment src, long block, MemorySegment dst, long out) {
            float d = half(src, block);
            float m = half(src, block + 2);
            int qh = i32(src, block + 4);
            for (int j = 0; j < 16; j++) {
                int q = u8(src, block + 8 + j);
                int lo = (q & 0xF) | (((qh >>> j) & 1) << 4);
                int hi = (q >>> 4) | (((qh >>> (j + 16)) & 1) << 4);
                putF32(dst, out + j * 4L, lo * d + m);
                putF32(dst, out + (j + 16) * 4L, hi * d + m);
            }
        }
    }

    static final class Q8_0 extends AbstractBlockDecoder {
        Q8_0() {
            super(GgmlType.Q8_0);
        }

        @Override
        void decodeBlock(MemorySegment src, long block, MemorySegment dst, long out) {
            float d = half(src, block);
            for (int j = 0; j < 32; j++) {
                putF32(dst, out + j * 4L, i8(src, block + 2 + j) * d);
            }
        }
    }
}
