package dev.ferry.cuda.selftest;

import dev.ferry.cuda.kernels.QuantFormat;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

/** Random quantized blocks with sane scales (so decoded values stay well inside F16 range). */
public final class QuantSamples {

    private QuantSamples() {
    }

    public static MemorySegment blocks(Arena arena, QuantFormat format, long blocks, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        MemorySegment s = arena.allocate(blocks * format.blockBytes());
        for (long i = 0; i < s.byteSize(); i++) {
            s.set(ValueLayout.JAVA_BYTE, i, (byte) random.nextInt(256));
        }
        for (long b = 0; b < blocks; b++) {
            long at = b * format.blockBytes();
            if (format == QuantFormat.MXFP4) {
                s.set(ValueLayout.JAVA_BYTE, at, (byte) (118 + random.nextInt(8)));
                continue;
            }
            for (int offset : scaleOffsets(format)) {
                float scale = (float) ((random.nextDouble() * 2 - 1) * 0.01);
                s.set(ValueLayout.JAVA_SHORT_UNALIGNED, at + offset, Float.floatToFloat16(scale));
            }
        }
        return s;
    }

    /** Byte offsets of the F16 scale fields of a block. */
    static int[] scaleOffsets(QuantFormat format) {
        return switch (format) {
            case Q4_0, Q5_0, Q8_0, IQ4_NL, IQ4_XS -> new int[] {0};
            case Q4_1, Q5_1, Q4_K, Q5_K -> new int[] {0, 2};
            case Q2_K -> new int[] {80, 82};
            case Q3_K -> new int[] {108};
            case Q6_K -> new int[] {208};
            case MXFP4 -> new int[0];
        };
    }
}
