package dev.ferry.moe.kernel;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Rounds an activation row to an {@link ActivationFormat} the way llama.cpp's x86 CPU backend
 * quantizes {@code src1} before a matrix product, and stores the rounded values as float32
 * (value = scale * integer, exactly representable), so a float dot product with them equals
 * llama.cpp's integer dot product up to float32 summation order.
 */
final class ActivationQuantizer {

    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    private static final VectorSpecies<Short> S =
            VectorSpecies.of(short.class, VectorShape.forBitSize(Math.max(64, L * 16)));
    /** The vector rounding needs whole vectors per 16 values: 4, 8 or 16 float lanes. */
    private static final boolean VECTOR = L == 4 || L == 8 || L == 16;
    /** 1.5 * 2^23: adding and subtracting it rounds a float of magnitude below 2^22 to an integer, ties to even. */
    private static final float ROUNDER = 12582912f;

    private ActivationQuantizer() {
    }

    /**
     * Rounds {@code cols} floats at byte offset {@code src} of {@code x} to {@code format} and
     * writes them as floats at float index {@code dst} of {@code out}.
     */
    static void round(ActivationFormat format, MemorySegment x, long src, long cols, MemorySegment out, long dst) {
        switch (format) {
            case F32 -> MemorySegment.copy(x, src, out, dst * 4, cols * 4);
            case F16 -> {
                for (long i = 0; i < cols; i++) {
                    float v = x.get(FLOAT, src + 4 * i);
                    out.setAtIndex(FLOAT, dst + i, Float.float16ToFloat(Float.floatToFloat16(v)));
                }
            }
            case BF16 -> {
                for (long i = 0; i < cols; i++) {
                    out.setAtIndex(FLOAT, dst + i, roundToBf16(x.get(FLOAT, src + 4 * i)));
                }
            }
            case Q8_0, Q8_1 -> roundQ8_0(x, src, cols, out, dst);
            case Q8_K -> roundQ8K(x, src, cols, out, dst);
        }
    }

    /** ggml's fp32-to-bf16: round to nearest even, NaN kept quiet. */
    static float roundToBf16(float v) {
        int u = Float.floatToRawIntBits(v);
        if ((u & 0x7fffffff) > 0x7f800000) {
            return Float.intBitsToFloat((u | 0x00400000) & 0xffff0000);
        }
        int r = (u + (0x7fff + ((u >>> 16) & 1))) >>> 16;
        return Float.intBitsToFloat(r << 16);
    }

    /**
     * Q8_0 as llama.cpp's AVX quantize_row_q8_0: d = amax/127 stored as float16,
     * q = round-to-nearest-even(x * 127/amax). Q8_1 has the same d and q.
     */
    private static void roundQ8_0(MemorySegment x, long src, long cols, MemorySegment out, long dst) {
        for (long b = 0; b < cols; b += 32) {
            float amax = 0;
            for (int j = 0; j < 32; j++) {
                amax = Math.max(amax, Math.abs(x.get(FLOAT, src + 4 * (b + j))));
            }
            float d = amax / 127f;
            float id = amax != 0 ? 127f / amax : 0f;
            float dh = Float.float16ToFloat(Float.floatToFloat16(d));
            for (int j = 0; j < 32; j++) {
                int q = (int) Math.rint(x.get(FLOAT, src + 4 * (b + j)) * id);
                out.setAtIndex(FLOAT, dst + b + j, dh * q);
            }
        }
    }

    /**
     * Q8_K as ggml's quantize_row_q8_K_ref: the signed value of largest magnitude maps to -127,
     * q = nearest_int(x * iscale) capped at 127, d = 1/iscale kept as float32.
     */
    private static void roundQ8K(MemorySegment x, long src, long cols, MemorySegment out, long dst) {
        for (long b = 0; b < cols; b += 256) {
            float amax = 0;
            float max = 0;
            for (int j = 0; j < 256; j++) {
                float v = x.get(FLOAT, src + 4 * (b + j));
                float a = Math.abs(v);
                if (a > amax) {
                    amax = a;
                    max = v;
                }
            }
            if (amax == 0) {
                for (int j = 0; j < 256; j++) {
                    out.setAtIndex(FLOAT, dst + b + j, 0f);
                }
                continue;
            }
            float iscale = -127f / max;
            float d = 1 / iscale;
            for (int j = 0; j < 256; j++) {
                int q = Math.min(127, (int) Math.rint(iscale * x.get(FLOAT, src + 4 * (b + j))));
                out.setAtIndex(FLOAT, dst + b + j, d * q);
            }
        }
    }

