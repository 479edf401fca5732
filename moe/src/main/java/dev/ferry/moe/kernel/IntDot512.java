package dev.ferry.moe.kernel;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link IntDot}'s kernels with 512-bit vectors, for machines with AVX-512 (same arguments,
 * same results up to float summation order). A 32-lane int16 vector holds one whole 32-value
 * Q4_K sub-block, or 32 positions of a Q6_K half block, so each multiply, pairwise sum,
 * conversion and FMA does twice the work of the 256-bit kernel. With the weights in cache the
 * kernels are bound by their instruction count; streamed from memory on the Xeon, decode waits
 * for its loads as much (bench/README.md, step 13).
 *
 * <p>Q6_K has one scale per 16 values: after the pairwise sum, int lanes 0-7 of a product
 * belong to one scale and lanes 8-15 to the next, so each scale vector is a shuffle of the
 * block's 16 scales. On a machine without 512-bit vectors these methods still compute the right result
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
    // one constant per shuffle, not an array: C2 folds a static final field, not an array element
    private static final VectorShuffle<Float> SCALES_0 = scalePair(0);
    private static final VectorShuffle<Float> SCALES_2 = scalePair(2);
    private static final VectorShuffle<Float> SCALES_4 = scalePair(4);
    private static final VectorShuffle<Float> SCALES_6 = scalePair(6);
    private static final VectorShuffle<Float> SCALES_8 = scalePair(8);
    private static final VectorShuffle<Float> SCALES_10 = scalePair(10);
    private static final VectorShuffle<Float> SCALES_12 = scalePair(12);
    private static final VectorShuffle<Float> SCALES_14 = scalePair(14);

    private IntDot512() {
    }

    /**
     * Q4_K row against int16 activations; arguments as {@link IntDot#dot}. The scales first
     * ({@link IntDot#kScales}), then one loop over the row's 32-byte chunks with no loop per
     * block inside it, as the 256-bit kernel (a 4-iteration loop per block made C2 set up a
     * pre/main/post loop with range checks for every block there).
     */
    static float dotQ4K(MemorySegment w, long w0, long blocks, MemorySegment q, long q0,
                        MemorySegment scales, long sc0, MemorySegment sums, long s0, MemorySegment scratch) {
        float mins = IntDot.kScales(w, w0, blocks, 144, scales, sc0, sums, s0, scratch, 0);
        FloatVector accLo = FloatVector.zero(F16);
        FloatVector accHi = accLo;
        long chunks = 4 * blocks;
        for (long j = 0; j < chunks; j++) {
            // chunk j of block j / 4: 32 packed bytes, low nibbles sub-block 2p, high nibbles 2p+1
            long qo = w0 + 16 + 32 * j + 16 * (j >> 2);
            long ap = q0 + 128 * j;
            ShortVector v = (ShortVector) ByteVector.fromMemorySegment(B32, w, qo, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S32, 0);
            IntVector lo = v.and((short) 0x0F).mul(ShortVector.fromMemorySegment(S32, q, ap, LE)).reinterpretAsInts();
            IntVector hi = v.lanewise(VectorOperators.LSHR, 4).mul(ShortVector.fromMemorySegment(S32, q, ap + 64, LE))
                    .reinterpretAsInts();
            lo = lo.add(lo.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
            hi = hi.add(hi.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
            accLo = ((FloatVector) lo.convert(VectorOperators.I2F, 0))
                    .fma(FloatVector.broadcast(F16, scratch.get(FLOAT, 8 * j)), accLo);
            accHi = ((FloatVector) hi.convert(VectorOperators.I2F, 0))
                    .fma(FloatVector.broadcast(F16, scratch.get(FLOAT, 8 * j + 4)), accHi);
        }
        return accLo.add(accHi).reduceLanes(VectorOperators.ADD) - mins;
    }

    /** Two Q4_K rows against one activation row; arguments as {@link IntDot#dotQ4KPair}, one chunk loop as {@link #dotQ4K}. */
    static void dotQ4KPair(MemorySegment w, long w0, long w1, long cols, MemorySegment q, long q0,
                           MemorySegment scales, long sc0, MemorySegment sums, long s0, MemorySegment out,
                           long outIndex, MemorySegment scratch) {
        long blocks = cols / 256;
        long rowB = 32 * blocks;
        // one row's scales after the other's, as in IntDot.dotQ4KPair256
        float minsA = IntDot.kScales(w, w0, blocks, 144, scales, sc0, sums, s0, scratch, 0);
        float minsB = IntDot.kScales(w, w1, blocks, 144, scales, sc0, sums, s0, scratch, rowB);
        FloatVector accA = FloatVector.zero(F16);
        FloatVector accA2 = accA;
        FloatVector accB = accA;
        FloatVector accB2 = accA;
        long chunks = 4 * blocks;
        for (long j = 0; j < chunks; j++) {
            long qo = 16 + 32 * j + 16 * (j >> 2);
            long ap = q0 + 128 * j;
            ShortVector xLo = ShortVector.fromMemorySegment(S32, q, ap, LE);
            ShortVector xHi = ShortVector.fromMemorySegment(S32, q, ap + 64, LE);
            ShortVector v = (ShortVector) ByteVector.fromMemorySegment(B32, w, w0 + qo, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S32, 0);
            IntVector lo = v.and((short) 0x0F).mul(xLo).reinterpretAsInts();
            IntVector hi = v.lanewise(VectorOperators.LSHR, 4).mul(xHi).reinterpretAsInts();
            lo = lo.add(lo.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
            hi = hi.add(hi.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
            accA = ((FloatVector) lo.convert(VectorOperators.I2F, 0))
                    .fma(FloatVector.broadcast(F16, scratch.get(FLOAT, 8 * j)), accA);
            accA2 = ((FloatVector) hi.convert(VectorOperators.I2F, 0))
                    .fma(FloatVector.broadcast(F16, scratch.get(FLOAT, 8 * j + 4)), accA2);
            v = (ShortVector) ByteVector.fromMemorySegment(B32, w, w1 + qo, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S32, 0);
            lo = v.and((short) 0x0F).mul(xLo).reinterpretAsInts();
            hi = v.lanewise(VectorOperators.LSHR, 4).mul(xHi).reinterpretAsInts();
            lo = lo.add(lo.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
            hi = hi.add(hi.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
            accB = ((FloatVector) lo.convert(VectorOperators.I2F, 0))
                    .fma(FloatVector.broadcast(F16, scratch.get(FLOAT, rowB + 8 * j)), accB);
            accB2 = ((FloatVector) hi.convert(VectorOperators.I2F, 0))
                    .fma(FloatVector.broadcast(F16, scratch.get(FLOAT, rowB + 8 * j + 4)), accB2);
        }
        out.setAtIndex(FLOAT, outIndex, accA.add(accA2).reduceLanes(VectorOperators.ADD) - minsA);
        out.setAtIndex(FLOAT, outIndex + 1, accB.add(accB2).reduceLanes(VectorOperators.ADD) - minsB);
    }

    /**
     * Q6_K row against int16 activations; arguments as {@link IntDot#dot}, scratch of {@link IntDot#scratchBytes}.
     * Per block the 16 scales times d become the 8 scale vectors the products need (lanes 0-7 one
     * scale, 8-15 the next) in scratch, so the group loop takes each with one vector load. Built
     * there from two broadcasts and a blend, C2 boxed the vectors: two heap allocations per group
     * (measured on the Xeon: 0.7-0.8x the 256-bit kernel).
     */
    static float dotQ6K(MemorySegment w, long w0, long blocks, MemorySegment q, long q0,
                        MemorySegment scales, long sc0, MemorySegment sums, long sumsOffset, MemorySegment scratch) {
        // Quants unsigned (0..63); the -32 offset goes through the activation sums per block.
        FloatVector acc1 = FloatVector.zero(F16);
        FloatVector acc2 = acc1;
        FloatVector acc3 = acc1;
        FloatVector acc4 = acc1;
        for (long b = 0; b < blocks; b++) {
            long o = w0 + b * 210;
            long ab = q0 + b * 512;
            float dw = Float.float16ToFloat(w.get(SHORT, o + 208));
            FloatVector k = (FloatVector) ByteVector.fromMemorySegment(ByteVector.SPECIES_128, w, o + 192, LE)
                    .convertShape(VectorOperators.B2F, F16, 0);
            acc1 = k.mul(FloatVector.fromMemorySegment(F16, sums, sumsOffset + b * 64, LE))
                    .fma(FloatVector.broadcast(F16, -32 * dw), acc1);
            FloatVector kd = k.mul(dw * scales.get(FLOAT, sc0 + 4 * b));
            kd.rearrange(SCALES_0).intoMemorySegment(scratch, 0, LE);
            kd.rearrange(SCALES_2).intoMemorySegment(scratch, 64, LE);
            kd.rearrange(SCALES_4).intoMemorySegment(scratch, 128, LE);
            kd.rearrange(SCALES_6).intoMemorySegment(scratch, 192, LE);
            kd.rearrange(SCALES_8).intoMemorySegment(scratch, 256, LE);
            kd.rearrange(SCALES_10).intoMemorySegment(scratch, 320, LE);
            kd.rearrange(SCALES_12).intoMemorySegment(scratch, 384, LE);
            kd.rearrange(SCALES_14).intoMemorySegment(scratch, 448, LE);
            // half block h: positions 0-31; low bits at ql and ql+32, high bits at qh; the four
            // values of a position go to activations 0, 32, 64, 96 apart; positions 0-15 and
            // 16-31 have scales 8h+2j and 8h+2j+1 for the j-th value
            for (int h = 0; h < 2; h++) {
                long ql = o + 64L * h;
                long ap = ab + 256L * h;
                long sc = 256L * h;
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
                acc1 = ((FloatVector) i1.convert(VectorOperators.I2F, 0))
                        .fma(FloatVector.fromMemorySegment(F16, scratch, sc, LE), acc1);
                acc2 = ((FloatVector) i2.convert(VectorOperators.I2F, 0))
                        .fma(FloatVector.fromMemorySegment(F16, scratch, sc + 64, LE), acc2);
                acc3 = ((FloatVector) i3.convert(VectorOperators.I2F, 0))
                        .fma(FloatVector.fromMemorySegment(F16, scratch, sc + 128, LE), acc3);
                acc4 = ((FloatVector) i4.convert(VectorOperators.I2F, 0))
                        .fma(FloatVector.fromMemorySegment(F16, scratch, sc + 192, LE), acc4);
            }
        }
        return acc1.add(acc2).add(acc3.add(acc4)).reduceLanes(VectorOperators.ADD);
    }

    /** Lanes 0-7 take scale {@code s}, lanes 8-15 scale {@code s + 1}: a Q6_K product's 32 positions. */
    private static VectorShuffle<Float> scalePair(int s) {
        int[] lanes = new int[16];
        for (int i = 0; i < 16; i++) {
            lanes[i] = i < 8 ? s : s + 1;
        }
        return VectorShuffle.fromArray(F16, lanes, 0);
    }
}
