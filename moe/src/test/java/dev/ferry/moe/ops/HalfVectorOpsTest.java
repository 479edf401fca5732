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

/** The float16 rows of the KV cache: the vector conversion against scalar Java, bit for bit. */
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
    void rowConversionIsExactAndStaysInItsRange(int n) {
        try (Arena arena = Arena.ofConfined()) {
            SplittableRandom rnd = new SplittableRandom(n);
            MemorySegment h = arena.allocate(2L * (n + 3));
            for (int i = 0; i < n + 3; i++) {
                h.setAtIndex(HALF, i, Float.floatToFloat16((float) rnd.nextGaussian()));
            }
            MemorySegment y = arena.allocate(4L * (n + 3));
            y.fill((byte) 0x7F);
            VectorOps.halfToFloat(h, 3, y, 2, n);
            for (int i = 0; i < n; i++) {
                assertEquals(Float.float16ToFloat(h.getAtIndex(HALF, 3 + i)), y.getAtIndex(FLOAT, 2 + i), "element " + i);
            }
            int untouched = 0x7F7F7F7F;
            assertEquals(untouched, y.get(ValueLayout.JAVA_INT_UNALIGNED, 0), "wrote before its range");
            assertEquals(untouched, y.get(ValueLayout.JAVA_INT_UNALIGNED, 4), "wrote before its range");
            assertEquals(untouched, y.get(ValueLayout.JAVA_INT_UNALIGNED, 4L * (n + 2)), "wrote past its range");
        }
    }
}
