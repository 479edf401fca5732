package dev.ferry.moe.quant;

import static dev.ferry.moe.quant.Bytes.f32;
import static dev.ferry.moe.quant.Bytes.putI16;

import dev.ferry.loader.GgmlType;
import java.lang.foreign.MemorySegment;

/** Float32 to the plain float element types. */
final class FloatEncoders {
    private FloatEncoders() {
    }

    static final class F32 extends AbstractBlockEncoder {
        F32() {
            super(GgmlType.F32);
        }

        @Override
        void encodeBlock(MemorySegment src, long in, MemorySegment dst, long block, int[] scratch) {
            Bytes.putF32(dst, block, f32(src, in));
        }
    }

    /** Round to nearest, ties to even ({@link HalfFloats#floatToHalf}). */
    static final class F16 extends AbstractBlockEncoder {
        F16() {
            super(GgmlType.F16);
        }

        @Override
        void encodeBlock(MemorySegment src, long in, MemorySegment dst, long block, int[] scratch) {
            putI16(dst, block, HalfFloats.floatToHalf(f32(src, in)));
        }
    }

    /** ggml's fp32 to bf16 rounding ({@link HalfFloats#floatToBf16}). */
    static final class BF16 extends AbstractBlockEncoder {
        BF16() {
            super(GgmlType.BF16);
        }

        @Override
        void encodeBlock(MemorySegment src, long in, MemorySegment dst, long block, int[] scratch) {
            putI16(dst, block, HalfFloats.floatToBf16(f32(src, in)));
        }
    }
}
