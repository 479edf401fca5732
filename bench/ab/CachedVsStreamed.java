import dev.ferry.hostmemory.ThreadWorkerPool;
import dev.ferry.loader.GgmlType;
import dev.ferry.moe.kernel.MatMul;
import dev.ferry.moe.kernel.Precision;
import dev.ferry.moe.kernel.WeightMatrix;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * One-token {@code MatMul} calls on one weight matrix again and again (its weights in cache), then
 * on a ring of copies filling 256 MiB (every call streams its weights from memory): per-call
 * p10 / p50 / p90 and best, for each mode. Decode reads each weight once per token, so the streamed
 * numbers are the ones decode sees; the gap between the two is time spent waiting for memory.
 * <pre>
 * javac -d OUT --add-modules jdk.incubator.vector -cp cli/target/ferry.jar bench/ab/KernelTiming.java bench/ab/CachedVsStreamed.java
 * java --add-modules jdk.incubator.vector -XX:-TieredCompilation -XX:LoopUnrollLimit=30 \
 *      -cp cli/target/ferry.jar:OUT CachedVsStreamed TYPE ROWS COLS THREADS SECONDS ROUNDS
 * </pre>
 */
public final class CachedVsStreamed {

    private CachedVsStreamed() {
    }

    public static void main(String[] args) {
        if (args.length != 6) {
            System.err.println("usage: CachedVsStreamed TYPE ROWS COLS THREADS SECONDS ROUNDS");
            System.exit(2);
        }
        GgmlType type = GgmlType.valueOf(args[0]);
        long rows = Long.parseLong(args[1]);
        long cols = Long.parseLong(args[2]);
        int threads = Integer.parseInt(args[3]);
        double seconds = Double.parseDouble(args[4]);
        int rounds = Integer.parseInt(args[5]);
        long matrixBytes = type.rowBytes(cols) * rows;
        int copies = (int) Math.max(1, (256L << 20) / matrixBytes);
        try (Arena arena = Arena.ofShared(); ThreadWorkerPool pool = new ThreadWorkerPool(threads, "probe")) {
            MemorySegment all = KernelTiming.weights(arena, type, rows * copies, cols);
            WeightMatrix[] ring = new WeightMatrix[copies];
            for (int i = 0; i < copies; i++) {
                ring[i] = new WeightMatrix(type, all.asSlice(i * matrixBytes, matrixBytes), rows, cols);
            }
            MemorySegment x = arena.allocate(cols * 4, 64);
            SplittableRandom rnd = new SplittableRandom(3);
            for (long i = 0; i < cols; i++) {
                x.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) rnd.nextGaussian());
            }
            MemorySegment y = arena.allocate(rows * 4, 64);
            try (MatMul mm = new MatMul(pool, cols, 1, Precision.QUANTIZED)) {
                // compile the kernels before timing (C2 takes a few seconds with the Vector API)
                long warm = System.nanoTime() + (long) (seconds * 1e9);
                for (int i = 0; System.nanoTime() < warm; i++) {
                    mm.matmul(ring[i % copies], x, cols, 1, y, rows);
                }
                for (int r = 0; r < rounds; r++) {
                    for (int streamed = 0; streamed < 2; streamed++) {
                        int n = streamed == 0 ? 1 : copies;
                        long[] times = new long[1 << 20];
                        int calls = 0;
                        long end = System.nanoTime() + (long) (seconds * 1e9);
                        while (System.nanoTime() < end && calls < times.length) {
                            long start = System.nanoTime();
                            mm.matmul(ring[calls % n], x, cols, 1, y, rows);
                            times[calls++] = System.nanoTime() - start;
                        }
                        long[] t = Arrays.copyOf(times, calls);
                        Arrays.sort(t);
                        System.out.printf("%s %s %dx%d t%d: p10 %.1f p50 %.1f p90 %.1f best %.1f us, p50 %.2f GB/s%n",
                                type, streamed == 0 ? "cached  " : "streamed", rows, cols, threads,
                                t[calls / 10] / 1e3, t[calls / 2] / 1e3, t[calls * 9 / 10] / 1e3, t[0] / 1e3,
                                matrixBytes / (double) t[calls / 2]);
                    }
                }
            }
        }
    }
}
