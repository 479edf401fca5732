package dev.ferry.moe.kernel;

import dev.ferry.loader.GgmlType;
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
 * Integer dot products of one quantized weight row with one activation row rounded to Q8_K
 * (Q4_0: Q8_0) and kept as int16 ({@link ActivationQuantizer#roundQ8}), for products of one to
 * three tokens per row (decode, small expert batches).
 *
 * <p>Per 16 weights: the packed quants are widened to 16 int16 lanes (one {@code vpmovzxbw} or
 * {@code vpmovsxbw}), masked/shifted to their value, multiplied with 16 int16 activations
 * ({@code vpmullw}); two such products are added while they still fit in 16 bits, then adjacent
 * int16 lanes are summed into 8 int32 lanes (three shifts/adds on the vector reinterpreted as
 * ints). Only then is there one int-to-float conversion and one scale FMA per 32 (Q6_K: 16)
 * values, and one horizontal reduction per row. Measured (one thread, data in cache) this is
 * about 1.5x faster than widening every quant to float ({@link FusedDot}).
 *
 * <p>Bounds that make the 16-bit sums exact: activations are in [-127, 127]; Q4_K nibbles
 * 0..15 (a lane pair of two products each: at most 4 * 15 * 127 = 7620); Q5_K values 0..31
 * (4 * 31 * 127 = 15748); Q4_0 nibbles 0..15, the -8 through the activation sums (2 * 2 * 15 * 127);
 * Q6_K quants 0..63
 * unsigned, the -32 offset applied through the activation sums (a lane pair: 2 * 63 * 127 =
 * 16002).
 *
 * <p>Each type's kernel is one method with no helper that takes or returns a vector: C2 only
 * keeps vectors in registers when the loop is one compiled method. The species here are fixed
 * at 256 bits, {@link #AVAILABLE} says whether the machine runs them natively; where the
 * preferred species has 512 bits ({@link #WIDE}) the same products run in {@link IntDot512}
 * (Q4_0 and Q5_K have only these 256-bit kernels; {@link #handles} offers Q5_K on AVX2 machines only).
 */
final class IntDot {

    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final VectorSpecies<Byte> B16 = ByteVector.SPECIES_128;
    private static final VectorSpecies<Short> S16 = ShortVector.SPECIES_256;
    private static final VectorSpecies<Integer> I8 = IntVector.SPECIES_256;
    private static final VectorSpecies<Integer> I4 = IntVector.SPECIES_128;
    private static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;
    /**
     * A Q4_K/Q5_K block header as 4 ints (d and dmin, then the 12 packed scale bytes) to the 8
     * scale bytes and the 8 minimum bytes: ints 1, 3, 2, 3 shifted and masked (the low 6 bits or
     * 4 bits), or'ed with the top 2 bits of ints 1, 1, 2, 2 moved to bits 4-5: the vector form of
     * {@link FusedDot#kScales(long, int)} and {@link FusedDot#kMins(long, int)} in one step.
     */
    private static final VectorShuffle<Integer> PICK = VectorShuffle.fromValues(I4, 1, 3, 2, 3);
    private static final VectorShuffle<Integer> HIGH = VectorShuffle.fromValues(I4, 1, 1, 2, 2);
    private static final int[] HEADER_SHIFTS = {0, 0, 0, 4};
    private static final int[] HEADER_MASKS = {0x3F3F3F3F, 0x0F0F0F0F, 0x3F3F3F3F, 0x0F0F0F0F};
    private static final int[] HEADER_HIGH_MASKS = {0, 0x30303030, 0, 0x30303030};
    /** Minimum bytes 8-11 (12-15 for {@link #MIN_HI}) each twice: one lane per 16 values. */
    private static final VectorShuffle<Byte> MIN_LO = VectorShuffle.fromValues(B16,
            8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15);
    private static final VectorShuffle<Byte> MIN_HI = VectorShuffle.fromValues(B16,
            12, 12, 13, 13, 14, 14, 15, 15, 8, 8, 9, 9, 10, 10, 11, 11);

    /**
     * Bytes of the per-worker scratch that {@link #dot} and {@link #dotQ4KPair} take for rows of
     * {@code cols} values: the row's sub-block scales times d as floats (Q4_K, Q5_K: 8 per block and
     * row, two rows; Q6_K: one half block's 8, or at 512 bits a block's 8 scale vectors), so the
     * inner loop loads each from memory instead of converting and multiplying it there.
     */
    static long scratchBytes(long cols) {
        return Math.max(512, 64 * (cols / 256));
    }

    /** True when 256-bit vectors are native (AVX2 or wider): the preferred int species has 256 bits or more. */
    static final boolean AVAILABLE = IntVector.SPECIES_PREFERRED.vectorBitSize() >= 256;

    /** True when 512-bit vectors are native (AVX-512): the kernels of {@link IntDot512} run instead. */
    static final boolean WIDE = IntVector.SPECIES_PREFERRED.vectorBitSize() >= 512;

    private IntDot() {
    }

    /**
     * Weight types with an integer kernel (their activations are Q8_K; Q4_0's are Q8_0). Q8_0 has none: its
     * int8 x int8 products need two 16-bit lanes per pair, and the float kernel was as fast.
     */
    static boolean handles(GgmlType type) {
        return switch (type) {
            // Q4_0 has only the 256-bit kernel, and on the AVX-512 Xeon it ran 1.1-1.5x the
            // 16-lane fused float kernel (one thread, 768 x 2048)
            case Q4_K, Q6_K, Q4_0 -> true;
            // Q5_K's 256-bit kernel only matched the fused float kernel there: AVX-512 keeps that one
            case Q5_K -> !WIDE;
            default -> false;
        };
    }

    /**
     * Up to this many tokens per weight row, running this kernel once per token beats decoding
     * the row to float32 once and multiplying it with every token (measured on the AVX2 machine,
     * one thread, 768 x 2048: Q6_K at 3 tokens 0.195 ns per multiply-add here against 0.21
     * decoded, at 4 tokens 0.19-0.20 against 0.155).
     */
    static int maxTokens(GgmlType type) {
        return switch (type) {
            case Q4_0, Q4_K, Q5_K, Q6_K -> 3;
            default -> 0;
        };
    }

    /**
     * Dot product of the {@code cols}-value row at byte {@code w0} of {@code w} with the int16
     * activations at byte {@code q0} of {@code q}, whose block scales start at byte {@code sc0}
     * of {@code scales} and whose sums per 16 values (scale times integer sum) at byte
     * {@code s0} of {@code sums}. {@code scratch} (at least {@link #scratchBytes} of {@code cols}, overwritten)
     * belongs to the calling worker.
     */
    static float dot(GgmlType type, MemorySegment w, long w0, long cols, MemorySegment q, long q0,
                     MemorySegment scales, long sc0, MemorySegment sums, long s0, MemorySegment scratch) {
        return WIDE ? dot512(type, w, w0, cols, q, q0, scales, sc0, sums, s0, scratch)
                : dot256(type, w, w0, cols, q, q0, scales, sc0, sums, s0, scratch);
    }

    /** {@link #dot} with the 512-bit kernels, whatever the machine (slow where they are not native). */
    static float dot512(GgmlType type, MemorySegment w, long w0, long cols, MemorySegment q, long q0,
                        MemorySegment scales, long sc0, MemorySegment sums, long s0, MemorySegment scratch) {
        return switch (type) {
            case Q4_K -> IntDot512.dotQ4K(w, w0, cols / 256, q, q0, scales, sc0, sums, s0, scratch);
            case Q4_0 -> dotQ4_0(w, w0, cols / 32, q, q0, scales, sc0, sums, s0); // no 512-bit form yet
            case Q5_K -> dotQ5K(w, w0, cols / 256, q, q0, scales, sc0, sums, s0, scratch); // no 512-bit form yet
            case Q6_K -> IntDot512.dotQ6K(w, w0, cols / 256, q, q0, scales, sc0, sums, s0, scratch);
            default -> throw new IllegalArgumentException("no integer dot for " + type);
        };
    }

    /** {@link #dot} with the 256-bit kernels. */
    static float dot256(GgmlType type, MemorySegment w, long w0, long cols, MemorySegment q, long q0,
                        MemorySegment scales, long sc0, MemorySegment sums, long s0, MemorySegment scratch) {
        return switch (type) {
            case Q4_K -> dotQ4K(w, w0, cols / 256, q, q0, scales, sc0, sums, s0, scratch);
            case Q4_0 -> dotQ4_0(w, w0, cols / 32, q, q0, scales, sc0, sums, s0);
            case Q5_K -> dotQ5K(w, w0, cols / 256, q, q0, scales, sc0, sums, s0, scratch);
            case Q6_K -> dotQ6K(w, w0, cols / 256, q, q0, scales, sc0, sums, s0, scratch);
            default -> throw new IllegalArgumentException("no integer dot for " + type);
        };
    }

    /**
     * Writes the {@code blocks} Q4_K or Q5_K blocks' ({@code blockBytes} each, both start with d,
     * dmin and the same 12 packed scale bytes) sub-block scales times d times the activation block
     * scale as floats (8 per block) to {@code scratch} from byte {@code at}, and returns the
     * row's minimum term (dmin times each sub-block minimum times its activation sum).
     */
    static float kScales(MemorySegment w, long w0, long blocks, long blockBytes, MemorySegment scales,
                         long sc0, MemorySegment sums, long s0, MemorySegment scratch, long at) {
        FloatVector mins = FloatVector.zero(F8);
        IntVector shifts = IntVector.fromArray(I4, HEADER_SHIFTS, 0);
        IntVector masks = IntVector.fromArray(I4, HEADER_MASKS, 0);
        IntVector highMasks = IntVector.fromArray(I4, HEADER_HIGH_MASKS, 0);
        long rowBytes = blocks * blockBytes;
        long b = 0;
        // the stride is not a constant, so this is no counted loop: C2 keeps one compare per
        // access instead of range-check-elimination set-up that costs more than a few blocks
        for (long o = 0; o < rowBytes; o += blockBytes, b++) {
            long sb = s0 + 64 * b;
            IntVector h = IntVector.fromMemorySegment(I4, w, w0 + o, LE);
            ByteVector k = h.rearrange(PICK).lanewise(VectorOperators.LSHR, shifts).and(masks)
                    .or(h.rearrange(HIGH).lanewise(VectorOperators.LSHR, 2).and(highMasks)).reinterpretAsBytes();
            int dm = h.lane(0);
            ((FloatVector) k.convertShape(VectorOperators.B2F, F8, 0))
                    .mul(Float.float16ToFloat((short) dm) * scales.get(FLOAT, sc0 + 4 * b))
                    .intoMemorySegment(scratch, at + 32 * b, LE);
            mins = ((FloatVector) k.rearrange(MIN_LO).convertShape(VectorOperators.B2F, F8, 0))
                    .mul(FloatVector.fromMemorySegment(F8, sums, sb, LE))
                    .add(((FloatVector) k.rearrange(MIN_HI).convertShape(VectorOperators.B2F, F8, 0))
                            .mul(FloatVector.fromMemorySegment(F8, sums, sb + 32, LE)))
                    .fma(FloatVector.broadcast(F8, Float.float16ToFloat((short) (dm >>> 16))), mins);
        }
        return mins.reduceLanes(VectorOperators.ADD);
    }

    /**
     * One Q4_K row: the scales first ({@link #kScales}), then one loop over the row's 32-byte
     * quant chunks (64 values: low nibbles one sub-block, high nibbles the next). A loop over the
     * four chunks of each block inside the block loop made C2 set up a pre/main/post loop with
     * range checks per block, more scalar work than the vector work (the pair kernel ran 2x
     * slower that way, one thread, in cache).
     */
    private static float dotQ4K(MemorySegment w, long w0, long blocks, MemorySegment q, long q0,
                                MemorySegment scales, long sc0, MemorySegment sums, long s0, MemorySegment scratch) {
        float mins = kScales(w, w0, blocks, 144, scales, sc0, sums, s0, scratch, 0);
        FloatVector accLo = FloatVector.zero(F8);
        FloatVector accHi = accLo;
        long chunks = 4 * blocks;
        for (long j = 0; j < chunks; j++) {
            // chunk j of block j / 4 starts 16 + 32 * (j % 4) bytes into its 144-byte block
            long qo = w0 + 16 + 32 * j + 16 * (j >> 2);
            long ap = q0 + 128 * j;
            ShortVector v0 = (ShortVector) ByteVector.fromMemorySegment(B16, w, qo, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S16, 0);
            ShortVector v1 = (ShortVector) ByteVector.fromMemorySegment(B16, w, qo + 16, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S16, 0);
            ShortVector lo = v0.and((short) 0x0F).mul(ShortVector.fromMemorySegment(S16, q, ap, LE))
                    .add(v1.and((short) 0x0F).mul(ShortVector.fromMemorySegment(S16, q, ap + 32, LE)));
            ShortVector hi = v0.lanewise(VectorOperators.LSHR, 4)
                    .mul(ShortVector.fromMemorySegment(S16, q, ap + 64, LE))
                    .add(v1.lanewise(VectorOperators.LSHR, 4).mul(ShortVector.fromMemorySegment(S16, q, ap + 96, LE)));
            // adjacent int16 lanes summed in the upper half of each int (the sum fits in 16 bits)
            IntVector li = lo.reinterpretAsInts();
            IntVector hiI = hi.reinterpretAsInts();
            IntVector sLo = li.add(li.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
            IntVector sHi = hiI.add(hiI.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
            accLo = ((FloatVector) sLo.convert(VectorOperators.I2F, 0))
                    .fma(FloatVector.broadcast(F8, scratch.get(FLOAT, 8 * j)), accLo);
            accHi = ((FloatVector) sHi.convert(VectorOperators.I2F, 0))
                    .fma(FloatVector.broadcast(F8, scratch.get(FLOAT, 8 * j + 4)), accHi);
        }
        return accLo.add(accHi).reduceLanes(VectorOperators.ADD) - mins;
    }

    /**
     * Two Q4_K rows at bytes {@code w0} and {@code w1} against one activation row (arguments as
     * {@link #dot}), written to floats {@code outIndex} and {@code outIndex + 1} of {@code out}:
     * each activation vector is loaded once for both rows (measured about 12% faster than two
     * single-row passes).
     */
    static void dotQ4KPair(MemorySegment w, long w0, long w1, long cols, MemorySegment q, long q0,
                           MemorySegment scales, long sc0, MemorySegment sums, long s0, MemorySegment out,
                           long outIndex, MemorySegment scratch) {
        if (WIDE) {
            IntDot512.dotQ4KPair(w, w0, w1, cols, q, q0, scales, sc0, sums, s0, out, outIndex, scratch);
        } else {
            dotQ4KPair256(w, w0, w1, cols, q, q0, scales, sc0, sums, s0, out, outIndex, scratch);
        }
    }

    /** {@link #dotQ4KPair} with the 256-bit kernel, one chunk loop as {@link #dotQ4K}. */
    static void dotQ4KPair256(MemorySegment w, long w0, long w1, long cols, MemorySegment q, long q0,
                              MemorySegment scales, long sc0, MemorySegment sums, long s0, MemorySegment out,
                              long outIndex, MemorySegment scratch) {
        long blocks = cols / 256;
        long rowB = 32 * blocks;
        // one row's scales after the other's: the second row starts where the first ends, so the
        // hardware prefetcher's stream over the first runs on into it (interleaving the two rows'
        // block headers left the second row's first touches waiting on memory)
        float minsA = kScales(w, w0, blocks, 144, scales, sc0, sums, s0, scratch, 0);
        float minsB = kScales(w, w1, blocks, 144, scales, sc0, sums, s0, scratch, rowB);
        FloatVector accA = FloatVector.zero(F8);
        FloatVector accA2 = accA;
        FloatVector accB = accA;
        FloatVector accB2 = accA;
        long chunks = 4 * blocks;
        for (long j = 0; j < chunks; j++) {
            long qo = 16 + 32 * j + 16 * (j >> 2);
            long ap = q0 + 128 * j;
            ShortVector x0 = ShortVector.fromMemorySegment(S16, q, ap, LE);
            ShortVector x1 = ShortVector.fromMemorySegment(S16, q, ap + 32, LE);
            ShortVector x2 = ShortVector.fromMemorySegment(S16, q, ap + 64, LE);
            ShortVector x3 = ShortVector.fromMemorySegment(S16, q, ap + 96, LE);
            ShortVector v0 = (ShortVector) ByteVector.fromMemorySegment(B16, w, w0 + qo, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S16, 0);
            ShortVector v1 = (ShortVector) ByteVector.fromMemorySegment(B16, w, w0 + qo + 16, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S16, 0);
            IntVector lo = v0.and((short) 0x0F).mul(x0).add(v1.and((short) 0x0F).mul(x1)).reinterpretAsInts();
            IntVector hi = v0.lanewise(VectorOperators.LSHR, 4).mul(x2)
                    .add(v1.lanewise(VectorOperators.LSHR, 4).mul(x3)).reinterpretAsInts();
            lo = lo.add(lo.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
            hi = hi.add(hi.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
            accA = ((FloatVector) lo.convert(VectorOperators.I2F, 0))
                    .fma(FloatVector.broadcast(F8, scratch.get(FLOAT, 8 * j)), accA);
            accA2 = ((FloatVector) hi.convert(VectorOperators.I2F, 0))
                    .fma(FloatVector.broadcast(F8, scratch.get(FLOAT, 8 * j + 4)), accA2);
            v0 = (ShortVector) ByteVector.fromMemorySegment(B16, w, w1 + qo, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S16, 0);
            v1 = (ShortVector) ByteVector.fromMemorySegment(B16, w, w1 + qo + 16, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S16, 0);
            lo = v0.and((short) 0x0F).mul(x0).add(v1.and((short) 0x0F).mul(x1)).reinterpretAsInts();
            hi = v0.lanewise(VectorOperators.LSHR, 4).mul(x2)
                    .add(v1.lanewise(VectorOperators.LSHR, 4).mul(x3)).reinterpretAsInts();
            lo = lo.add(lo.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
            hi = hi.add(hi.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
            accB = ((FloatVector) lo.convert(VectorOperators.I2F, 0))
                    .fma(FloatVector.broadcast(F8, scratch.get(FLOAT, rowB + 8 * j)), accB);
            accB2 = ((FloatVector) hi.convert(VectorOperators.I2F, 0))
                    .fma(FloatVector.broadcast(F8, scratch.get(FLOAT, rowB + 8 * j + 4)), accB2);
        }
        out.setAtIndex(FLOAT, outIndex, accA.add(accA2).reduceLanes(VectorOperators.ADD) - minsA);
        out.setAtIndex(FLOAT, outIndex + 1, accB.add(accB2).reduceLanes(VectorOperators.ADD) - minsB);
    }

    /**
     * One Q4_0 row against Q8_0-rounded int16 activations: per 32-value block one 16-byte load
     * widened to 16 int16 lanes, low nibbles times activations 0-15 plus high nibbles times 16-31
     * (at most 2 * 15 * 127 per lane), lane pairs summed into ints, one conversion and one FMA with
     * d times the activation block scale. The -8 offset goes through the activation sums per 16.
     */
    private static float dotQ4_0(MemorySegment w, long w0, long blocks, MemorySegment q, long q0,
                                 MemorySegment scales, long sc0, MemorySegment sums, long s0) {
        FloatVector acc = FloatVector.zero(F8);
        float offset = 0;
        for (long b = 0; b < blocks; b++) {
            long o = w0 + 18 * b;
            long ap = q0 + 64 * b;
            float d = Float.float16ToFloat(w.get(SHORT, o));
            offset += d * (sums.get(FLOAT, s0 + 8 * b) + sums.get(FLOAT, s0 + 8 * b + 4));
            ShortVector v = (ShortVector) ByteVector.fromMemorySegment(B16, w, o + 2, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S16, 0);
            IntVector p = v.and((short) 0x0F).mul(ShortVector.fromMemorySegment(S16, q, ap, LE))
                    .add(v.lanewise(VectorOperators.LSHR, 4).mul(ShortVector.fromMemorySegment(S16, q, ap + 32, LE)))
                    .reinterpretAsInts();
            p = p.add(p.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
            acc = ((FloatVector) p.convert(VectorOperators.I2F, 0))
                    .fma(FloatVector.broadcast(F8, d * scales.get(FLOAT, sc0 + 4 * b)), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD) - 8 * offset;
    }

    /**
     * One Q5_K row, as {@link #dotQ4K} with the fifth bit: chunk j's 32 quant bytes give the low
     * four bits of sub-blocks 2p and 2p+1 (p = j % 4), bits 2p and 2p+1 of the block's 32 high-bit
     * bytes the fifth. Values 0..31, so two products still fit 16 bits (at most 2 * 31 * 127).
     */
    private static float dotQ5K(MemorySegment w, long w0, long blocks, MemorySegment q, long q0,
                                MemorySegment scales, long sc0, MemorySegment sums, long s0, MemorySegment scratch) {
        float mins = kScales(w, w0, blocks, 176, scales, sc0, sums, s0, scratch, 0);
        FloatVector accLo = FloatVector.zero(F8);
        FloatVector accHi = accLo;
        long chunks = 4 * blocks;
        for (long j = 0; j < chunks; j++) {
            // chunk j of block j / 4: quants 48 + 32 * (j % 4) bytes into the 176-byte block, high bits at 16
            long qo = w0 + 48 + 32 * j + 48 * (j >> 2);
            long ho = w0 + 16 + 176 * (j >> 2);
            long ap = q0 + 128 * j;
            int bit = 2 * (int) (j & 3);
            ShortVector v0 = (ShortVector) ByteVector.fromMemorySegment(B16, w, qo, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S16, 0);
            ShortVector v1 = (ShortVector) ByteVector.fromMemorySegment(B16, w, qo + 16, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S16, 0);
            // the high-bit bytes moved up by 4, so bit 2p (2p+1) lands on 16 after a shift by 2p (2p+1)
            ShortVector h0 = ((ShortVector) ByteVector.fromMemorySegment(B16, w, ho, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S16, 0)).lanewise(VectorOperators.LSHL, 4);
            ShortVector h1 = ((ShortVector) ByteVector.fromMemorySegment(B16, w, ho + 16, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S16, 0)).lanewise(VectorOperators.LSHL, 4);
            ShortVector lo = v0.and((short) 0x0F).or(h0.lanewise(VectorOperators.LSHR, bit).and((short) 16))
                    .mul(ShortVector.fromMemorySegment(S16, q, ap, LE))
                    .add(v1.and((short) 0x0F).or(h1.lanewise(VectorOperators.LSHR, bit).and((short) 16))
                            .mul(ShortVector.fromMemorySegment(S16, q, ap + 32, LE)));
            ShortVector hi = v0.lanewise(VectorOperators.LSHR, 4)
                    .or(h0.lanewise(VectorOperators.LSHR, bit + 1).and((short) 16))
                    .mul(ShortVector.fromMemorySegment(S16, q, ap + 64, LE))
                    .add(v1.lanewise(VectorOperators.LSHR, 4)
                            .or(h1.lanewise(VectorOperators.LSHR, bit + 1).and((short) 16))
                            .mul(ShortVector.fromMemorySegment(S16, q, ap + 96, LE)));
            IntVector li = lo.reinterpretAsInts();
            IntVector hiI = hi.reinterpretAsInts();
            IntVector sLo = li.add(li.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
            IntVector sHi = hiI.add(hiI.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
            accLo = ((FloatVector) sLo.convert(VectorOperators.I2F, 0))
                    .fma(FloatVector.broadcast(F8, scratch.get(FLOAT, 8 * j)), accLo);
            accHi = ((FloatVector) sHi.convert(VectorOperators.I2F, 0))
                    .fma(FloatVector.broadcast(F8, scratch.get(FLOAT, 8 * j + 4)), accHi);
        }
        return accLo.add(accHi).reduceLanes(VectorOperators.ADD) - mins;
    }

    private static float dotQ6K(MemorySegment w, long w0, long blocks, MemorySegment q, long q0,
                                MemorySegment scales, long sc0, MemorySegment sums, long sumsOffset,
                                MemorySegment scratch) {
        // Quants are used unsigned (0..63); the -32 offset is applied once per 16-value scale
        // group through the activation sums.
        FloatVector acc1 = FloatVector.zero(F8);
        FloatVector acc2 = acc1;
        FloatVector acc3 = acc1;
        FloatVector acc4 = acc1;
        long halves = 2 * blocks;
        // One flat loop over half blocks (128 values, 8 scales, two groups). A 4-group loop
        // inside the block loop became a pre/main/post loop nest with a peeled first group, its
        // range-check set-up run again for every block; the 2-group loop here stays one plain loop.
        for (long j = 0; j < halves; j++) {
            long o = w0 + 210 * (j >> 1);
            long half = j & 1;
            long ql = o + 64 * half;
            long qh = o + 128 + 32 * half;
            long ap = q0 + 256 * j;
            float dw = Float.float16ToFloat(w.get(SHORT, o + 208));
            // the half's 8 int8 scales times its 8 activation sums: -32 * dw * that is its offset
            FloatVector k = (FloatVector) ByteVector.fromMemorySegment(ByteVector.SPECIES_64, w, o + 192 + 8 * half, LE)
                    .convertShape(VectorOperators.B2F, F8, 0);
            acc1 = k.mul(FloatVector.fromMemorySegment(F8, sums, sumsOffset + 32 * j, LE))
                    .fma(FloatVector.broadcast(F8, -32 * dw), acc1);
            // the scales times d, floats 0-7 of scratch: broadcast from memory in the group loop
            k.mul(dw * scales.get(FLOAT, sc0 + 4 * (j >> 1))).intoMemorySegment(scratch, 0, LE);
            // group l: 16 positions at ql + 16l (and ql + 32 + 16l), high bits at qh + 16l; the
            // four values of a position go to activations 64 bytes apart and use scales 2 apart
            for (int l = 0; l < 2; l++) {
                long a = ap + 32 * l;
                ShortVector qa = (ShortVector) ByteVector.fromMemorySegment(B16, w, ql + 16 * l, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2S, S16, 0);
                ShortVector qb = (ShortVector) ByteVector.fromMemorySegment(B16, w, ql + 32 + 16 * l, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2S, S16, 0);
                ShortVector h = (ShortVector) ByteVector.fromMemorySegment(B16, w, qh + 16 * l, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2S, S16, 0);
                ShortVector p1 = qa.and((short) 0x0F).or(h.and((short) 3).lanewise(VectorOperators.LSHL, 4))
                        .mul(ShortVector.fromMemorySegment(S16, q, a, LE));
                ShortVector p2 = qb.and((short) 0x0F).or(h.and((short) 12).lanewise(VectorOperators.LSHL, 2))
                        .mul(ShortVector.fromMemorySegment(S16, q, a + 64, LE));
                ShortVector p3 = qa.lanewise(VectorOperators.LSHR, 4).or(h.and((short) 48))
                        .mul(ShortVector.fromMemorySegment(S16, q, a + 128, LE));
                ShortVector p4 = qb.lanewise(VectorOperators.LSHR, 4)
                        .or(h.lanewise(VectorOperators.LSHR, 2).and((short) 48))
                        .mul(ShortVector.fromMemorySegment(S16, q, a + 192, LE));
                IntVector i1 = p1.reinterpretAsInts();
                IntVector i2 = p2.reinterpretAsInts();
                IntVector i3 = p3.reinterpretAsInts();
                IntVector i4 = p4.reinterpretAsInts();
                i1 = i1.add(i1.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
                i2 = i2.add(i2.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
                i3 = i3.add(i3.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
                i4 = i4.add(i4.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
                acc1 = ((FloatVector) i1.convert(VectorOperators.I2F, 0))
                        .fma(FloatVector.broadcast(F8, scratch.get(FLOAT, 4 * l)), acc1);
                acc2 = ((FloatVector) i2.convert(VectorOperators.I2F, 0))
                        .fma(FloatVector.broadcast(F8, scratch.get(FLOAT, 4 * l + 8)), acc2);
                acc3 = ((FloatVector) i3.convert(VectorOperators.I2F, 0))
                        .fma(FloatVector.broadcast(F8, scratch.get(FLOAT, 4 * l + 16)), acc3);
                acc4 = ((FloatVector) i4.convert(VectorOperators.I2F, 0))
                        .fma(FloatVector.broadcast(F8, scratch.get(FLOAT, 4 * l + 24)), acc4);
            }
        }
        return acc1.add(acc2).add(acc3.add(acc4)).reduceLanes(VectorOperators.ADD);
    }
}
