package dev.ferry.moe.kernel;

import dev.ferry.loader.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

/** Random weights and activations for kernel tests, with finite, moderate block scales. */
final class KernelTestData {

    private KernelTestData() {
    }

    static MemorySegment randomWeights(Arena arena, GgmlType type, long rows, long cols, long seed) {
        long bytes = type.rowBytes(cols) * rows;
        MemorySegment m = arena.allocate(bytes, 64);
        SplittableRandom rnd = new SplittableRandom(seed);
        switch (type) {
            case F32 -> {
                for (long i = 0; i < rows * cols; i++) {
                    m.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, (float) rnd.nextGaussian());
                }
                return m;
            }
            case F16 -> {
                for (long i = 0; i < rows * cols; i++) {
                    m.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, Float.floatToFloat16((float) rnd.nextGaussian()));
                }
                return m;
            }
            case BF16 -> {
                for (long i = 0; i < rows * cols; i++) {
                    int bits = Float.floatToRawIntBits((float) rnd.nextGaussian());
                    m.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, (short) (bits >>> 16));
                }
                return m;
            }
            default -> {
            }
        }
        for (long i = 0; i < bytes; i++) {
            m.set(ValueLayout.JAVA_BYTE, i, (byte) rnd.nextInt(256));
        }
        int bb = type.blockBytes();
        for (long b = 0; b < bytes / bb; b++) {
            long o = b * bb;
            switch (type) {
                case Q8_0, Q4_0, Q5_0, IQ4_NL, IQ4_XS -> scale(m, o, rnd, 0.01f);
                case Q4_1, Q5_1 -> {
                    scale(m, o, rnd, 0.01f);
                    scale(m, o + 2, rnd, 0.05f);
                }
                case MXFP4 -> m.set(ValueLayout.JAVA_BYTE, o, (byte) (120 + rnd.nextInt(8)));
                case Q2_K -> {
                    scale(m, o + 80, rnd, 0.01f);
                    scale(m, o + 82, rnd, 0.01f);
                }
                case Q3_K -> scale(m, o + 108, rnd, 0.01f);
                case Q4_K, Q5_K -> {
                    scale(m, o, rnd, 0.01f);
                    scale(m, o + 2, rnd, 0.01f);
                }
                case Q6_K -> scale(m, o + 208, rnd, 0.001f);
                default -> throw new IllegalArgumentException(type.toString());
            }
        }
        return m;
    }

    private static void scale(MemorySegment m, long o, SplittableRandom rnd, float size) {
        float v = (float) (size * (0.5 + rnd.nextDouble())) * (rnd.nextBoolean() ? 1 : -1);
        m.set(ValueLayout.JAVA_SHORT_UNALIGNED, o, Float.floatToFloat16(v));
    }

    static MemorySegment randomActivations(Arena arena, long count, long seed) {
        MemorySegment m = arena.allocate(count * 4, 64);
        SplittableRandom rnd = new SplittableRandom(seed);
        for (long i = 0; i < count; i++) {
            m.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, (float) rnd.nextGaussian());
        }
        return m;
    }

    /**
     * Reference product: weights decoded one value at a time, activations rounded per
     * {@code precision}, sums in double. Returns y[t][r] row-major (tokens x rows) and, in
     * {@code magnitude}, sum |w||x| per output for the error bound.
     */
    static double[] reference(GgmlType type, MemorySegment w, long rows, long cols, MemorySegment x, long xStride,
                              int tokens, Precision precision, double[] magnitude) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment row = arena.allocate(cols * 4);
            MemorySegment act = arena.allocate(cols * 4 * tokens);
            ActivationFormat format = precision.activationFormat(type);
            for (int t = 0; t < tokens; t++) {
                ActivationQuantizer.round(format, x, t * xStride * 4, cols, act, t * cols);
            }
            double[] y = new double[(int) (rows * tokens)];
            for (long r = 0; r < rows; r++) {
                ScalarDecoder.decodeRow(type, w, r * type.rowBytes(cols), cols, row, 0);
                for (int t = 0; t < tokens; t++) {
                    double s = 0;
                    double mag = 0;
                    for (long c = 0; c < cols; c++) {
                        double p = (double) row.getAtIndex(ValueLayout.JAVA_FLOAT, c)
                                * act.getAtIndex(ValueLayout.JAVA_FLOAT, t * cols + c);
                        s += p;
                        mag += Math.abs(p);
                    }
                    y[(int) (t * rows + r)] = s;
                    magnitude[(int) (t * rows + r)] = mag;
                }
            }
            return y;
        }
    }
}
