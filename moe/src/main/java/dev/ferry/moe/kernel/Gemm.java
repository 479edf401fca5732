package dev.ferry.moe.kernel;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Register-blocked float32 dot-product micro-kernels: up to 4 weight rows times up to 4
 * activation rows over {@code n} columns, adding each sum into
 * {@code part[row * partStride + token]}. Each weight vector loaded is used for every token and
 * each activation vector for every row, so a 2 x 4 block does 8 FMAs per 6 loads.
 */
final class Gemm {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private Gemm() {
    }

    /**
     * 2 rows at byte offsets w0 and w0 + ws of w, 4 tokens at byte offsets a0..a3 of a. Eight
     * accumulators, two weight vectors and one activation vector fit AVX2's 16 vector registers;
     * a 4 x 4 block needs 21 and C2 kept six of its accumulators on the stack, a store and a
     * reload around every FMA (measured 1.1-1.3x slower, one thread, data in L1).
     */
    static void dot2x4(MemorySegment w, long w0, long ws, MemorySegment a, long a0, long a1, long a2, long a3,
                       long n, float[] part, int p0, int ps) {
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c02 = c00, c03 = c00;
        FloatVector c10 = c00, c11 = c00, c12 = c00, c13 = c00;
        long w1 = w0 + ws;
        long bound = (n / L) * L * 4;
        long k = 0;
        for (; k < bound; k += 4L * L) {
            FloatVector v = FloatVector.fromMemorySegment(F, w, w0 + k, LE);
            FloatVector u = FloatVector.fromMemorySegment(F, w, w1 + k, LE);
            FloatVector x = FloatVector.fromMemorySegment(F, a, a0 + k, LE);
            c00 = v.fma(x, c00);
            c10 = u.fma(x, c10);
            x = FloatVector.fromMemorySegment(F, a, a1 + k, LE);
            c01 = v.fma(x, c01);
            c11 = u.fma(x, c11);
            x = FloatVector.fromMemorySegment(F, a, a2 + k, LE);
            c02 = v.fma(x, c02);
            c12 = u.fma(x, c12);
            x = FloatVector.fromMemorySegment(F, a, a3 + k, LE);
            c03 = v.fma(x, c03);
            c13 = u.fma(x, c13);
        }
        add(part, p0, c00, c01, c02, c03);
        add(part, p0 + ps, c10, c11, c12, c13);
        if (k < n * 4) {
            for (int i = 0; i < 2; i++) {
                long wr = w0 + i * ws;
                part[p0 + i * ps] += tail(w, wr, a, a0, k, n);
                part[p0 + i * ps + 1] += tail(w, wr, a, a1, k, n);
                part[p0 + i * ps + 2] += tail(w, wr, a, a2, k, n);
                part[p0 + i * ps + 3] += tail(w, wr, a, a3, k, n);
            }
        }
    }

    private static void add(float[] part, int p, FloatVector c0, FloatVector c1, FloatVector c2, FloatVector c3) {
        part[p] += c0.reduceLanes(VectorOperators.ADD);
        part[p + 1] += c1.reduceLanes(VectorOperators.ADD);
        part[p + 2] += c2.reduceLanes(VectorOperators.ADD);
        part[p + 3] += c3.reduceLanes(VectorOperators.ADD);
    }

    /** 4 rows, 1 token. */
    static void dot4x1(MemorySegment w, long w0, long ws, MemorySegment a, long a0, long n, float[] part, int p0,
                       int ps) {
        FloatVector c0 = FloatVector.zero(F), c1 = c0, c2 = c0, c3 = c0;
        long w1 = w0 + ws;
        long w2 = w1 + ws;
        long w3 = w2 + ws;
        long bound = (n / L) * L * 4;
        long k = 0;
        for (; k < bound; k += 4L * L) {
            FloatVector x = FloatVector.fromMemorySegment(F, a, a0 + k, LE);
            c0 = FloatVector.fromMemorySegment(F, w, w0 + k, LE).fma(x, c0);
            c1 = FloatVector.fromMemorySegment(F, w, w1 + k, LE).fma(x, c1);
            c2 = FloatVector.fromMemorySegment(F, w, w2 + k, LE).fma(x, c2);
            c3 = FloatVector.fromMemorySegment(F, w, w3 + k, LE).fma(x, c3);
        }
        part[p0] += c0.reduceLanes(VectorOperators.ADD) + tail(w, w0, a, a0, k, n);
        part[p0 + ps] += c1.reduceLanes(VectorOperators.ADD) + tail(w, w1, a, a0, k, n);
        part[p0 + 2 * ps] += c2.reduceLanes(VectorOperators.ADD) + tail(w, w2, a, a0, k, n);
        part[p0 + 3 * ps] += c3.reduceLanes(VectorOperators.ADD) + tail(w, w3, a, a0, k, n);
    }

    /** 1 row, 1 token. */
    static float dot1x1(MemorySegment w, long w0, MemorySegment a, long a0, long n) {
        FloatVector c0 = FloatVector.zero(F), c1 = c0;
        long bound2 = (n / (2L * L)) * 2L * L * 4;
        long k = 0;
        for (; k < bound2; k += 8L * L) {
            c0 = FloatVector.fromMemorySegment(F, w, w0 + k, LE)
                    .fma(FloatVector.fromMemorySegment(F, a, a0 + k, LE), c0);
            c1 = FloatVector.fromMemorySegment(F, w, w0 + k + 4L * L, LE)
                    .fma(FloatVector.fromMemorySegment(F, a, a0 + k + 4L * L, LE), c1);
        }
        long bound = (n / L) * L * 4;
        for (; k < bound; k += 4L * L) {
            c0 = FloatVector.fromMemorySegment(F, w, w0 + k, LE)
                    .fma(FloatVector.fromMemorySegment(F, a, a0 + k, LE), c0);
        }
        return c0.add(c1).reduceLanes(VectorOperators.ADD) + tail(w, w0, a, a0, k, n);
    }

    /** Scalar remainder from byte offset k to n floats. */
    private static float tail(MemorySegment w, long w0, MemorySegment a, long a0, long k, long n) {
        float s = 0;
        for (long i = k / 4; i < n; i++) {
            s += w.get(FLOAT, w0 + 4 * i) * a.get(FLOAT, a0 + 4 * i);
        }
        return s;
    }
}
