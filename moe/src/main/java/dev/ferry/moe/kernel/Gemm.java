package dev.ferry.moe.kernel;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Register-blocked float32 micro-kernels for a few weight rows times a few activation rows over
 * {@code n} columns, adding each sum into {@code part[row * partStride + token]}.
 *
 * <p>Two forms. The dot-product blocks ({@link #dot2x4}, {@link #dot4x4}) take vectors along the
 * columns: each weight vector is used for every token and each activation vector for every row
 * (a 2 x 4 block does 8 FMAs per 6 loads), and each sum ends in a lane reduction. The
 * outer-product block ({@link #outer4x2}) takes vectors along the tokens: one weight value
 * broadcast times a vector of {@link #OUTER_TOKENS} tokens' values of the same column, so nothing
 * is reduced and each accumulator is a vector of finished sums; it needs that many tokens.
 */
final class Gemm {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int L = F.length();
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private Gemm() {
    }

    /**
     * 2 rows at byte offsets w0 and w0 + ws of w, times the 4 tokens of an interleaved group at
     * byte offset g of a ({@link #interleave}), over the first {@code steps} vectors of columns.
     * Eight accumulators, two weight vectors and one activation vector fit AVX2's 16 vector
     * registers (a 4 x 4 block needs 21: C2 kept six of its accumulators on the stack), and the
     * four tokens come from one base address, so the loop needs few scalar registers (1.28x
     * faster than four separate token rows, one thread, data in L1).
     */
    static void dot2x4(MemorySegment w, long w0, long ws, MemorySegment a, long g, long steps, float[] part, int p0,
                       int ps) {
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c02 = c00, c03 = c00;
        FloatVector c10 = c00, c11 = c00, c12 = c00, c13 = c00;
        long w1 = w0 + ws;
        // an int loop: a long one becomes a strip-mined loop nest whose extra live values made C2
        // move a row base through a vector register and back on every iteration
        int n = (int) steps;
        for (int s = 0; s < n; s++) {
            long k = 4L * L * s;
            long ak = g + 16L * L * s;
            FloatVector v = FloatVector.fromMemorySegment(F, w, w0 + k, LE);
            FloatVector u = FloatVector.fromMemorySegment(F, w, w1 + k, LE);
            FloatVector x = FloatVector.fromMemorySegment(F, a, ak, LE);
            c00 = v.fma(x, c00);
            c10 = u.fma(x, c10);
            x = FloatVector.fromMemorySegment(F, a, ak + 4L * L, LE);
            c01 = v.fma(x, c01);
            c11 = u.fma(x, c11);
            x = FloatVector.fromMemorySegment(F, a, ak + 8L * L, LE);
            c02 = v.fma(x, c02);
            c12 = u.fma(x, c12);
            x = FloatVector.fromMemorySegment(F, a, ak + 12L * L, LE);
            c03 = v.fma(x, c03);
            c13 = u.fma(x, c13);
        }
        add(part, p0, c00, c01, c02, c03);
        add(part, p0 + ps, c10, c11, c12, c13);
    }

    /**
     * True where {@link #dot4x4} should replace two {@link #dot2x4} calls: 16-lane vectors mean
     * AVX-512, whose 32 vector registers hold its 16 accumulators, 4 weight vectors and an
     * activation vector (on AVX2's 16 they would spill).
     */
    static final boolean FOUR_BY_FOUR = L >= 16;

    /**
     * 4 rows at byte offsets w0, w0 + ws, w0 + 2 ws, w0 + 3 ws of w, times the 4 tokens of an
     * interleaved group, as two {@link #dot2x4} calls compute them (each accumulator sees the same
     * FMAs in the same order), with each activation vector loaded once for four rows instead of
     * twice for two: 16 FMAs per 8 loads. Its loop counts with a {@code long}: the {@code int} form
     * that helps {@link #dot2x4} on AVX2 ran 0.78x on the AVX-512 machine measured.
     */
    static void dot4x4(MemorySegment w, long w0, long ws, MemorySegment a, long g, long steps, float[] part, int p0,
                       int ps) {
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c02 = c00, c03 = c00;
        FloatVector c10 = c00, c11 = c00, c12 = c00, c13 = c00;
        FloatVector c20 = c00, c21 = c00, c22 = c00, c23 = c00;
        FloatVector c30 = c00, c31 = c00, c32 = c00, c33 = c00;
        long w1 = w0 + ws;
        long w2 = w1 + ws;
        long w3 = w2 + ws;
        long bound = steps * L * 4;
        long ak = g;
        for (long k = 0; k < bound; k += 4L * L, ak += 16L * L) {
            FloatVector v0 = FloatVector.fromMemorySegment(F, w, w0 + k, LE);
            FloatVector v1 = FloatVector.fromMemorySegment(F, w, w1 + k, LE);
            FloatVector v2 = FloatVector.fromMemorySegment(F, w, w2 + k, LE);
            FloatVector v3 = FloatVector.fromMemorySegment(F, w, w3 + k, LE);
            FloatVector x = FloatVector.fromMemorySegment(F, a, ak, LE);
            c00 = v0.fma(x, c00);
            c10 = v1.fma(x, c10);
            c20 = v2.fma(x, c20);
            c30 = v3.fma(x, c30);
            x = FloatVector.fromMemorySegment(F, a, ak + 4L * L, LE);
            c01 = v0.fma(x, c01);
            c11 = v1.fma(x, c11);
            c21 = v2.fma(x, c21);
            c31 = v3.fma(x, c31);
            x = FloatVector.fromMemorySegment(F, a, ak + 8L * L, LE);
            c02 = v0.fma(x, c02);
            c12 = v1.fma(x, c12);
            c22 = v2.fma(x, c22);
            c32 = v3.fma(x, c32);
            x = FloatVector.fromMemorySegment(F, a, ak + 12L * L, LE);
            c03 = v0.fma(x, c03);
            c13 = v1.fma(x, c13);
            c23 = v2.fma(x, c23);
            c33 = v3.fma(x, c33);
        }
        add(part, p0, c00, c01, c02, c03);
        add(part, p0 + ps, c10, c11, c12, c13);
        add(part, p0 + 2 * ps, c20, c21, c22, c23);
        add(part, p0 + 3 * ps, c30, c31, c32, c33);
    }

    /** Tokens one {@link #outer4x2} call takes: two vectors' worth. */
    static final int OUTER_TOKENS = 2 * L;

    /**
     * True where runs of {@link #OUTER_TOKENS} tokens go through {@link #outer4x2}: 8-lane AVX2,
     * where it measured 1.2-1.5x {@link #dot2x4} (Q4_K, 16-64 tokens). With 16 lanes
     * {@link #dot4x4} already keeps 16 accumulators in AVX-512's 32 registers, and the 512-bit outer
     * block measured 0.9-1.1x of it (32 tokens, 2 threads, Xeon), so it is not used there.
     */
    static final boolean OUTER_PRODUCT = L == 8;

    /**
     * 4 rows at byte offsets w0, w0 + ws, w0 + 2 ws, w0 + 3 ws of w, times {@link #OUTER_TOKENS}
     * tokens whose values are stored column-major from byte a0 of a ({@link #transpose}), over
     * {@code n} columns; adds row i's sums as one run of tokens at {@code part[p0 + i * ps]}.
     * Eight accumulators, two activation vectors and a broadcast weight fit AVX2's 16 registers;
     * per column 8 FMAs take 2 vector loads and 4 broadcasts, and no lane is reduced (1.3-1.4x
     * the FMA rate of {@link #dot2x4} on 16 tokens, one thread, in L1, on the AVX2 machine).
     */
    static void outer4x2(MemorySegment w, long w0, long ws, MemorySegment a, long a0, long n, float[] part, int p0,
                         int ps) {
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c10 = c00, c11 = c00;
        FloatVector c20 = c00, c21 = c00, c30 = c00, c31 = c00;
        long w1 = w0 + ws;
        long w2 = w1 + ws;
        long w3 = w2 + ws;
        // int counter as in dot2x4 (n is at most one decode chunk)
        int cols = (int) n;
        for (int k = 0; k < cols; k++) {
            long ak = a0 + 4L * OUTER_TOKENS * k;
            long wk = 4L * k;
            FloatVector x0 = FloatVector.fromMemorySegment(F, a, ak, LE);
            FloatVector x1 = FloatVector.fromMemorySegment(F, a, ak + 4L * L, LE);
            FloatVector b = FloatVector.broadcast(F, w.get(FLOAT, w0 + wk));
            c00 = b.fma(x0, c00);
            c01 = b.fma(x1, c01);
            b = FloatVector.broadcast(F, w.get(FLOAT, w1 + wk));
            c10 = b.fma(x0, c10);
            c11 = b.fma(x1, c11);
            b = FloatVector.broadcast(F, w.get(FLOAT, w2 + wk));
            c20 = b.fma(x0, c20);
            c21 = b.fma(x1, c21);
            b = FloatVector.broadcast(F, w.get(FLOAT, w3 + wk));
            c30 = b.fma(x0, c30);
            c31 = b.fma(x1, c31);
        }
        addRun(part, p0, c00, c01);
        addRun(part, p0 + ps, c10, c11);
        addRun(part, p0 + 2 * ps, c20, c21);
        addRun(part, p0 + 3 * ps, c30, c31);
    }

    private static void addRun(float[] part, int p, FloatVector c0, FloatVector c1) {
        FloatVector.fromArray(F, part, p).add(c0).intoArray(part, p);
        FloatVector.fromArray(F, part, p + L).add(c1).intoArray(part, p + L);
    }

    /**
     * Copies {@code n} columns of {@link #OUTER_TOKENS} token rows of x, row {@code tokens[from + t]}
     * at byte {@code tokens[from + t] * rowBytes}, to byte offset d of dst, column-major: column
     * k's values at {@code d + 4 * k * OUTER_TOKENS}, token t at float t of it.
     */
    static void transpose(MemorySegment x, int[] tokens, int from, long rowBytes, long n, MemorySegment dst, long d) {
        for (int t = 0; t < OUTER_TOKENS; t++) {
            long src = tokens[from + t] * rowBytes;
            long out = d + 4L * t;
            for (long k = 0; k < n; k++) {
                dst.set(FLOAT, out + 4L * OUTER_TOKENS * k, x.get(FLOAT, src + 4 * k));
            }
        }
    }

    /** Vectors of columns {@link #dot2x4} takes from {@code n} columns; the rest go to {@link #dotRange}. */
    static long steps(long n) {
        return n / L;
    }

    /**
     * Copies the first {@code steps(n)} vectors of columns of 4 token rows (byte offsets x0..x3 of
     * x) to byte offset g of dst, interleaved: vector s of token t at {@code g + (4 * s + t) * L * 4}.
     */
    static void interleave(MemorySegment x, long x0, long x1, long x2, long x3, long n, MemorySegment dst, long g) {
        long bound = steps(n) * L * 4;
        long d = g;
        for (long k = 0; k < bound; k += 4L * L, d += 16L * L) {
            FloatVector.fromMemorySegment(F, x, x0 + k, LE).intoMemorySegment(dst, d, LE);
            FloatVector.fromMemorySegment(F, x, x1 + k, LE).intoMemorySegment(dst, d + 4L * L, LE);
            FloatVector.fromMemorySegment(F, x, x2 + k, LE).intoMemorySegment(dst, d + 8L * L, LE);
            FloatVector.fromMemorySegment(F, x, x3 + k, LE).intoMemorySegment(dst, d + 12L * L, LE);
        }
    }

    /** Scalar dot product of floats {@code from..to-1} of a weight row and a token row. */
    static float dotRange(MemorySegment w, long w0, MemorySegment a, long a0, long from, long to) {
        return tail(w, w0, a, a0, from * 4, to);
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
