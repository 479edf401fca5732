import dev.ferry.hostmemory.ThreadWorkerPool;
import dev.ferry.loader.GgmlType;
import dev.ferry.moe.kernel.MatMul;
import dev.ferry.moe.kernel.Precision;
import dev.ferry.moe.kernel.WeightMatrix;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

/**
 * The timed side of {@link KernelAB}: loaded once per jar under test, by its own class loader,
 * so each jar's kernels are compiled and profiled separately inside one JVM.
 */
public final class KernelTiming {

    private KernelTiming() {
    }

    /** Fastest {@code MatMul.matmul} call over {@code seconds}, in ns per multiply-add. */
    public static double bestNsPerMac(String type, int tokens, long rows, long cols, int threads, double seconds) {
        GgmlType t = GgmlType.valueOf(type);
        try (Arena arena = Arena.ofShared(); ThreadWorkerPool pool = new ThreadWorkerPool(threads, "ab")) {
            MemorySegment w = weights(arena, t, rows, cols);
            MemorySegment x = arena.allocate(cols * 4 * tokens, 64);
            SplittableRandom rnd = new SplittableRandom(2);
            for (long i = 0; i < cols * tokens; i++) {
                x.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) rnd.nextGaussian());
            }
            MemorySegment y = arena.allocate(rows * 4 * tokens, 64);
            try (MatMul mm = new MatMul(pool, cols, tokens, Precision.QUANTIZED)) {
                WeightMatrix wm = new WeightMatrix(t, w, rows, cols);
                double best = Double.MAX_VALUE;
                long end = System.nanoTime() + (long) (seconds * 1e9);
                while (System.nanoTime() < end) {
                    long start = System.nanoTime();
                    mm.matmul(wm, x, cols, tokens, y, rows);
                    best = Math.min(best, (System.nanoTime() - start) / (double) (rows * cols * tokens));
                }
                return best;
            }
        }
    }

    /** Random quants with small positive block scales (no infinities from random half floats). */
    static MemorySegment weights(Arena arena, GgmlType t, long rows, long cols) {
        long bytes = t.rowBytes(cols) * rows;
        MemorySegment w = arena.allocate(bytes, 4096);
        SplittableRandom rnd = new SplittableRandom(1);
        for (long i = 0; i < bytes; i++) {
            w.set(ValueLayout.JAVA_BYTE, i, (byte) rnd.nextInt());
        }
        int[] halves = switch (t) {
            case Q8_0, Q4_0 -> new int[] {0};
            case Q4_K, Q5_K -> new int[] {0, 2};
            case Q6_K -> new int[] {208};
            default -> throw new IllegalArgumentException("KernelAB times Q8_0, Q4_0, Q4_K, Q5_K and Q6_K, not " + t);
        };
        for (long o = 0; o + t.blockBytes() <= bytes; o += t.blockBytes()) {
            for (int h : halves) {
                w.set(ValueLayout.JAVA_SHORT_UNALIGNED, o + h, Float.floatToFloat16(0.001f + 0.01f * rnd.nextFloat()));
            }
        }
        return w;
    }
}
