package dev.ferry.moe.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import jdk.incubator.vector.ShortVector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The float16 rows of the KV cache: vector conversion, dot product and axpy against scalar Java. */
class HalfVectorOpsTest {

    private static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;

    @Test
    void halfToFloatIsExactForEveryFloat16BitPattern() {
        int lanes = VectorOps.HALF_LANES.length();
        short[] bits = new short[lanes];
        float[] out = new float[lanes];
        for (int start = 0; start < 65536; start += lanes) {
            for (int i = 0; i < lanes; i++) {
                bits[i] = (short) (start + i);
            }
            VectorOps.halfToFloat(ShortVector.fromArray(VectorOps.HALF_LANES, bits, 0)).intoArray(out, 0);
            for (int i = 0; i < lanes; i++) {
                float expected = Float.float16ToFloat(bits[i]);
                if (Float.isNaN(expected)) {
                    assertTrue(Float.isNaN(out[i]), "bits " + Integer.toHexString(start + i));
                } else {
                    assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(out[i]),
                            "bits " + Integer.toHexString(start + i));
                }
            }
        }
    }

    @ParameterizedTest(name = "n={0}")
    @ValueSource(ints = {1, 7, 8, 16, 37, 128, 131})
    void dotAndAxpyOverFloat16MatchScalarSums(int n) {
        try (Arena arena = Arena.ofConfined()) {
            SplittableRandom rnd = new SplittableRandom(n);
            MemorySegment h = arena.allocate(2L * (n + 3));
            MemorySegment b = arena.allocate(4L * (n + 5));
            MemorySegment y = arena.allocate(4L * (n + 2));
            for (int i = 0; i < n + 3; i++) {
                h.setAtIndex(HALF, i, Float.floatToFloat16((float) rnd.nextGaussian()));
            }
            for (int i = 0; i < n + 5; i++) {
                b.setAtIndex(FLOAT, i, (float) rnd.nextGaussian());
            }
            double dot = 0;
            double magnitude = 0;
            for (int i = 0; i < n; i++) {
                double p = (double) Float.float16ToFloat(h.getAtIndex(HALF, 3 + i)) * b.getAtIndex(FLOAT, 5 + i);
                dot += p;
                magnitude += Math.abs(p);
            }
            assertEquals(dot, VectorOps.dotHalf(h, 3, b, 5, n), 1e-6 * magnitude + 1e-7);

            float[] before = new float[n];
            for (int i = 0; i < n; i++) {
                before[i] = (float) rnd.nextGaussian();
                y.setAtIndex(FLOAT, 2 + i, before[i]);
            }
            VectorOps.axpyHalf(0.75f, h, 3, y, 2, n);
            for (int i = 0; i < n; i++) {
                float expected = before[i] + 0.75f * Float.float16ToFloat(h.getAtIndex(HALF, 3 + i));
                assertEquals(expected, y.getAtIndex(FLOAT, 2 + i), 1e-6f * (Math.abs(expected) + 1), "element " + i);
            }
            assertEquals(0f, y.getAtIndex(FLOAT, 0), "axpy wrote before its range");
            assertEquals(0f, y.getAtIndex(FLOAT, 1), "axpy wrote before its range");
        }
    }
}
