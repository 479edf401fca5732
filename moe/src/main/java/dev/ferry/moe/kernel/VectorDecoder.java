package dev.ferry.moe.kernel;

import dev.ferry.loader.GgmlType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Block decoders with the preferred vector width (8 or 16 float lanes; used only when
 * {@link Kernels#WIDE}): each run of 16 packed quants is read as one or two byte vectors of as
 * many lanes as a float vector, widened to floats, then scaled. They do the same float operations in the same order as {@link ScalarDecoder}, so the values
 * are bit-identical (Java never fuses a multiply and a subtract, so {@code d*q - m} rounds twice here too).
 */
final class VectorDecoder {

    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int L = F.length();
    static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(Math.max(64, L * 8)));
    static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(Math.max(64, L * 16)));
    static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private VectorDecoder() {
    }

    /** True for the types this class decodes. */
    static boolean handles(GgmlType type) {
        return switch (type) {
            case F16, BF16, Q8_0, Q4_0, Q4_K, Q5_K, Q6_K -> true;
            default -> false;
        };
    }

    /** Decodes {@code n} values (whole blocks) from byte {@code src} to float index {@code di}. */
    static void decode(GgmlType type, MemorySegment w, long src, long n, MemorySegment dst, long di) {
        long y = di * 4;
        switch (type) {
            case F16 -> decodeF16(w, src, n, dst, y);
            case BF16 -> decodeBf16(w, src, n, dst, y);
            case Q8_0 -> {
                for (long b = 0; b < n / 32; b++) {
                    decodeQ8_0(w, src + b * 34, dst, y + b * 128);
                }
            }
            case Q4_0 -> {
                for (long b = 0; b < n / 32; b++) {
                    decodeQ4_0(w, src + b * 18, dst, y + b * 128);
                }
            }
            case Q4_K -> {
                for (long b = 0; b < n / 256; b++) {
                    decodeQ4K(w, src + b * 144, dst, y + b * 1024);
                }
            }
            case Q5_K -> {
                for (long b = 0; b < n / 256; b++) {
                    decodeQ5K(w, src + b * 176, dst, y + b * 1024);
                }
            }
            case Q6_K -> {
                for (long b = 0; b < n / 256; b++) {
                    decodeQ6K(w, src + b * 210, dst, y + b * 1024);
                }
            }
            default -> throw new IllegalArgumentException("no vector decoder for " + type);
        }
    }

    // The decoders below are written out with no helper that takes or returns a vector: a helper
    // C2 does not inline makes it box every vector (an allocation per operation).

    private static void decodeQ8_0(MemorySegment w, long o, MemorySegment dst, long y) {
        FloatVector d = FloatVector.broadcast(F, Float.float16ToFloat(w.get(SHORT, o)));
        for (int j = 0; j < 32; j += L) {
            IntVector q = (IntVector) ByteVector.fromMemorySegment(B, w, o + 2 + j, LE)
                    .convertShape(VectorOperators.B2I, I, 0);
            ((FloatVector) q.convert(VectorOperators.I2F, 0)).mul(d).intoMemorySegment(dst, y + 4L * j, LE);
        }
    }

    private static void decodeQ4_0(MemorySegment w, long o, MemorySegment dst, long y) {
        FloatVector d = FloatVector.broadcast(F, Float.float16ToFloat(w.get(SHORT, o)));
        for (int j = 0; j < 16; j += L) {
            IntVector q = (IntVector) ByteVector.fromMemorySegment(B, w, o + 2 + j, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            ((FloatVector) q.and(0x0F).sub(8).convert(VectorOperators.I2F, 0)).mul(d)
                    .intoMemorySegment(dst, y + 4L * j, LE);
            ((FloatVector) q.lanewise(VectorOperators.LSHR, 4).sub(8).convert(VectorOperators.I2F, 0)).mul(d)
                    .intoMemorySegment(dst, y + 64 + 4L * j, LE);
        }
    }

    private static void decodeQ4K(MemorySegment w, long o, MemorySegment dst, long y) {
        float d = Float.float16ToFloat(w.get(SHORT, o));
        float min = Float.float16ToFloat(w.get(SHORT, o + 2));
        for (int p = 0; p < 4; p++) {
            float d1 = d * ScalarDecoder.kScale(w, o + 4, 2 * p);
            float m1 = min * ScalarDecoder.kMin(w, o + 4, 2 * p);
            float d2 = d * ScalarDecoder.kScale(w, o + 4, 2 * p + 1);
            float m2 = min * ScalarDecoder.kMin(w, o + 4, 2 * p + 1);
            long yp = y + 256L * p;
            for (int j = 0; j < 32; j += L) {
                IntVector q = (IntVector) ByteVector.fromMemorySegment(B, w, o + 16 + 32L * p + j, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                ((FloatVector) q.and(0x0F).convert(VectorOperators.I2F, 0)).mul(d1).sub(m1)
                        .intoMemorySegment(dst, yp + 4L * j, LE);
                ((FloatVector) q.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).mul(d2).sub(m2)
                        .intoMemorySegment(dst, yp + 128 + 4L * j, LE);
            }
        }
    }

    private static void decodeQ5K(MemorySegment w, long o, MemorySegment dst, long y) {
        float d = Float.float16ToFloat(w.get(SHORT, o));
        float min = Float.float16ToFloat(w.get(SHORT, o + 2));
        for (int p = 0; p < 4; p++) {
            float d1 = d * ScalarDecoder.kScale(w, o + 4, 2 * p);
            float m1 = min * ScalarDecoder.kMin(w, o + 4, 2 * p);
            float d2 = d * ScalarDecoder.kScale(w, o + 4, 2 * p + 1);
            float m2 = min * ScalarDecoder.kMin(w, o + 4, 2 * p + 1);
            long yp = y + 256L * p;
            for (int j = 0; j < 32; j += L) {
                IntVector q = (IntVector) ByteVector.fromMemorySegment(B, w, o + 48 + 32L * p + j, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                IntVector h = (IntVector) ByteVector.fromMemorySegment(B, w, o + 16 + j, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                // bit 2p (2p+1) of the high-bit byte becomes value 16 of the low (high) nibble
                IntVector lo = q.and(0x0F)
                        .or(h.lanewise(VectorOperators.LSHR, 2 * p).and(1).lanewise(VectorOperators.LSHL, 4));
                IntVector hi = q.lanewise(VectorOperators.LSHR, 4)
                        .or(h.lanewise(VectorOperators.LSHR, 2 * p + 1).and(1).lanewise(VectorOperators.LSHL, 4));
                ((FloatVector) lo.convert(VectorOperators.I2F, 0)).mul(d1).sub(m1)
                        .intoMemorySegment(dst, yp + 4L * j, LE);
                ((FloatVector) hi.convert(VectorOperators.I2F, 0)).mul(d2).sub(m2)
                        .intoMemorySegment(dst, yp + 128 + 4L * j, LE);
            }
        }
    }

    private static void decodeQ6K(MemorySegment w, long o, MemorySegment dst, long y) {
        float d = Float.float16ToFloat(w.get(SHORT, o + 208));
        for (int n = 0; n < 2; n++) {
            long ql = o + 64L * n;
            long qh = o + 128 + 32L * n;
            long sc = o + 192 + 8L * n;
            long yn = y + 512L * n;
            for (int j = 0; j < 32; j += L) {
                int c = j / 16;
                IntVector a = (IntVector) ByteVector.fromMemorySegment(B, w, ql + j, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                IntVector b = (IntVector) ByteVector.fromMemorySegment(B, w, ql + 32 + j, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                IntVector h = (IntVector) ByteVector.fromMemorySegment(B, w, qh + j, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                IntVector q1 = a.and(0x0F).or(h.and(3).lanewise(VectorOperators.LSHL, 4));
                IntVector q2 = b.and(0x0F).or(h.lanewise(VectorOperators.LSHR, 2).and(3)
                        .lanewise(VectorOperators.LSHL, 4));
                IntVector q3 = a.lanewise(VectorOperators.LSHR, 4).or(h.lanewise(VectorOperators.LSHR, 4)
                        .and(3).lanewise(VectorOperators.LSHL, 4));
                IntVector q4 = b.lanewise(VectorOperators.LSHR, 4).or(h.lanewise(VectorOperators.LSHR, 6)
                        .lanewise(VectorOperators.LSHL, 4));
                long yc = yn + 4L * j;
                ((FloatVector) q1.sub(32).convert(VectorOperators.I2F, 0)).mul(d * w.get(ValueLayout.JAVA_BYTE, sc + c))
                        .intoMemorySegment(dst, yc, LE);
                ((FloatVector) q2.sub(32).convert(VectorOperators.I2F, 0)).mul(d * w.get(ValueLayout.JAVA_BYTE, sc + c + 2))
                        .intoMemorySegment(dst, yc + 128, LE);
                ((FloatVector) q3.sub(32).convert(VectorOperators.I2F, 0)).mul(d * w.get(ValueLayout.JAVA_BYTE, sc + c + 4))
                        .intoMemorySegment(dst, yc + 256, LE);
                ((FloatVector) q4.sub(32).convert(VectorOperators.I2F, 0)).mul(d * w.get(ValueLayout.JAVA_BYTE, sc + c + 6))
                        .intoMemorySegment(dst, yc + 384, LE);
            }
        }
    }

    /** Float16 to float32 for one float vector of lanes, exact: normals and subnormals by rebiasing, Inf/NaN kept. */
    static FloatVector halfToFloat(ShortVector h) {
        IntVector bits = (IntVector) h.convertShape(VectorOperators.S2I, I, 0);
        IntVector magnitude = bits.and(0x7FFF);
        IntVector shifted = magnitude.lanewise(VectorOperators.LSHL, 13);
        // exponent+mantissa placed in a float and scaled by 2^112 re-biases exponent 15 to 127,
        // which also turns float16 subnormals into the right float32 normals
        FloatVector finite = shifted.reinterpretAsFloats().mul(0x1p112f);
        VectorMask<Integer> special = magnitude.compare(VectorOperators.GE, 0x7C00);
        IntVector result = finite.reinterpretAsInts().blend(shifted.or(0x7F800000), special);
        return result.or(bits.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats();
    }

    private static void decodeF16(MemorySegment w, long src, long n, MemorySegment dst, long y) {
        long i = 0;
        for (; i + L <= n; i += L) {
            halfToFloat(ShortVector.fromMemorySegment(S, w, src + 2 * i, LE)).intoMemorySegment(dst, y + 4 * i, LE);
        }
        for (; i < n; i++) {
            dst.set(FLOAT, y + 4 * i, Float.float16ToFloat(w.get(SHORT, src + 2 * i)));
        }
    }

    private static void decodeBf16(MemorySegment w, long src, long n, MemorySegment dst, long y) {
        long i = 0;
        for (; i + L <= n; i += L) {
            IntVector bits = (IntVector) ShortVector.fromMemorySegment(S, w, src + 2 * i, LE)
                    .convertShape(VectorOperators.S2I, I, 0);
            bits.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoMemorySegment(dst, y + 4 * i, LE);
        }
        for (; i < n; i++) {
            dst.set(FLOAT, y + 4 * i, Float.intBitsToFloat((w.get(SHORT, src + 2 * i) & 0xFFFF) << 16));
        }
    }
}
