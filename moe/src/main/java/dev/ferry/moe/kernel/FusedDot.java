package dev.ferry.moe.kernel;

import static dev.ferry.moe.kernel.VectorDecoder.F;
import static dev.ferry.moe.kernel.VectorDecoder.L;
import static dev.ferry.moe.kernel.VectorDecoder.load;
import static dev.ferry.moe.kernel.VectorDecoder.toFloat;

import dev.ferry.loader.GgmlType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Decode-and-multiply dot products of one quantized weight row with one float32 activation row,
 * for one-token products (decode), where decoding a row to scratch first would cost as much as
 * the product itself. Quants are widened to float in registers and multiplied with the
 * activations; the block scale is applied once per block (per 16 or 32 values) instead of per
 * value, and block minimums and offsets are applied through precomputed activation sums per
 * 16 values.
 * Used only when {@link Kernels#WIDE}.
 */
final class FusedDot {

    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;

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
            acc0 = VectorDecoder.halfToFloat(ShortVector.fromMemorySegment(VectorDecoder.S, w, w0 + 2 * i, LE))
                    .fma(x(a, a0 + 4 * i), acc0);
            acc1 = VectorDecoder.halfToFloat(ShortVector.fromMemorySegment(VectorDecoder.S, w, w0 + 2 * i + 2L * L, LE))
                    .fma(x(a, a0 + 4 * i + 4L * L), acc1);
        }
        float s = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            s += Float.float16ToFloat(w.get(SHORT, w0 + 2 * i)) * a.get(FLOAT, a0 + 4 * i);
        }
        return s;
    }

    private static float dotQ8_0(MemorySegment w, long w0, long blocks, MemorySegment a, long a0) {
        FloatVector acc = FloatVector.zero(F);
        for (long b = 0; b < blocks; b++) {
            long o = w0 + b * 34;
            long ab = a0 + b * 128;
            FloatVector block = FloatVector.zero(F);
            for (int j = 0; j < 32; j += L) {
                block = toFloat(VectorDecoder.loadSigned(w, o + 2 + j)).fma(x(a, ab + 4L * j), block);
            }
            acc = block.fma(FloatVector.broadcast(F, Float.float16ToFloat(w.get(SHORT, o))), acc);
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
            FloatVector block = FloatVector.zero(F);
            for (int j = 0; j < 16; j += L) {
                IntVector q = load(w, o + 2 + j);
                block = toFloat(q.and(0x0F)).fma(x(a, ab + 4L * j), block);
                block = toFloat(q.lanewise(VectorOperators.LSHR, 4)).fma(x(a, ab + 64 + 4L * j), block);
            }
            acc = block.fma(FloatVector.broadcast(F, d), acc);
            offset += d * (sums.get(FLOAT, s0 + 8 * b) + sums.get(FLOAT, s0 + 8 * b + 4));
        }
        return acc.reduceLanes(VectorOperators.ADD) - 8 * offset;
    }

    private static float dotQ4K(MemorySegment w, long w0, long blocks, MemorySegment a, long a0, MemorySegment sums,
                                long s0) {
        FloatVector acc = FloatVector.zero(F);
        float mins = 0;
        for (long b = 0; b < blocks; b++) {
            long o = w0 + b * 144;
            long ab = a0 + b * 1024;
            long sb = s0 + b * 64;
            float d = Float.float16ToFloat(w.get(SHORT, o));
            float dmin = Float.float16ToFloat(w.get(SHORT, o + 2));
            long sc = scaleWord(w, o + 4);
            int sc8 = w.get(ValueLayout.JAVA_INT_UNALIGNED, o + 12);
            // scalar work (scales, minimum terms, their memory reads) is done before the vector
            // code and the sub-block pairs are unrolled by hand so every scale is a constant shift
            float blockMins = 0;
            for (int j = 0; j < 8; j++) {
                blockMins += kMin(sc, sc8, j) * (sums.get(FLOAT, sb + 8L * j) + sums.get(FLOAT, sb + 8L * j + 4));
            }
            mins += dmin * blockMins;
            acc = q4Pair(w, o + 16, a, ab, d * kScale(sc, sc8, 0), d * kScale(sc, sc8, 1), acc);
            acc = q4Pair(w, o + 48, a, ab + 256, d * kScale(sc, sc8, 2), d * kScale(sc, sc8, 3), acc);
            acc = q4Pair(w, o + 80, a, ab + 512, d * kScale(sc, sc8, 4), d * kScale(sc, sc8, 5), acc);
            acc = q4Pair(w, o + 112, a, ab + 768, d * kScale(sc, sc8, 6), d * kScale(sc, sc8, 7), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD) - mins;
    }

    /** 32 packed bytes at {@code q}: low nibbles times activations at ap, high nibbles at ap+128. */
    private static FloatVector q4Pair(MemorySegment w, long q, MemorySegment a, long ap, float dLo, float dHi,
                                      FloatVector acc) {
        FloatVector lo = FloatVector.zero(F);
        FloatVector hi = lo;
        for (int j = 0; j < 32; j += L) {
            IntVector v = load(w, q + j);
            lo = toFloat(v.and(0x0F)).fma(x(a, ap + 4L * j), lo);
            hi = toFloat(v.lanewise(VectorOperators.LSHR, 4)).fma(x(a, ap + 128 + 4L * j), hi);
        }
        return hi.fma(FloatVector.broadcast(F, dHi), lo.fma(FloatVector.broadcast(F, dLo), acc));
    }

    private static float dotQ5K(MemorySegment w, long w0, long blocks, MemorySegment a, long a0, MemorySegment sums,
                                long s0) {
        FloatVector acc = FloatVector.zero(F);
        float mins = 0;
        for (long b = 0; b < blocks; b++) {
            long o = w0 + b * 176;
            long ab = a0 + b * 1024;
            long sb = s0 + b * 64;
            float d = Float.float16ToFloat(w.get(SHORT, o));
            float dmin = Float.float16ToFloat(w.get(SHORT, o + 2));
            long sc = scaleWord(w, o + 4);
            int sc8 = w.get(ValueLayout.JAVA_INT_UNALIGNED, o + 12);
            // scalar memory reads stay out of the vector code: a bounds check there can make
            // C2 keep (box) the live vectors for its deoptimisation path
            float blockMins = 0;
            for (int j = 0; j < 8; j++) {
                blockMins += kMin(sc, sc8, j) * (sums.get(FLOAT, sb + 8L * j) + sums.get(FLOAT, sb + 8L * j + 4));
            }
            for (int p = 0; p < 4; p++) {
                FloatVector lo = FloatVector.zero(F);
                FloatVector hi = lo;
                long ap = ab + 256L * p;
                for (int j = 0; j < 32; j += L) {
                    IntVector q = load(w, o + 48 + 32L * p + j);
                    IntVector h = load(w, o + 16 + j);
                    IntVector ql = q.and(0x0F).or(VectorDecoder.highBit(h, 2 * p));
                    IntVector qh = q.lanewise(VectorOperators.LSHR, 4).or(VectorDecoder.highBit(h, 2 * p + 1));
                    lo = toFloat(ql).fma(x(a, ap + 4L * j), lo);
                    hi = toFloat(qh).fma(x(a, ap + 128 + 4L * j), hi);
                }
                acc = lo.fma(FloatVector.broadcast(F, d * kScale(sc, sc8, 2 * p)), acc);
                acc = hi.fma(FloatVector.broadcast(F, d * kScale(sc, sc8, 2 * p + 1)), acc);
            }
            mins += dmin * blockMins;
        }
        return acc.reduceLanes(VectorOperators.ADD) - mins;
    }

    private static float dotQ6K(MemorySegment w, long w0, long blocks, MemorySegment a, long a0, MemorySegment sums,
                                long sumsOffset) {
        // Quants are used unsigned (0..63); the -32 offset is applied once per 16-value scale
        // group through the activation sums: fewer vector operations keep C2 from boxing.
        FloatVector acc = FloatVector.zero(F);
        float offset = 0;
        for (long b = 0; b < blocks; b++) {
            long o = w0 + b * 210;
            long ab = a0 + b * 1024;
            long sb = sumsOffset + b * 64;
            float d = Float.float16ToFloat(w.get(SHORT, o + 208));
            long s0 = w.get(ValueLayout.JAVA_LONG_UNALIGNED, o + 192);
            long s1 = w.get(ValueLayout.JAVA_LONG_UNALIGNED, o + 200);
            float blockOffset = 0;
            for (int g = 0; g < 16; g++) {
                blockOffset += (byte) ((g < 8 ? s0 : s1) >>> (8 * (g & 7))) * sums.get(FLOAT, sb + 4L * g);
            }
            offset += d * blockOffset;
            acc = q6Group(w, o, o + 128, a, ab, d * (byte) s0, d * (byte) (s0 >>> 16),
                    d * (byte) (s0 >>> 32), d * (byte) (s0 >>> 48), acc);
            acc = q6Group(w, o + 16, o + 144, a, ab + 64, d * (byte) (s0 >>> 8), d * (byte) (s0 >>> 24),
                    d * (byte) (s0 >>> 40), d * (byte) (s0 >>> 56), acc);
            acc = q6Group(w, o + 64, o + 160, a, ab + 512, d * (byte) s1, d * (byte) (s1 >>> 16),
                    d * (byte) (s1 >>> 32), d * (byte) (s1 >>> 48), acc);
            acc = q6Group(w, o + 80, o + 176, a, ab + 576, d * (byte) (s1 >>> 8), d * (byte) (s1 >>> 24),
                    d * (byte) (s1 >>> 40), d * (byte) (s1 >>> 56), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD) - 32 * offset;
    }

    /**
     * 16 positions l of a Q6_K half block: low bits at ql+l and ql+32+l, high bits at qh+l; the
     * four values of each position go to activations 0, 32, 64 and 96 floats apart.
     */
    private static FloatVector q6Group(MemorySegment w, long ql, long qh, MemorySegment a, long ap, float k1,
                                       float k2, float k3, float k4, FloatVector acc) {
        FloatVector s1 = FloatVector.zero(F);
        FloatVector s2 = s1;
        FloatVector s3 = s1;
        FloatVector s4 = s1;
        for (int j = 0; j < 16; j += L) {
            IntVector qa = load(w, ql + j);
            IntVector qb = load(w, ql + 32 + j);
            IntVector h = load(w, qh + j);
            IntVector q1 = qa.and(0x0F).or(h.and(3).lanewise(VectorOperators.LSHL, 4));
            IntVector q2 = qb.and(0x0F).or(h.and(12).lanewise(VectorOperators.LSHL, 2));
            IntVector q3 = qa.lanewise(VectorOperators.LSHR, 4).or(h.and(48));
            IntVector q4 = qb.lanewise(VectorOperators.LSHR, 4).or(h.lanewise(VectorOperators.LSHR, 2).and(48));
            long aj = ap + 4L * j;
            s1 = toFloat(q1).fma(x(a, aj), s1);
            s2 = toFloat(q2).fma(x(a, aj + 128), s2);
            s3 = toFloat(q3).fma(x(a, aj + 256), s3);
            s4 = toFloat(q4).fma(x(a, aj + 384), s4);
        }
        acc = s1.fma(FloatVector.broadcast(F, k1), acc);
        acc = s2.fma(FloatVector.broadcast(F, k2), acc);
        acc = s3.fma(FloatVector.broadcast(F, k3), acc);
        return s4.fma(FloatVector.broadcast(F, k4), acc);
    }

    /** The first 8 of the 12 K-quant scale bytes as one little-endian long. */
    private static long scaleWord(MemorySegment w, long s) {
        return w.get(ValueLayout.JAVA_LONG_UNALIGNED, s);
    }

    private static int sb(long lo8, int hi4, int i) {
        return i < 8 ? (int) (lo8 >>> (8 * i)) & 0xFF : (hi4 >>> (8 * (i - 8))) & 0xFF;
    }

    /** Q4_K/Q5_K 6-bit scale j, as ScalarDecoder.kScale, from the scale bytes held in registers. */
    private static int kScale(long lo8, int hi4, int j) {
        return j < 4 ? sb(lo8, hi4, j) & 63 : (sb(lo8, hi4, j + 4) & 0xF) | ((sb(lo8, hi4, j - 4) >> 6) << 4);
    }

    private static int kMin(long lo8, int hi4, int j) {
        return j < 4 ? sb(lo8, hi4, j + 4) & 63 : (sb(lo8, hi4, j + 4) >> 4) | ((sb(lo8, hi4, j) >> 6) << 4);
    }
}
