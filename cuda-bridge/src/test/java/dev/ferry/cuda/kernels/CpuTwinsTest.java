package dev.ferry.cuda.kernels;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The CPU twins against values worked out by hand. */
class CpuTwinsTest {

    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private final Arena arena = Arena.ofAuto();

    private MemorySegment floats(float... values) {
        MemorySegment s = arena.allocate(values.length * 4L);
        for (int i = 0; i < values.length; i++) {
            s.set(F32, i * 4L, values[i]);
        }
        return s;
    }

    private static float[] read(MemorySegment s) {
        return s.toArray(ValueLayout.JAVA_FLOAT);
    }

    @Test
    void rmsNormScalesByRootMeanSquareAndWeight() {
        MemorySegment x = floats(3, 4, 0, 0);
        MemorySegment y = arena.allocate(16);
        CpuTwins.rmsNorm(x, floats(1, 2, 1, 1), y, 1, 4, 0f);
        float rms = (float) Math.sqrt(25 / 4.0);
        assertArrayEquals(new float[] {3 / rms, 8 / rms, 0, 0}, read(y), 1e-6f);
    }

    @Test
    void neoxRopeRotatesFirstAndSecondHalfPairsAndLeavesTheRest() {
        MemorySegment x = floats(1, 0, 0, 0, 9);
        MemorySegment pos = arena.allocate(4);
        pos.set(ValueLayout.JAVA_INT, 0, 2);
        CpuTwins.ropeNeox(x, pos, 1, 1, 5, 4, 10000f, 1f);
        float[] v = read(x);
        assertEquals(Math.cos(2), v[0], 1e-6);
        assertEquals(Math.sin(2), v[2], 1e-6);
        assertEquals(0, v[1], 1e-6);
        assertEquals(9, v[4], 0);
    }

    @Test
    void attentionOverOnePositionReturnsItsValueAndGroupsHeads() {
        // two query heads share one KV head; a single cached position means softmax weight 1
        MemorySegment q = floats(1, 2, 3, 4);
        MemorySegment k = floats(5, 6);
        MemorySegment v = floats(7, 8);
        MemorySegment out = arena.allocate(16);
        CpuTwins.attention(q, k, v, out, 1, 2, 1, 2, 0, 1f);
        assertArrayEquals(new float[] {7, 8, 7, 8}, read(out), 0f);
    }

    @Test
    void prefillAttentionIsCausal() {
        // token 0 sees only position 0; token 1 sees both with equal scores (q = 0)
        MemorySegment q = floats(0, 0);
        MemorySegment k = floats(1, 2);
        MemorySegment v = floats(10, 20);
        MemorySegment out = arena.allocate(8);
        CpuTwins.attention(q, k, v, out, 2, 1, 1, 1, 0, 1f);
        assertArrayEquals(new float[] {10, 15}, read(out), 1e-5f);
    }

    @Test
    void swigluAndAdd() {
        MemorySegment out = arena.allocate(8);
        CpuTwins.swiglu(floats(0, 2), floats(5, 3), out, 2);
        assertArrayEquals(new float[] {0, (float) (2 / (1 + Math.exp(-2)) * 3)}, read(out), 1e-6f);
        CpuTwins.add(floats(1, 2), floats(3, 4), out, 2);
        assertArrayEquals(new float[] {4, 6}, read(out), 0f);
    }

    @Test
    void scaleThenAxpyAccumulatesWeightedRows() {
        MemorySegment out = arena.allocate(8);
        CpuTwins.scale(floats(1, -2), out, 0.5f, 2);
        assertArrayEquals(new float[] {0.5f, -1f}, read(out), 0f);
        CpuTwins.axpy(floats(4, 8), out, 0.25f, 2);
        assertArrayEquals(new float[] {1.5f, 1f}, read(out), 0f);
    }

    @Test
    void routerPicksMostProbableExpertsAndRenormalises() {
        MemorySegment logits = floats(0, (float) Math.log(3), (float) Math.log(2), (float) Math.log(3));
        MemorySegment ids = arena.allocate(8);
        MemorySegment weights = arena.allocate(8);
        CpuTwins.routerTopK(logits, ids, weights, 1, 4, 2, true);
        assertArrayEquals(new int[] {1, 3}, ids.toArray(ValueLayout.JAVA_INT), "ties go to the lower index");
        assertArrayEquals(new float[] {0.5f, 0.5f}, read(weights), 1e-6f);
        CpuTwins.routerTopK(logits, ids, weights, 1, 4, 2, false);
        assertArrayEquals(new float[] {3 / 9f, 3 / 9f}, read(weights), 1e-6f);
        assertThrows(IllegalArgumentException.class, () -> CpuTwins.routerTopK(logits, ids, weights, 1, 4, 5, true));
    }

    @Test
    void gemmComputesInputTimesWeightsTransposed() {
        // input 1x2 [1 2]; weights 3x2 rows [1 0] [0 1] [1 1] -> [1 2 3]
        MemorySegment out = arena.allocate(12);
        CpuTwins.gemm(false, floats(1, 0, 0, 1, 1, 1), floats(1, 2), out, 1, 3, 2, 1, 6, 2, 3, 1f, 0f);
        assertArrayEquals(new float[] {1, 2, 3}, read(out), 0f);
    }

    @Test
    void matvecMatchesDequantizedDotProduct() {
        // one Q8_0 row: d = 0.5, q = 0..31; x = 1 -> 0.5 * sum(0..31)
        MemorySegment w = arena.allocate(34);
        w.set(ValueLayout.JAVA_SHORT_UNALIGNED, 0, Float.floatToFloat16(0.5f));
        for (int i = 0; i < 32; i++) {
            w.set(ValueLayout.JAVA_BYTE, 2 + i, (byte) i);
        }
        MemorySegment x = arena.allocate(128);
        for (int i = 0; i < 32; i++) {
            x.set(F32, i * 4L, 1f);
        }
        MemorySegment y = arena.allocate(4);
        CpuTwins.matvec(QuantFormat.Q8_0, w, x, y, 1, 32);
        assertEquals(0.5f * 496, y.get(F32, 0), 0f);
    }

    @Test
    void registryReplacesTwinsByName() {
        KernelRegistry registry = KernelRegistry.withStandardTwins();
        assertEquals(true, registry.names().contains(KernelNames.RMSNORM));
        assertEquals(true, registry.names().contains(QuantFormat.Q6_K.dequantKernel()));
        CpuKernel replacement = (grid, args) -> { };
        registry.register(KernelNames.ADD, replacement);
        assertEquals(replacement, registry.find(KernelNames.ADD).orElseThrow());
        assertThrows(IllegalArgumentException.class, () -> registry.register(" ", replacement));
    }
}
