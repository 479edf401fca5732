package dev.ferry.moe.kernel;

import dev.ferry.loader.GgmlType;
import dev.ferry.moe.ops.VectorOps;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
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
    /** Fixed 8-lane species of the K-quant decoders (native wherever {@link Kernels#WIDE} holds). */
    private static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;
    private static final VectorSpecies<Integer> I8 = IntVector.SPECIES_256;
    private static final VectorSpecies<Byte> B8 = ByteVector.SPECIES_64;
    /** 16-lane species of the same decoders where the preferred species has 512 bits (AVX-512). */
    private static final VectorSpecies<Float> F16 = FloatVector.SPECIES_512;
    private static final VectorSpecies<Integer> I16 = IntVector.SPECIES_512;
    private static final VectorSpecies<Byte> B16 = ByteVector.SPECIES_128;
    /** True where the K-quant runs take 16 lanes per step ({@link #decode(GgmlType, MemorySegment, long, long, MemorySegment, long, boolean)}). */
    static final boolean SIXTEEN_LANES = L == 16;
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
        decode(type, w, src, n, dst, di, SIXTEEN_LANES);
    }

    /**
     * {@link #decode(GgmlType, MemorySegment, long, long, MemorySegment, long)} with the Q4_K and
     * Q6_K runs in 16-lane (512-bit) or 8-lane steps, whatever the machine (tests run both; a
     * width the CPU lacks is correct but slow).
     */
    static void decode(GgmlType type, MemorySegment w, long src, long n, MemorySegment dst, long di, boolean sixteen) {
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
                    decodeQ4K(w, src + b * 144, dst, y + b * 1024, sixteen);
                }
            }
            case Q5_K -> {
                for (long b = 0; b < n / 256; b++) {
                    decodeQ5K(w, src + b * 176, dst, y + b * 1024);
                }
            }
            case Q6_K -> {
                for (long b = 0; b < n / 256; b++) {
                    decodeQ6K(w, src + b * 210, dst, y + b * 1024, sixteen);
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

    private static void decodeQ4K(MemorySegment w, long o, MemorySegment dst, long y, boolean sixteen) {
        float d = Float.float16ToFloat(w.get(SHORT, o));
        float min = Float.float16ToFloat(w.get(SHORT, o + 2));
        long sc = w.get(ValueLayout.JAVA_LONG_UNALIGNED, o + 4);
        int sc8 = w.get(ValueLayout.JAVA_INT_UNALIGNED, o + 12);
        long scales = FusedDot.kScales(sc, sc8);
        long minima = FusedDot.kMins(sc, sc8);
        for (int p = 0; p < 4; p++) {
            float d1 = d * (int) (scales >>> (16 * p) & 0xFF);
            float m1 = min * (int) (minima >>> (16 * p) & 0xFF);
            float d2 = d * (int) (scales >>> (16 * p + 8) & 0xFF);
            float m2 = min * (int) (minima >>> (16 * p + 8) & 0xFF);
            if (sixteen) {
                q4Run16(w, o + 16 + 32L * p, d1, m1, d2, m2, dst, y + 256L * p);
            } else {
                q4Run(w, o + 16 + 32L * p, d1, m1, d2, m2, dst, y + 256L * p);
            }
        }
    }

    /**
     * 32 packed bytes at {@code q}: low nibbles to floats 0-31 ({@code d1 * q - m1}), high
     * nibbles to floats 32-63. Written out in 8-lane steps: a 4-iteration vector loop compiled
     * with range-check pre/main/post loops cost more than its arithmetic (0.35 ns per value).
     */
    private static void q4Run(MemorySegment w, long q, float d1, float m1, float d2, float m2, MemorySegment dst,
                              long y) {
        FloatVector vd1 = FloatVector.broadcast(F8, d1);
        FloatVector vm1 = FloatVector.broadcast(F8, m1);
        FloatVector vd2 = FloatVector.broadcast(F8, d2);
        FloatVector vm2 = FloatVector.broadcast(F8, m2);
        IntVector a = (IntVector) ByteVector.fromMemorySegment(B8, w, q, LE)
                .convertShape(VectorOperators.ZERO_EXTEND_B2I, I8, 0);
        IntVector b = (IntVector) ByteVector.fromMemorySegment(B8, w, q + 8, LE)
                .convertShape(VectorOperators.ZERO_EXTEND_B2I, I8, 0);
        IntVector c = (IntVector) ByteVector.fromMemorySegment(B8, w, q + 16, LE)
                .convertShape(VectorOperators.ZERO_EXTEND_B2I, I8, 0);
        IntVector e = (IntVector) ByteVector.fromMemorySegment(B8, w, q + 24, LE)
                .convertShape(VectorOperators.ZERO_EXTEND_B2I, I8, 0);
        ((FloatVector) a.and(0x0F).convert(VectorOperators.I2F, 0)).mul(vd1).sub(vm1).intoMemorySegment(dst, y, LE);
        ((FloatVector) b.and(0x0F).convert(VectorOperators.I2F, 0)).mul(vd1).sub(vm1).intoMemorySegment(dst, y + 32, LE);
        ((FloatVector) c.and(0x0F).convert(VectorOperators.I2F, 0)).mul(vd1).sub(vm1).intoMemorySegment(dst, y + 64, LE);
        ((FloatVector) e.and(0x0F).convert(VectorOperators.I2F, 0)).mul(vd1).sub(vm1).intoMemorySegment(dst, y + 96, LE);
        ((FloatVector) a.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).mul(vd2).sub(vm2)
                .intoMemorySegment(dst, y + 128, LE);
        ((FloatVector) b.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).mul(vd2).sub(vm2)
                .intoMemorySegment(dst, y + 160, LE);
        ((FloatVector) c.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).mul(vd2).sub(vm2)
                .intoMemorySegment(dst, y + 192, LE);
        ((FloatVector) e.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).mul(vd2).sub(vm2)
                .intoMemorySegment(dst, y + 224, LE);
    }

    /** {@link #q4Run} in 16-lane steps. */
    private static void q4Run16(MemorySegment w, long q, float d1, float m1, float d2, float m2, MemorySegment dst,
                                long y) {
        FloatVector vd1 = FloatVector.broadcast(F16, d1);
        FloatVector vm1 = FloatVector.broadcast(F16, m1);
        FloatVector vd2 = FloatVector.broadcast(F16, d2);
        FloatVector vm2 = FloatVector.broadcast(F16, m2);
        IntVector a = (IntVector) ByteVector.fromMemorySegment(B16, w, q, LE)
                .convertShape(VectorOperators.ZERO_EXTEND_B2I, I16, 0);
        IntVector b = (IntVector) ByteVector.fromMemorySegment(B16, w, q + 16, LE)
                .convertShape(VectorOperators.ZERO_EXTEND_B2I, I16, 0);
        ((FloatVector) a.and(0x0F).convert(VectorOperators.I2F, 0)).mul(vd1).sub(vm1).intoMemorySegment(dst, y, LE);
        ((FloatVector) b.and(0x0F).convert(VectorOperators.I2F, 0)).mul(vd1).sub(vm1).intoMemorySegment(dst, y + 64, LE);
        ((FloatVector) a.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).mul(vd2).sub(vm2)
                .intoMemorySegment(dst, y + 128, LE);
        ((FloatVector) b.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).mul(vd2).sub(vm2)
                .intoMemorySegment(dst, y + 192, LE);
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

    private static void decodeQ6K(MemorySegment w, long o, MemorySegment dst, long y, boolean sixteen) {
        float d = Float.float16ToFloat(w.get(SHORT, o + 208));
        for (int n = 0; n < 2; n++) {
            long sc = o + 192 + 8L * n;
            for (int c = 0; c < 2; c++) {
                float s1 = d * w.get(ValueLayout.JAVA_BYTE, sc + c);
                float s2 = d * w.get(ValueLayout.JAVA_BYTE, sc + c + 2);
                float s3 = d * w.get(ValueLayout.JAVA_BYTE, sc + c + 4);
                float s4 = d * w.get(ValueLayout.JAVA_BYTE, sc + c + 6);
                if (sixteen) {
                    q6Run16(w, o + 64L * n + 16 * c, o + 128 + 32L * n + 16 * c, s1, s2, s3, s4, dst, y + 512L * n + 64L * c);
                } else {
                    q6Run(w, o + 64L * n + 16 * c, o + 128 + 32L * n + 16 * c, s1, s2, s3, s4, dst, y + 512L * n + 64L * c);
                }
            }
        }
    }

    /**
     * 16 positions of a Q6_K half block: low bits at {@code ql} and {@code ql + 32}, high bits at
     * {@code qh}; the four values of a position go to floats 0, 32, 64 and 96 apart, scaled by
     * {@code s1..s4}. Written out in 8-lane steps like {@link #q4Run}.
     */
    private static void q6Run(MemorySegment w, long ql, long qh, float s1, float s2, float s3, float s4,
                              MemorySegment dst, long y) {
        FloatVector v1 = FloatVector.broadcast(F8, s1);
        FloatVector v2 = FloatVector.broadcast(F8, s2);
        FloatVector v3 = FloatVector.broadcast(F8, s3);
        FloatVector v4 = FloatVector.broadcast(F8, s4);
        for (int j = 0; j < 16; j += 8) {
            IntVector a = (IntVector) ByteVector.fromMemorySegment(B8, w, ql + j, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2I, I8, 0);
            IntVector b = (IntVector) ByteVector.fromMemorySegment(B8, w, ql + 32 + j, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2I, I8, 0);
            IntVector h = (IntVector) ByteVector.fromMemorySegment(B8, w, qh + j, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2I, I8, 0);
            IntVector q1 = a.and(0x0F).or(h.and(3).lanewise(VectorOperators.LSHL, 4));
            IntVector q2 = b.and(0x0F).or(h.and(12).lanewise(VectorOperators.LSHL, 2));
            IntVector q3 = a.lanewise(VectorOperators.LSHR, 4).or(h.and(48));
            IntVector q4 = b.lanewise(VectorOperators.LSHR, 4).or(h.lanewise(VectorOperators.LSHR, 2).and(48));
            long yj = y + 4L * j;
            ((FloatVector) q1.sub(32).convert(VectorOperators.I2F, 0)).mul(v1).intoMemorySegment(dst, yj, LE);
            ((FloatVector) q2.sub(32).convert(VectorOperators.I2F, 0)).mul(v2).intoMemorySegment(dst, yj + 128, LE);
            ((FloatVector) q3.sub(32).convert(VectorOperators.I2F, 0)).mul(v3).intoMemorySegment(dst, yj + 256, LE);
            ((FloatVector) q4.sub(32).convert(VectorOperators.I2F, 0)).mul(v4).intoMemorySegment(dst, yj + 384, LE);
        }
    }

    /** {@link #q6Run} in one 16-lane step. */
    private static void q6Run16(MemorySegment w, long ql, long qh, float s1, float s2, float s3, float s4,
                                MemorySegment dst, long y) {
        IntVector a = (IntVector) ByteVector.fromMemorySegment(B16, w, ql, LE)
                .convertShape(VectorOperators.ZERO_EXTEND_B2I, I16, 0);
        IntVector b = (IntVector) ByteVector.fromMemorySegment(B16, w, ql + 32, LE)
                .convertShape(VectorOperators.ZERO_EXTEND_B2I, I16, 0);
        IntVector h = (IntVector) ByteVector.fromMemorySegment(B16, w, qh, LE)
                .convertShape(VectorOperators.ZERO_EXTEND_B2I, I16, 0);
        IntVector q1 = a.and(0x0F).or(h.and(3).lanewise(VectorOperators.LSHL, 4));
        IntVector q2 = b.and(0x0F).or(h.and(12).lanewise(VectorOperators.LSHL, 2));
        IntVector q3 = a.lanewise(VectorOperators.LSHR, 4).or(h.and(48));
        IntVector q4 = b.lanewise(VectorOperators.LSHR, 4).or(h.lanewise(VectorOperators.LSHR, 2).and(48));
        ((FloatVector) q1.sub(32).convert(VectorOperators.I2F, 0)).mul(s1).intoMemorySegment(dst, y, LE);
        ((FloatVector) q2.sub(32).convert(VectorOperators.I2F, 0)).mul(s2).intoMemorySegment(dst, y + 128, LE);
        ((FloatVector) q3.sub(32).convert(VectorOperators.I2F, 0)).mul(s3).intoMemorySegment(dst, y + 256, LE);
        ((FloatVector) q4.sub(32).convert(VectorOperators.I2F, 0)).mul(s4).intoMemorySegment(dst, y + 384, LE);
    }

    private static void decodeF16(MemorySegment w, long src, long n, MemorySegment dst, long y) {
        long i = 0;
        for (; i + L <= n; i += L) {
            VectorOps.halfToFloat(ShortVector.fromMemorySegment(S, w, src + 2 * i, LE)).intoMemorySegment(dst, y + 4 * i, LE);
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
