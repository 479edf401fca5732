package dev.ferry.moe.kernel;

import static dev.ferry.moe.kernel.VectorDecoder.F;
import static dev.ferry.moe.kernel.VectorDecoder.L;
import static dev.ferry.moe.kernel.VectorDecoder.B;
import static dev.ferry.moe.kernel.VectorDecoder.I;

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
import jdk.incubator.vector.VectorSpecies;

/**
 * Decode-and-multiply dot products of one quantized weight row with one float32 activation row,
 * for one-token products (decode), where decoding a row to scratch first would cost as much as
 * the product itself. Quants are widened to float in registers and multiplied with the
 * activations; the block scale is applied once per block (per 16 or 32 values) instead of per
 * value, and block minimums and offsets are applied through precomputed activation sums per
 * 16 values.
 * <p>Each type's kernel is one method with its loops written out, using only constant species
 * and conversions C2 compiles to single instructions on AVX2 and AVX-512 (8 bytes to 8 int
 * lanes, int to float), so the JIT keeps every vector in a register.
 * Used only when {@link Kernels#WIDE}.
 */
final class FusedDot {

    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;
    private static final VectorSpecies<Integer> I8 = IntVector.SPECIES_256;
    /** Shifts that spread the 4 bytes of an int over 8 lanes, each byte twice. */
    private static final int[] BYTE_PAIRS = {0, 0, 8, 8, 16, 16, 24, 24};

    private FusedDot() {
    }

    static boolean handles(GgmlType type) {
        return switch (type) {
            case F16, Q8_0, Q4_0, Q4_K, Q5_K, Q6_K -> true;
            default -> false;
        };
    }

    /**
     * Dot product of the {@code cols}-value row at byte {@code w0} of {@code w} with the floats
     * at byte {@code a0} of {@code a}; {@code s0} is the byte offset in {@code sums} of the
     * activation row's sums per 16 values.
     */
    static float dot(GgmlType type, MemorySegment w, long w0, long cols, MemorySegment a, long a0,
                     MemorySegment sums, long s0) {
        return switch (type) {
            case F16 -> dotF16(w, w0, cols, a, a0);
            case Q8_0 -> dotQ8_0(w, w0, cols / 32, a, a0);
            case Q4_0 -> dotQ4_0(w, w0, cols / 32, a, a0, sums, s0);
            case Q4_K -> dotQ4K(w, w0, cols / 256, a, a0, sums, s0);
            case Q5_K -> dotQ5K(w, w0, cols / 256, a, a0, sums, s0);
            case Q6_K -> dotQ6K(w, w0, cols / 256, a, a0, sums, s0);
            default -> throw new IllegalArgumentException("no fused dot for " + type);
        };
    }

    private static FloatVector x(MemorySegment a, long offset) {
        return FloatVector.fromMemorySegment(F, a, offset, LE);
    }

