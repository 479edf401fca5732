package dev.ferry.moe.kernel;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link IntDot}'s kernels with 512-bit vectors, for machines with AVX-512 (same arguments,
 * same results up to float summation order). A 32-lane int16 vector holds one whole 32-value
 * Q4_K sub-block, or 32 positions of a Q6_K half block, so each multiply, pairwise sum,
 * conversion and FMA does twice the work of the 256-bit kernel: the decode kernels are bound
 * by their instruction count, not by memory, on the machines measured so far.
 *
 * <p>Q6_K has one scale per 16 values: after the pairwise sum, int lanes 0-7 of a product
 * belong to one scale and lanes 8-15 to the next, so the scale vector is two broadcasts
 * blended. On a machine without 512-bit vectors these methods still compute the right result
 * (the Vector API falls back to Java code), only slowly; {@link IntDot} calls them only where
 * the preferred species has 512 bits.
 */
final class IntDot512 {

    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final VectorSpecies<Byte> B32 = ByteVector.SPECIES_256;
    private static final VectorSpecies<Short> S32 = ShortVector.SPECIES_512;
    private static final VectorSpecies<Integer> I16 = IntVector.SPECIES_512;
    private static final VectorSpecies<Float> F16 = FloatVector.SPECIES_512;
    /** Shifts that spread the 4 bytes of an int over 8 lanes, each byte twice; twice over. */
    private static final int[] BYTE_PAIRS = {0, 0, 8, 8, 16, 16, 24, 24, 0, 0, 8, 8, 16, 16, 24, 24};
    /** Lanes 8-15. */
    private static final long UPPER_HALF = 0xFF00L;

    private IntDot512() {
    }

