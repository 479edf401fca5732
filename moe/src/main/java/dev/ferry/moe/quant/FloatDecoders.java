package dev.ferry.moe.quant;

import static dev.ferry.moe.quant.Bytes.putF32;

import dev.ferry.loader.GgmlType;
import java.lang.foreign.MemorySegment;

/** Plain floating-point element types (one value per "block"). */
final class FloatDecoders {
    private FloatDecoders() {
    }

    static final class F32 extends AbstractBlockDecoder {
        F32() {
            super(GgmlType.F32);
        }

        @Override
        public void decodeRow(MemorySegment src, long srcByteOffset, MemorySegment dst, long dstByteOffset, long n) {
            Bytes.checkRow(GgmlType.F32, src, srcByteOffset, dst, dstByteOffset, n);
            MemorySegment.copy(src, srcByteOffset, dst, dstByteOffset, n * Float.BYTES);
        }

        @Override
        void decodeBlock(MemorySegment src, long block, MemorySegment dst, long out) {
            putF32(dst, out, Bytes.f32(src, block));
        }
    }

    static final class F16 extends AbstractBlockDecoder {
        F16() {
            super(GgmlType.F16);
        }

        @Override
        public void decodeRow(MemorySegment src, long srcByteOffset, MemorySegment dst, long dstByteOffset, long n) {
            Bytes.checkRow(GgmlType.F16, src, srcByteOffset, dst, dstByteOffset, n);
            for (long i = 0; i < n; i++) {
                putF32(dst, dstByteOffset + i * 4, Bytes.half(src, srcByteOffset + i * 2));
            }
        }

        @Override
        void decodeBlock(MemorySegment src, long block, MemorySegment dst, long out) {
            putF32(dst, out, Bytes.half(src, block));
        }
    }

    static final class BF16 extends AbstractBlockDecoder {
        BF16() {
            super(GgmlType.BF16);
        }

        @Override
        public void decodeRow(MemorySegment src, long srcByteOffset, MemorySegment dst, long dstByteOffset, long n) {
            Bytes.checkRow(GgmlType.BF16, src, srcByteOffset, dst, dstByteOffset, n);
            for (long i = 0; i < n; i++) {
                putF32(dst, dstByteOffset + i * 4, HalfFloats.bf16ToFloat(Bytes.u16(src, srcByteOffset + i * 2)));
            }
        }

        @Override
        void decodeBlock(MemorySegment src, long block, MemorySegment dst, long out) {
            putF32(dst, out, HalfFloats.bf16ToFloat(Bytes.u16(src, block)));
        }
    }
}
