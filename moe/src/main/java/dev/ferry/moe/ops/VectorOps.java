package dev.ferry.moe.ops;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Element-wise and reduction operations of a transformer layer on float32 rows in native
 * memory. Offsets and lengths are in floats. These follow ggml's CPU semantics where it
 * matters for agreement with llama.cpp (RMSNorm sums squares in double, softmax subtracts the
 * maximum and sums in double).
 */
public final class VectorOps {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** As many 16-bit lanes as a float vector has lanes: one float16 load per float vector. */
    public static final VectorSpecies<Short> HALF_LANES =
            VectorSpecies.of(short.class, VectorShape.forBitSize(Math.max(64, F.length() * 16)));
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED;

    private VectorOps() {
    }

    /** Bits of the preferred float vector on this machine (256 with AVX2, 512 with AVX-512): what the kernels run at. */
    public static int vectorBits() {
        return F.vectorBitSize();
    }

    public static float get(MemorySegment s, long index) {
        return s.getAtIndex(FLOAT, index);
    }

    public static void set(MemorySegment s, long index, float v) {
        s.setAtIndex(FLOAT, index, v);
    }

    /** Dot product of {@code n} floats at {@code a[ao..]} and {@code b[bo..]}. */
    public static float dot(MemorySegment a, long ao, MemorySegment b, long bo, long n) {
        FloatVector acc = FloatVector.zero(F);
        long i = 0;
        long bound = F.loopBound(n);
        for (; i < bound; i += F.length()) {
            FloatVector va = FloatVector.fromMemorySegment(F, a, (ao + i) * 4, LE);
            FloatVector vb = FloatVector.fromMemorySegment(F, b, (bo + i) * 4, LE);
            acc = va.fma(vb, acc);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += a.getAtIndex(FLOAT, ao + i) * b.getAtIndex(FLOAT, bo + i);
        }
        return sum;
    }