    /** Q4_K row against int16 activations; arguments as {@link IntDot#dot}. */
    static float dotQ4K(MemorySegment w, long w0, long blocks, MemorySegment q, long q0,
                        MemorySegment scales, long sc0, MemorySegment sums, long s0) {
        FloatVector accLo = FloatVector.zero(F16);
        FloatVector accHi = accLo;
        FloatVector mins = accLo;
        IntVector pairs = IntVector.fromArray(I16, BYTE_PAIRS, 0);
        VectorMask<Integer> upper = VectorMask.fromLong(I16, UPPER_HALF);
        for (long b = 0; b < blocks; b++) {
            long o = w0 + b * 144;
            long ab = q0 + b * 512;
            float d = Float.float16ToFloat(w.get(SHORT, o)) * scales.get(FLOAT, sc0 + 4 * b);
            float dmin = Float.float16ToFloat(w.get(SHORT, o + 2));
            long sc = w.get(ValueLayout.JAVA_LONG_UNALIGNED, o + 4);
            int sc8 = w.get(ValueLayout.JAVA_INT_UNALIGNED, o + 12);
            long kscales = FusedDot.kScales(sc, sc8);
            long minima = FusedDot.kMins(sc, sc8);
            // minimum j (per 32 values) spread over the two activation sums (per 16) it covers
            FloatVector m = (FloatVector) IntVector.broadcast(I16, (int) minima)
                    .blend(IntVector.broadcast(I16, (int) (minima >>> 32)), upper)
                    .lanewise(VectorOperators.LSHR, pairs).and(0xFF).convert(VectorOperators.I2F, 0);
            mins = m.mul(FloatVector.fromMemorySegment(F16, sums, s0 + b * 64, LE))
                    .fma(FloatVector.broadcast(F16, dmin), mins);
            // each pass: 32 packed bytes, low nibbles sub-block 2p, high nibbles sub-block 2p+1
            for (int p = 0; p < 4; p++) {
                long ap = ab + 128L * p;
                ShortVector v = (ShortVector) ByteVector.fromMemorySegment(B32, w, o + 16 + 32L * p, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2S, S32, 0);
                IntVector lo = v.and((short) 0x0F).mul(ShortVector.fromMemorySegment(S32, q, ap, LE)).reinterpretAsInts();
                IntVector hi = v.lanewise(VectorOperators.LSHR, 4).mul(ShortVector.fromMemorySegment(S32, q, ap + 64, LE))
                        .reinterpretAsInts();
                lo = lo.add(lo.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
                hi = hi.add(hi.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
                accLo = ((FloatVector) lo.convert(VectorOperators.I2F, 0))
                        .fma(FloatVector.broadcast(F16, d * (int) (kscales >>> (16 * p) & 0xFF)), accLo);
                accHi = ((FloatVector) hi.convert(VectorOperators.I2F, 0))
                        .fma(FloatVector.broadcast(F16, d * (int) (kscales >>> (16 * p + 8) & 0xFF)), accHi);
            }
        }
        return accLo.add(accHi).reduceLanes(VectorOperators.ADD) - mins.reduceLanes(VectorOperators.ADD);
    }

    /** Two Q4_K rows against one activation row; arguments as {@link IntDot#dotQ4KPair}. */
    static void dotQ4KPair(MemorySegment w, long w0, long w1, long cols, MemorySegment q, long q0,
                           MemorySegment scales, long sc0, MemorySegment sums, long s0, MemorySegment out,
                           long outIndex) {
        long blocks = cols / 256;
        FloatVector accA = FloatVector.zero(F16);
        FloatVector accB = accA;
        FloatVector minsA = accA;
        FloatVector minsB = accA;
        IntVector pairs = IntVector.fromArray(I16, BYTE_PAIRS, 0);
        VectorMask<Integer> upper = VectorMask.fromLong(I16, UPPER_HALF);
        for (long b = 0; b < blocks; b++) {
            long oa = w0 + b * 144;
            long ob = w1 + b * 144;
            long ab = q0 + b * 512;
            float dx = scales.get(FLOAT, sc0 + 4 * b);
            float da = Float.float16ToFloat(w.get(SHORT, oa)) * dx;
            float db = Float.float16ToFloat(w.get(SHORT, ob)) * dx;
            FloatVector blockSums = FloatVector.fromMemorySegment(F16, sums, s0 + b * 64, LE);
            long scA = w.get(ValueLayout.JAVA_LONG_UNALIGNED, oa + 4);
            int sc8A = w.get(ValueLayout.JAVA_INT_UNALIGNED, oa + 12);
            long scB = w.get(ValueLayout.JAVA_LONG_UNALIGNED, ob + 4);
            int sc8B = w.get(ValueLayout.JAVA_INT_UNALIGNED, ob + 12);
            long kscA = FusedDot.kScales(scA, sc8A);
            long kscB = FusedDot.kScales(scB, sc8B);
            long minA = FusedDot.kMins(scA, sc8A);
            long minB = FusedDot.kMins(scB, sc8B);
            minsA = ((FloatVector) IntVector.broadcast(I16, (int) minA).blend(IntVector.broadcast(I16, (int) (minA >>> 32)), upper)
                    .lanewise(VectorOperators.LSHR, pairs).and(0xFF).convert(VectorOperators.I2F, 0)).mul(blockSums)
                    .fma(FloatVector.broadcast(F16, Float.float16ToFloat(w.get(SHORT, oa + 2))), minsA);
            minsB = ((FloatVector) IntVector.broadcast(I16, (int) minB).blend(IntVector.broadcast(I16, (int) (minB >>> 32)), upper)
                    .lanewise(VectorOperators.LSHR, pairs).and(0xFF).convert(VectorOperators.I2F, 0)).mul(blockSums)
                    .fma(FloatVector.broadcast(F16, Float.float16ToFloat(w.get(SHORT, ob + 2))), minsB);
            for (int p = 0; p < 4; p++) {
                long ap = ab + 128L * p;
                ShortVector xLo = ShortVector.fromMemorySegment(S32, q, ap, LE);
                ShortVector xHi = ShortVector.fromMemorySegment(S32, q, ap + 64, LE);
                ShortVector v = (ShortVector) ByteVector.fromMemorySegment(B32, w, oa + 16 + 32L * p, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2S, S32, 0);
                IntVector lo = v.and((short) 0x0F).mul(xLo).reinterpretAsInts();
                IntVector hi = v.lanewise(VectorOperators.LSHR, 4).mul(xHi).reinterpretAsInts();
                lo = lo.add(lo.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
                hi = hi.add(hi.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
                accA = ((FloatVector) lo.convert(VectorOperators.I2F, 0))
                        .fma(FloatVector.broadcast(F16, da * (int) (kscA >>> (16 * p) & 0xFF)), accA);
                accA = ((FloatVector) hi.convert(VectorOperators.I2F, 0))
                        .fma(FloatVector.broadcast(F16, da * (int) (kscA >>> (16 * p + 8) & 0xFF)), accA);
                v = (ShortVector) ByteVector.fromMemorySegment(B32, w, ob + 16 + 32L * p, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2S, S32, 0);
                lo = v.and((short) 0x0F).mul(xLo).reinterpretAsInts();
                hi = v.lanewise(VectorOperators.LSHR, 4).mul(xHi).reinterpretAsInts();
                lo = lo.add(lo.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
                hi = hi.add(hi.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
                accB = ((FloatVector) lo.convert(VectorOperators.I2F, 0))
                        .fma(FloatVector.broadcast(F16, db * (int) (kscB >>> (16 * p) & 0xFF)), accB);
                accB = ((FloatVector) hi.convert(VectorOperators.I2F, 0))
                        .fma(FloatVector.broadcast(F16, db * (int) (kscB >>> (16 * p + 8) & 0xFF)), accB);
            }
        }
        out.setAtIndex(FLOAT, outIndex, accA.reduceLanes(VectorOperators.ADD) - minsA.reduceLanes(VectorOperators.ADD));
        out.setAtIndex(FLOAT, outIndex + 1,
                accB.reduceLanes(VectorOperators.ADD) - minsB.reduceLanes(VectorOperators.ADD));
    }

    /** Q6_K row against int16 activations; arguments as {@link IntDot#dot}, scratch of {@link IntDot#scratchBytes}. */
    static float dotQ6K(MemorySegment w, long w0, long blocks, MemorySegment q, long q0,
                        MemorySegment scales, long sc0, MemorySegment sums, long sumsOffset, MemorySegment scratch) {
        // Quants unsigned (0..63); the -32 offset goes through the activation sums per block.
        FloatVector acc1 = FloatVector.zero(F16);
        FloatVector acc2 = acc1;
        FloatVector acc3 = acc1;
        FloatVector acc4 = acc1;
        VectorMask<Float> upper = VectorMask.fromLong(F16, UPPER_HALF);
        for (long b = 0; b < blocks; b++) {
            long o = w0 + b * 210;
            long ab = q0 + b * 512;
            float dw = Float.float16ToFloat(w.get(SHORT, o + 208));
            FloatVector k = (FloatVector) ByteVector.fromMemorySegment(ByteVector.SPECIES_128, w, o + 192, LE)
                    .convertShape(VectorOperators.B2F, F16, 0);
            acc1 = k.mul(FloatVector.fromMemorySegment(F16, sums, sumsOffset + b * 64, LE))
                    .fma(FloatVector.broadcast(F16, -32 * dw), acc1);
            // the 16 scales times d, broadcast from memory below
            k.mul(dw * scales.get(FLOAT, sc0 + 4 * b)).intoMemorySegment(scratch, 0, LE);
            // half block h: positions 0-31; low bits at ql and ql+32, high bits at qh; the four
            // values of a position go to activations 0, 32, 64, 96 apart; positions 0-15 and
            // 16-31 have scales 8h+2j and 8h+2j+1 for the j-th value
            for (int h = 0; h < 2; h++) {
                long ql = o + 64L * h;
                long ap = ab + 256L * h;
                long sc = 32L * h;
                ShortVector qa = (ShortVector) ByteVector.fromMemorySegment(B32, w, ql, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2S, S32, 0);
                ShortVector qb = (ShortVector) ByteVector.fromMemorySegment(B32, w, ql + 32, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2S, S32, 0);
                ShortVector hb = (ShortVector) ByteVector.fromMemorySegment(B32, w, o + 128 + 32L * h, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2S, S32, 0);
                IntVector i1 = qa.and((short) 0x0F).or(hb.and((short) 3).lanewise(VectorOperators.LSHL, 4))
                        .mul(ShortVector.fromMemorySegment(S32, q, ap, LE)).reinterpretAsInts();
                IntVector i2 = qb.and((short) 0x0F).or(hb.and((short) 12).lanewise(VectorOperators.LSHL, 2))
                        .mul(ShortVector.fromMemorySegment(S32, q, ap + 64, LE)).reinterpretAsInts();
                IntVector i3 = qa.lanewise(VectorOperators.LSHR, 4).or(hb.and((short) 48))
                        .mul(ShortVector.fromMemorySegment(S32, q, ap + 128, LE)).reinterpretAsInts();
                IntVector i4 = qb.lanewise(VectorOperators.LSHR, 4).or(hb.lanewise(VectorOperators.LSHR, 2).and((short) 48))
                        .mul(ShortVector.fromMemorySegment(S32, q, ap + 192, LE)).reinterpretAsInts();
                i1 = i1.add(i1.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
                i2 = i2.add(i2.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
                i3 = i3.add(i3.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
                i4 = i4.add(i4.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
                acc1 = ((FloatVector) i1.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F16, scratch.get(FLOAT, sc))
                        .blend(scratch.get(FLOAT, sc + 4), upper), acc1);
                acc2 = ((FloatVector) i2.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F16, scratch.get(FLOAT, sc + 8))
                        .blend(scratch.get(FLOAT, sc + 12), upper), acc2);
                acc3 = ((FloatVector) i3.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F16, scratch.get(FLOAT, sc + 16))
                        .blend(scratch.get(FLOAT, sc + 20), upper), acc3);
                acc4 = ((FloatVector) i4.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F16, scratch.get(FLOAT, sc + 24))
                        .blend(scratch.get(FLOAT, sc + 28), upper), acc4);
            }
        }
        return acc1.add(acc2).add(acc3.add(acc4)).reduceLanes(VectorOperators.ADD);
    }
}