    private static float dotF16(MemorySegment w, long w0, long n, MemorySegment a, long a0) {
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = acc0;
        long i = 0;
        for (; i + 2L * L <= n; i += 2L * L) {
            acc0 = VectorOps.halfToFloat(ShortVector.fromMemorySegment(VectorDecoder.S, w, w0 + 2 * i, LE))
                    .fma(x(a, a0 + 4 * i), acc0);
            acc1 = VectorOps.halfToFloat(ShortVector.fromMemorySegment(VectorDecoder.S, w, w0 + 2 * i + 2L * L, LE))
                    .fma(x(a, a0 + 4 * i + 4L * L), acc1);
        }
        float s = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            s += Float.float16ToFloat(w.get(SHORT, w0 + 2 * i)) * a.get(FLOAT, a0 + 4 * i);
        }
        return s;
    }

    // The kernels below are written out in one method each, with no helper that takes or
    // returns a vector: C2 only keeps vectors in registers when the whole loop is one compiled
    // method; a non-inlined vector helper makes it box every vector and run the Java fallbacks.
    // Sums are spread over several independent accumulators: one chain of dependent FMAs (4-5
    // cycles each) otherwise limits a kernel to a third of what the loads and FMA units allow.

    private static float dotQ8_0(MemorySegment w, long w0, long blocks, MemorySegment a, long a0) {
        FloatVector acc = FloatVector.zero(F);
        for (long b = 0; b < blocks; b++) {
            long o = w0 + b * 34;
            long ab = a0 + b * 128;
            float d = Float.float16ToFloat(w.get(SHORT, o));
            FloatVector block0 = FloatVector.zero(F);
            FloatVector block1 = block0;
            for (int j = 0; j < 32; j += 2 * L) {
                FloatVector q0 = (FloatVector) ByteVector.fromMemorySegment(B, w, o + 2 + j, LE)
                        .convertShape(VectorOperators.B2F, F, 0);
                FloatVector q1 = (FloatVector) ByteVector.fromMemorySegment(B, w, o + 2 + j + L, LE)
                        .convertShape(VectorOperators.B2F, F, 0);
                block0 = q0.fma(FloatVector.fromMemorySegment(F, a, ab + 4L * j, LE), block0);
                block1 = q1.fma(FloatVector.fromMemorySegment(F, a, ab + 4L * (j + L), LE), block1);
            }
            acc = block0.add(block1).fma(FloatVector.broadcast(F, d), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    private static float dotQ4_0(MemorySegment w, long w0, long blocks, MemorySegment a, long a0, MemorySegment sums,
                                 long s0) {
        // (q - 8) * x summed = q * x summed - 8 * sum(x)
        FloatVector acc = FloatVector.zero(F);
        float offset = 0;
        for (long b = 0; b < blocks; b++) {
            long o = w0 + b * 18;
            long ab = a0 + b * 128;
            float d = Float.float16ToFloat(w.get(SHORT, o));
            offset += d * (sums.get(FLOAT, s0 + 8 * b) + sums.get(FLOAT, s0 + 8 * b + 4));
            FloatVector lo = FloatVector.zero(F);
            FloatVector hi = lo;
            for (int j = 0; j < 16; j += L) {
                IntVector q = (IntVector) ByteVector.fromMemorySegment(B, w, o + 2 + j, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                lo = ((FloatVector) q.and(0x0F).convert(VectorOperators.I2F, 0))
                        .fma(FloatVector.fromMemorySegment(F, a, ab + 4L * j, LE), lo);
                hi = ((FloatVector) q.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0))
                        .fma(FloatVector.fromMemorySegment(F, a, ab + 64 + 4L * j, LE), hi);
            }
            acc = lo.add(hi).fma(FloatVector.broadcast(F, d), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD) - 8 * offset;
    }

    private static float dotQ4K(MemorySegment w, long w0, long blocks, MemorySegment a, long a0, MemorySegment sums,
                                long s0) {
        FloatVector accLo = FloatVector.zero(F);
        FloatVector accHi = accLo;
        FloatVector mins = FloatVector.zero(F8);
        for (long b = 0; b < blocks; b++) {
            long o = w0 + b * 144;
            long ab = a0 + b * 1024;
            long sb = s0 + b * 64;
            float d = Float.float16ToFloat(w.get(SHORT, o));
            float dmin = Float.float16ToFloat(w.get(SHORT, o + 2));
            long sc = w.get(ValueLayout.JAVA_LONG_UNALIGNED, o + 4);
            int sc8 = w.get(ValueLayout.JAVA_INT_UNALIGNED, o + 12);
            long scales = kScales(sc, sc8);
            long minima = kMins(sc, sc8);
            // minimum j (per 32 values) times the two activation sums (per 16) it covers, in
            // two 8-lane vectors: each minimum byte is spread over two lanes
            IntVector pairs = IntVector.fromArray(I8, BYTE_PAIRS, 0);
            FloatVector mLo = (FloatVector) IntVector.broadcast(I8, (int) minima)
                    .lanewise(VectorOperators.LSHR, pairs).and(0xFF).convert(VectorOperators.I2F, 0);
            FloatVector mHi = (FloatVector) IntVector.broadcast(I8, (int) (minima >>> 32))
                    .lanewise(VectorOperators.LSHR, pairs).and(0xFF).convert(VectorOperators.I2F, 0);
            FloatVector blockMins = mLo.mul(FloatVector.fromMemorySegment(F8, sums, sb, LE))
                    .add(mHi.mul(FloatVector.fromMemorySegment(F8, sums, sb + 32, LE)));
            mins = blockMins.fma(FloatVector.broadcast(F8, dmin), mins);
            // each pass: 32 packed bytes, low nibbles for sub-block 2p, high nibbles for 2p+1
            for (int p = 0; p < 4; p++) {
                float dLo = d * (int) (scales >>> (16 * p) & 0xFF);
                float dHi = d * (int) (scales >>> (16 * p + 8) & 0xFF);
                long q = o + 16 + 32L * p;
                long ap = ab + 256L * p;
                FloatVector lo0 = FloatVector.zero(F);
                FloatVector lo1 = lo0;
                FloatVector hi0 = lo0;
                FloatVector hi1 = lo0;
                for (int j = 0; j < 32; j += 2 * L) {
                    IntVector v0 = (IntVector) ByteVector.fromMemorySegment(B, w, q + j, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                    IntVector v1 = (IntVector) ByteVector.fromMemorySegment(B, w, q + j + L, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                    long aj = ap + 4L * j;
                    lo0 = ((FloatVector) v0.and(0x0F).convert(VectorOperators.I2F, 0))
                            .fma(FloatVector.fromMemorySegment(F, a, aj, LE), lo0);
                    lo1 = ((FloatVector) v1.and(0x0F).convert(VectorOperators.I2F, 0))
                            .fma(FloatVector.fromMemorySegment(F, a, aj + 4L * L, LE), lo1);
                    hi0 = ((FloatVector) v0.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0))
                            .fma(FloatVector.fromMemorySegment(F, a, aj + 128, LE), hi0);
                    hi1 = ((FloatVector) v1.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0))
                            .fma(FloatVector.fromMemorySegment(F, a, aj + 128 + 4L * L, LE), hi1);
                }
                accLo = lo0.add(lo1).fma(FloatVector.broadcast(F, dLo), accLo);
                accHi = hi0.add(hi1).fma(FloatVector.broadcast(F, dHi), accHi);
            }
        }
        return accLo.add(accHi).reduceLanes(VectorOperators.ADD) - mins.reduceLanes(VectorOperators.ADD);
    }

    private static float dotQ5K(MemorySegment w, long w0, long blocks, MemorySegment a, long a0, MemorySegment sums,
                                long s0) {
        FloatVector accLo = FloatVector.zero(F);
        FloatVector accHi = accLo;
        FloatVector mins = FloatVector.zero(F8);
        for (long b = 0; b < blocks; b++) {
            long o = w0 + b * 176;
            long ab = a0 + b * 1024;
            long sb = s0 + b * 64;
            float d = Float.float16ToFloat(w.get(SHORT, o));
            float dmin = Float.float16ToFloat(w.get(SHORT, o + 2));
            long sc = w.get(ValueLayout.JAVA_LONG_UNALIGNED, o + 4);
            int sc8 = w.get(ValueLayout.JAVA_INT_UNALIGNED, o + 12);
            long scales = kScales(sc, sc8);
            long minima = kMins(sc, sc8);
            // minimum j (per 32 values) times the two activation sums (per 16) it covers, in
            // two 8-lane vectors: each minimum byte is spread over two lanes
            IntVector pairs = IntVector.fromArray(I8, BYTE_PAIRS, 0);
            FloatVector mLo = (FloatVector) IntVector.broadcast(I8, (int) minima)
                    .lanewise(VectorOperators.LSHR, pairs).and(0xFF).convert(VectorOperators.I2F, 0);
            FloatVector mHi = (FloatVector) IntVector.broadcast(I8, (int) (minima >>> 32))
                    .lanewise(VectorOperators.LSHR, pairs).and(0xFF).convert(VectorOperators.I2F, 0);
            FloatVector blockMins = mLo.mul(FloatVector.fromMemorySegment(F8, sums, sb, LE))
                    .add(mHi.mul(FloatVector.fromMemorySegment(F8, sums, sb + 32, LE)));
            mins = blockMins.fma(FloatVector.broadcast(F8, dmin), mins);
            for (int p = 0; p < 4; p++) {
                float dLo = d * (int) (scales >>> (16 * p) & 0xFF);
                float dHi = d * (int) (scales >>> (16 * p + 8) & 0xFF);
                int bitLo = 2 * p;
                int bitHi = 2 * p + 1;
                long ap = ab + 256L * p;
                FloatVector lo = FloatVector.zero(F);
                FloatVector hi = lo;
                for (int j = 0; j < 32; j += L) {
                    IntVector q = (IntVector) ByteVector.fromMemorySegment(B, w, o + 48 + 32L * p + j, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                    IntVector h = (IntVector) ByteVector.fromMemorySegment(B, w, o + 16 + j, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                    // bit 2p (2p+1) of the high-bit byte becomes value 16 of the low (high) nibble
                    IntVector ql = q.and(0x0F)
                            .or(h.lanewise(VectorOperators.LSHR, bitLo).and(1).lanewise(VectorOperators.LSHL, 4));
                    IntVector qh = q.lanewise(VectorOperators.LSHR, 4)
                            .or(h.lanewise(VectorOperators.LSHR, bitHi).and(1).lanewise(VectorOperators.LSHL, 4));
                    lo = ((FloatVector) ql.convert(VectorOperators.I2F, 0))
                            .fma(FloatVector.fromMemorySegment(F, a, ap + 4L * j, LE), lo);
                    hi = ((FloatVector) qh.convert(VectorOperators.I2F, 0))
                            .fma(FloatVector.fromMemorySegment(F, a, ap + 128 + 4L * j, LE), hi);
                }
                accLo = lo.fma(FloatVector.broadcast(F, dLo), accLo);
                accHi = hi.fma(FloatVector.broadcast(F, dHi), accHi);
            }
        }
        return accLo.add(accHi).reduceLanes(VectorOperators.ADD) - mins.reduceLanes(VectorOperators.ADD);
    }

    private static float dotQ6K(MemorySegment w, long w0, long blocks, MemorySegment a, long a0, MemorySegment sums,
                                long sumsOffset) {
        // Quants are used unsigned (0..63); the -32 offset is applied once per 16-value scale
        // group through the activation sums.
        FloatVector acc1 = FloatVector.zero(F);
        FloatVector acc2 = acc1;
        FloatVector acc3 = acc1;
        FloatVector acc4 = acc1;
        for (long b = 0; b < blocks; b++) {
            long o = w0 + b * 210;
            long ab = a0 + b * 1024;
            long sb = sumsOffset + b * 64;
            float d = Float.float16ToFloat(w.get(SHORT, o + 208));
            long s0 = w.get(ValueLayout.JAVA_LONG_UNALIGNED, o + 192);
            long s1 = w.get(ValueLayout.JAVA_LONG_UNALIGNED, o + 200);
            // the 16 int8 scales times the 16 activation sums, in vectors: -32 * d * that is the
            // block's offset term, added to the accumulator
            FloatVector blockOffset = FloatVector.zero(F);
            for (int g = 0; g < 16; g += L) {
                FloatVector k = (FloatVector) ByteVector.fromMemorySegment(B, w, o + 192 + g, LE)
                        .convertShape(VectorOperators.B2F, F, 0);
                blockOffset = k.fma(FloatVector.fromMemorySegment(F, sums, sb + 4L * g, LE), blockOffset);
            }
            acc1 = blockOffset.fma(FloatVector.broadcast(F, -32 * d), acc1);
            // group g: 16 positions l of half block g/2; low bits at ql+l and ql+32+l, high bits
            // at qh+l; the four values of a position go to activations 0, 32, 64, 96 floats apart
            for (int g = 0; g < 4; g++) {
                long scales = g < 2 ? s0 : s1;
                int shift = 8 * (g & 1);
                float k1 = d * (byte) (scales >>> shift);
                float k2 = d * (byte) (scales >>> (shift + 16));
                float k3 = d * (byte) (scales >>> (shift + 32));
                float k4 = d * (byte) (scales >>> (shift + 48));
                long ql = o + 64L * (g >> 1) + 16L * (g & 1);
                long qh = o + 128 + 16L * g;
                long ap = ab + 512L * (g >> 1) + 64L * (g & 1);
                FloatVector v1 = FloatVector.zero(F);
                FloatVector v2 = v1;
                FloatVector v3 = v1;
                FloatVector v4 = v1;
                for (int j = 0; j < 16; j += L) {
                    IntVector qa = (IntVector) ByteVector.fromMemorySegment(B, w, ql + j, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                    IntVector qb = (IntVector) ByteVector.fromMemorySegment(B, w, ql + 32 + j, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                    IntVector h = (IntVector) ByteVector.fromMemorySegment(B, w, qh + j, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                    IntVector q1 = qa.and(0x0F).or(h.and(3).lanewise(VectorOperators.LSHL, 4));
                    IntVector q2 = qb.and(0x0F).or(h.and(12).lanewise(VectorOperators.LSHL, 2));
                    IntVector q3 = qa.lanewise(VectorOperators.LSHR, 4).or(h.and(48));
                    IntVector q4 = qb.lanewise(VectorOperators.LSHR, 4).or(h.lanewise(VectorOperators.LSHR, 2).and(48));
                    long aj = ap + 4L * j;
                    v1 = ((FloatVector) q1.convert(VectorOperators.I2F, 0))
                            .fma(FloatVector.fromMemorySegment(F, a, aj, LE), v1);
                    v2 = ((FloatVector) q2.convert(VectorOperators.I2F, 0))
                            .fma(FloatVector.fromMemorySegment(F, a, aj + 128, LE), v2);
                    v3 = ((FloatVector) q3.convert(VectorOperators.I2F, 0))
                            .fma(FloatVector.fromMemorySegment(F, a, aj + 256, LE), v3);
                    v4 = ((FloatVector) q4.convert(VectorOperators.I2F, 0))
                            .fma(FloatVector.fromMemorySegment(F, a, aj + 384, LE), v4);
                }
                acc1 = v1.fma(FloatVector.broadcast(F, k1), acc1);
                acc2 = v2.fma(FloatVector.broadcast(F, k2), acc2);
                acc3 = v3.fma(FloatVector.broadcast(F, k3), acc3);
                acc4 = v4.fma(FloatVector.broadcast(F, k4), acc4);
            }
        }
        return acc1.add(acc2).add(acc3.add(acc4)).reduceLanes(VectorOperators.ADD);
    }

    /**
     * The eight 6-bit Q4_K/Q5_K sub-block scales (as ScalarDecoder.kScale) one per byte, from the
     * first 8 scale bytes {@code sc} and the last 4 {@code sc8}: scales 4..7 take their low
     * nibble from {@code sc8} and their top two bits from bits 6..7 of scale bytes 0..3.
     */
    static long kScales(long sc, int sc8) {
        int high = (sc8 & 0x0F0F0F0F) | (((int) sc >>> 2) & 0x30303030);
        return (sc & 0x3F3F3F3FL) | ((long) high << 32);
    }

    /** The eight 6-bit sub-block minimums (as ScalarDecoder.kMin) one per byte, like {@link #kScales}. */
    static long kMins(long sc, int sc8) {
        int high = ((sc8 >>> 4) & 0x0F0F0F0F) | (((int) (sc >>> 32) >>> 2) & 0x30303030);
        return ((sc >>> 32) & 0x3F3F3F3FL) | ((long) high << 32);
    }
}
