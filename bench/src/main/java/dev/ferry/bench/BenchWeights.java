package dev.ferry.bench;

import dev.ferry.loader.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

/** Random weight bytes for the kernel benchmarks, with finite, moderate scales in every block. */
final class BenchWeights {

    private BenchWeights() {
    }

    static MemorySegment random(Arena arena, GgmlType type, long bytes, long seed) {
        MemorySegment m = arena.allocate(bytes, 4096);
        SplittableRandom rnd = new SplittableRandom(seed);
        long i = 0;
        for (; i + 8 <= bytes; i += 8) {
            m.set(ValueLayout.JAVA_LONG_UNALIGNED, i, rnd.nextLong());
        }
        for (; i < bytes; i++) {
            m.set(ValueLayout.JAVA_BYTE, i, (byte) rnd.nextInt());
        }
        switch (type) {
            case F32 -> {
                for (long v = 0; v < bytes / 4; v++) {
                    m.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, v, (float) rnd.nextGaussian());
                }
            }
            case F16, BF16 -> {
                // keep the exponent small (|v| < 4 for F16, a similar range for BF16): no Inf/NaN
                for (long v = 0; v < bytes / 2; v++) {
                    short s = m.getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, v);
                    short fixed = type == GgmlType.F16 ? (short) ((s & 0x83FF) | 0x3400) : (short) ((s & 0x807F) | 0x3E00);
                    m.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, v, fixed);
                }
            }
            default -> patchScales(m, type, bytes, rnd);
        }
        return m;
    }

    private static void patchScales(MemorySegment m, GgmlType type, long bytes, SplittableRandom rnd) {
        int bb = type.blockBytes();
        int[] halfScales = switch (type) {
            case Q8_0, Q4_0, Q5_0, IQ4_NL, IQ4_XS -> new int[] {0};
            case Q4_1, Q5_1, Q4_K, Q5_K -> new int[] {0, 2};
            case Q2_K -> new int[] {80, 82};
            case Q3_K -> new int[] {108};
            case Q6_K -> new int[] {208};
            case MXFP4 -> new int[0];
            default -> throw new IllegalArgumentException("no benchmark weights for " + type);
        };
        for (long o = 0; o + bb <= bytes; o += bb) {
            for (int at : halfScales) {
                m.set(ValueLayout.JAVA_SHORT_UNALIGNED, o + at, Float.floatToFloat16((float) (0.001 + 0.01 * rnd.nextDouble())));
            }
            if (type == GgmlType.MXFP4) {
                m.set(ValueLayout.JAVA_BYTE, o, (byte) (118 + rnd.nextInt(8)));
            }
        }
    }
}