    /**
     * Rounds like {@link #round} for {@link ActivationFormat#Q8_0}, {@link ActivationFormat#Q8_1} or
     * {@link ActivationFormat#Q8_K} (bit for bit the same floats at index {@code dst} of {@code out}) and
     * also keeps the integers for the integer kernels: the int8 values as int16 at index {@code qDst} of
     * {@code q}, one float scale per block (32 or 256 values) at index {@code scaleDst} of {@code scales}
     * and, per 16 values, scale times the integer sum at index {@code sumDst} of {@code sums}.
     * {@code cols} is a whole number of blocks.
     */
    static void roundQ8(ActivationFormat format, MemorySegment x, long src, long cols, MemorySegment out, long dst,
                        MemorySegment q, long qDst, MemorySegment scales, long scaleDst, MemorySegment sums,
                        long sumDst) {
        boolean k = switch (format) {
            case Q8_0, Q8_1 -> false;
            case Q8_K -> true;
            default -> throw new IllegalArgumentException("not an 8-bit block format: " + format);
        };
        int bs = format.blockSize();
        for (long b = 0; b < cols / bs; b++) {
            long xb = src + 4 * b * bs;
            long ib = b * bs;
            float lo = Float.POSITIVE_INFINITY;
            float hi = Float.NEGATIVE_INFINITY;
            if (VECTOR) {
                FloatVector vlo = FloatVector.broadcast(F, Float.POSITIVE_INFINITY);
                FloatVector vhi = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
                for (int j = 0; j < bs; j += L) {
                    FloatVector v = FloatVector.fromMemorySegment(F, x, xb + 4L * j, LE);
                    vlo = vlo.min(v);
                    vhi = vhi.max(v);
                }
                lo = vlo.reduceLanes(VectorOperators.MIN);
                hi = vhi.reduceLanes(VectorOperators.MAX);
            } else {
                for (int j = 0; j < bs; j++) {
                    float v = x.get(FLOAT, xb + 4L * j);
                    lo = Math.min(lo, v);
                    hi = Math.max(hi, v);
                }
            }
            float amax = Math.max(Math.max(hi, -lo), 0f);
            float scale;
            float mul;
            float cap;
            if (!k) {
                // as quantize_row_q8_0 (AVX): d = amax/127 kept as float16, q = rint(x * 127/amax)
                mul = amax != 0 ? 127f / amax : 0f;
                scale = Float.float16ToFloat(Float.floatToFloat16(amax / 127f));
                cap = Float.POSITIVE_INFINITY;
            } else if (amax == 0) {
                mul = 0f;
                scale = 0f;
                cap = 127f;
            } else {
                // as quantize_row_q8_K_ref: the first value of largest magnitude maps to -127
                float max = hi > -lo ? hi : -lo > hi ? lo : firstOfMagnitude(x, xb, bs, amax);
                mul = -127f / max;
                scale = 1 / mul;
                cap = 127f;
            }
            scales.setAtIndex(FLOAT, scaleDst + b, scale);
            for (int g = 0; g < bs; g += 16) {
                float sum;
                if (VECTOR) {
                    FloatVector acc = FloatVector.zero(F);
                    for (int j = g; j < g + 16; j += L) {
                        FloatVector r = FloatVector.fromMemorySegment(F, x, xb + 4L * j, LE).mul(mul)
                                .add(ROUNDER).sub(ROUNDER).min(cap);
                        r.mul(scale).intoMemorySegment(out, 4 * (dst + ib + j), LE);
                        r.convert(VectorOperators.F2I, 0).convertShape(VectorOperators.I2S, S, 0)
                                .intoMemorySegment(q, 2 * (qDst + ib + j), LE);
                        acc = acc.add(r);
                    }
                    sum = acc.reduceLanes(VectorOperators.ADD);
                } else {
                    int isum = 0;
                    for (int j = g; j < g + 16; j++) {
                        int v = (int) Math.min(cap, Math.rint(x.get(FLOAT, xb + 4L * j) * mul));
                        out.setAtIndex(FLOAT, dst + ib + j, scale * v);
                        q.setAtIndex(SHORT, qDst + ib + j, (short) v);
                        isum += v;
                    }
                    sum = isum;
                }
                sums.setAtIndex(FLOAT, sumDst + (ib + g) / 16, scale * sum);
            }
        }
    }

    /** The first of {@code n} floats at byte {@code xb} whose magnitude is {@code amax} (ties of +a and -a). */
    private static float firstOfMagnitude(MemorySegment x, long xb, int n, float amax) {
        for (int j = 0; j < n; j++) {
            float v = x.get(FLOAT, xb + 4L * j);
            if (Math.abs(v) == amax) {
                return v;
            }
        }
        return amax;
    }
}