    /**
     * Four dot products against one row: {@code out[o + j * outStride] = scale * (a[ao..ao+n) . b[bo +
     * j * bStride ..))} for j = 0..3 (one key row against the query heads of its group). Four
     * accumulators: one dot product alone waits on each FMA's latency.
     */
    public static void dot4(MemorySegment a, long ao, MemorySegment b, long bo, long bStride, long n, float scale,
                            MemorySegment out, long o, long outStride) {
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = acc0;
        FloatVector acc2 = acc0;
        FloatVector acc3 = acc0;
        long i = 0;
        long bound = F.loopBound(n);
        for (; i < bound; i += F.length()) {
            FloatVector va = FloatVector.fromMemorySegment(F, a, (ao + i) * 4, LE);
            acc0 = va.fma(FloatVector.fromMemorySegment(F, b, (bo + i) * 4, LE), acc0);
            acc1 = va.fma(FloatVector.fromMemorySegment(F, b, (bo + bStride + i) * 4, LE), acc1);
            acc2 = va.fma(FloatVector.fromMemorySegment(F, b, (bo + 2 * bStride + i) * 4, LE), acc2);
            acc3 = va.fma(FloatVector.fromMemorySegment(F, b, (bo + 3 * bStride + i) * 4, LE), acc3);
        }
        float s0 = acc0.reduceLanes(VectorOperators.ADD);
        float s1 = acc1.reduceLanes(VectorOperators.ADD);
        float s2 = acc2.reduceLanes(VectorOperators.ADD);
        float s3 = acc3.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            float x = a.getAtIndex(FLOAT, ao + i);
            s0 += x * b.getAtIndex(FLOAT, bo + i);
            s1 += x * b.getAtIndex(FLOAT, bo + bStride + i);
            s2 += x * b.getAtIndex(FLOAT, bo + 2 * bStride + i);
            s3 += x * b.getAtIndex(FLOAT, bo + 3 * bStride + i);
        }
        out.setAtIndex(FLOAT, o, s0 * scale);
        out.setAtIndex(FLOAT, o + outStride, s1 * scale);
        out.setAtIndex(FLOAT, o + 2 * outStride, s2 * scale);
        out.setAtIndex(FLOAT, o + 3 * outStride, s3 * scale);
    }

    /**
     * Four weighted sums of the same rows, overwriting {@code out}: {@code out[oo + j * outStride + d]
     * = sum over p < count of w[wo + j * wStride + p] * x[xo + p * xStride + d]} for d < n and j =
     * 0..3 (attention's values weighted by four heads' probabilities). The sums stay in registers
     * while the rows go by, two vectors wide, instead of a load and a store of each output per row.
     */
    public static void weightedRows4(MemorySegment w, long wo, long wStride, MemorySegment x, long xo, long xStride,
                                     long count, long n, MemorySegment out, long oo, long outStride) {
        int lanes = F.length();
        long d = 0;
        for (; d + 2L * lanes <= n; d += 2L * lanes) {
            FloatVector a0 = FloatVector.zero(F);
            FloatVector a1 = a0;
            FloatVector a2 = a0;
            FloatVector a3 = a0;
            FloatVector b0 = a0;
            FloatVector b1 = a0;
            FloatVector b2 = a0;
            FloatVector b3 = a0;
            for (long p = 0; p < count; p++) {
                long at = (xo + p * xStride + d) * 4;
                FloatVector lo = FloatVector.fromMemorySegment(F, x, at, LE);
                FloatVector hi = FloatVector.fromMemorySegment(F, x, at + 4L * lanes, LE);
                FloatVector s = FloatVector.broadcast(F, w.getAtIndex(FLOAT, wo + p));
                a0 = lo.fma(s, a0);
                b0 = hi.fma(s, b0);
                s = FloatVector.broadcast(F, w.getAtIndex(FLOAT, wo + wStride + p));
                a1 = lo.fma(s, a1);
                b1 = hi.fma(s, b1);
                s = FloatVector.broadcast(F, w.getAtIndex(FLOAT, wo + 2 * wStride + p));
                a2 = lo.fma(s, a2);
                b2 = hi.fma(s, b2);
                s = FloatVector.broadcast(F, w.getAtIndex(FLOAT, wo + 3 * wStride + p));
                a3 = lo.fma(s, a3);
                b3 = hi.fma(s, b3);
            }
            long o = (oo + d) * 4;
            long step = 4L * lanes;
            a0.intoMemorySegment(out, o, LE);
            b0.intoMemorySegment(out, o + step, LE);
            a1.intoMemorySegment(out, o + outStride * 4, LE);
            b1.intoMemorySegment(out, o + outStride * 4 + step, LE);
            a2.intoMemorySegment(out, o + 2 * outStride * 4, LE);
            b2.intoMemorySegment(out, o + 2 * outStride * 4 + step, LE);
            a3.intoMemorySegment(out, o + 3 * outStride * 4, LE);
            b3.intoMemorySegment(out, o + 3 * outStride * 4 + step, LE);
        }
        for (; d < n; d++) {
            for (int j = 0; j < 4; j++) {
                float sum = 0;
                for (long p = 0; p < count; p++) {
                    sum += w.getAtIndex(FLOAT, wo + j * wStride + p) * x.getAtIndex(FLOAT, xo + p * xStride + d);
                }
                out.setAtIndex(FLOAT, oo + j * outStride + d, sum);
            }
        }
    }

    /**
     * Float16 bits ({@link #HALF_LANES}) to float32, exact: normals and subnormals by rebiasing,
     * Inf/NaN kept.
     */
    public static FloatVector halfToFloat(ShortVector h) {
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

    /** {@code n} float16 values at {@code h[ho..]} to floats at {@code y[yo..]} (offsets in elements), exact. */
    public static void halfToFloat(MemorySegment h, long ho, MemorySegment y, long yo, long n) {
        long i = 0;
        long bound = F.loopBound(n);
        for (; i < bound; i += F.length()) {
            halfToFloat(ShortVector.fromMemorySegment(HALF_LANES, h, (ho + i) * 2, LE))
                    .intoMemorySegment(y, (yo + i) * 4, LE);
        }
        for (; i < n; i++) {
            y.setAtIndex(FLOAT, yo + i, Float.float16ToFloat(h.getAtIndex(HALF, ho + i)));
        }
    }

    /** {@code y[yo..] += alpha * x[xo..]} over {@code n} floats. */
    public static void axpy(float alpha, MemorySegment x, long xo, MemorySegment y, long yo, long n) {
        long i = 0;
        long bound = F.loopBound(n);
        FloatVector va = FloatVector.broadcast(F, alpha);
        for (; i < bound; i += F.length()) {
            FloatVector vx = FloatVector.fromMemorySegment(F, x, (xo + i) * 4, LE);
            FloatVector vy = FloatVector.fromMemorySegment(F, y, (yo + i) * 4, LE);
            vx.fma(va, vy).intoMemorySegment(y, (yo + i) * 4, LE);
        }
        for (; i < n; i++) {
            y.setAtIndex(FLOAT, yo + i, y.getAtIndex(FLOAT, yo + i) + alpha * x.getAtIndex(FLOAT, xo + i));
        }
    }

    /** {@code y[yo..] = x[xo..] * alpha}. */
    public static void scale(MemorySegment x, long xo, float alpha, MemorySegment y, long yo, long n) {
        long i = 0;
        long bound = F.loopBound(n);
        for (; i < bound; i += F.length()) {
            FloatVector.fromMemorySegment(F, x, (xo + i) * 4, LE).mul(alpha).intoMemorySegment(y, (yo + i) * 4, LE);
        }
        for (; i < n; i++) {
            y.setAtIndex(FLOAT, yo + i, x.getAtIndex(FLOAT, xo + i) * alpha);
        }
    }

    /** {@code y[yo..] += x[xo..]}. */
    public static void add(MemorySegment x, long xo, MemorySegment y, long yo, long n) {
        long i = 0;
        long bound = F.loopBound(n);
        for (; i < bound; i += F.length()) {
            FloatVector vx = FloatVector.fromMemorySegment(F, x, (xo + i) * 4, LE);
            FloatVector.fromMemorySegment(F, y, (yo + i) * 4, LE).add(vx).intoMemorySegment(y, (yo + i) * 4, LE);
        }
        for (; i < n; i++) {
            y.setAtIndex(FLOAT, yo + i, y.getAtIndex(FLOAT, yo + i) + x.getAtIndex(FLOAT, xo + i));
        }
    }

    /**
     * RMSNorm as ggml computes it: mean of squares accumulated in double, scale
     * {@code 1/sqrt(mean + eps)} in float, then multiplied by the weight (a separate ggml op).
     * In place is allowed ({@code out == x} with equal offsets).
     */
    public static void rmsNorm(MemorySegment x, long xo, MemorySegment weight, long wo, MemorySegment out, long oo,
                               long n, float eps) {
        double sum = 0;
        for (long i = 0; i < n; i++) {
            float v = x.getAtIndex(FLOAT, xo + i);
            sum += (double) (v * v);
        }
        float mean = (float) (sum / n);
        float scale = 1.0f / (float) Math.sqrt(mean + eps);
        long i = 0;
        long bound = F.loopBound(n);
        for (; i < bound; i += F.length()) {
            FloatVector vx = FloatVector.fromMemorySegment(F, x, (xo + i) * 4, LE).mul(scale);
            FloatVector vw = FloatVector.fromMemorySegment(F, weight, (wo + i) * 4, LE);
            vx.mul(vw).intoMemorySegment(out, (oo + i) * 4, LE);
        }
        for (; i < n; i++) {
            out.setAtIndex(FLOAT, oo + i, (x.getAtIndex(FLOAT, xo + i) * scale) * weight.getAtIndex(FLOAT, wo + i));
        }
    }

    /**
     * Softmax over {@code n} floats in place, subtracting the maximum first; the exponentials are
     * summed in float lanes, then in double (ggml's soft_max sums in double).
     */
    public static void softmax(MemorySegment x, long xo, long n) {
        long bound = F.loopBound(n);
        FloatVector vmax = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        long i = 0;
        for (; i < bound; i += F.length()) {
            vmax = vmax.max(FloatVector.fromMemorySegment(F, x, (xo + i) * 4, LE));
        }
        float max = vmax.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) {
            max = Math.max(max, x.getAtIndex(FLOAT, xo + i));
        }
        // the exponentials 8-16 at a time (the JDK's vector math library), summed in float lanes
        FloatVector vsum = FloatVector.zero(F);
        FloatVector shift = FloatVector.broadcast(F, max);
        for (i = 0; i < bound; i += F.length()) {
            FloatVector e = FloatVector.fromMemorySegment(F, x, (xo + i) * 4, LE).sub(shift)
                    .lanewise(VectorOperators.EXP);
            e.intoMemorySegment(x, (xo + i) * 4, LE);
            vsum = vsum.add(e);
        }
        double sum = vsum.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            float e = (float) Math.exp(x.getAtIndex(FLOAT, xo + i) - max);
            x.setAtIndex(FLOAT, xo + i, e);
            sum += e;
        }
        scale(x, xo, (float) (1.0 / sum), x, xo, n);
    }

    /** SwiGLU: {@code gate[i] = silu(gate[i]) * up[i]} with {@code silu(v) = v / (1 + e^-v)}. */
    public static void swiglu(MemorySegment gate, long go, MemorySegment up, long uo, long n) {
        for (long i = 0; i < n; i++) {
            float g = gate.getAtIndex(FLOAT, go + i);
            float silu = g / (1.0f + (float) Math.exp(-g));
            gate.setAtIndex(FLOAT, go + i, silu * up.getAtIndex(FLOAT, uo + i));
        }
    }

    /** Copies {@code n} floats. */
    public static void copy(MemorySegment src, long so, MemorySegment dst, long dOff, long n) {
        MemorySegment.copy(src, so * 4, dst, dOff * 4, n * 4);
    }
}
