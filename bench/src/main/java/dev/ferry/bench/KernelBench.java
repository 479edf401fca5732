package dev.ferry.bench;

import dev.ferry.hostmemory.ThreadWorkerPool;
import dev.ferry.loader.GgmlType;
import dev.ferry.moe.kernel.MatMul;
import dev.ferry.moe.kernel.Precision;
import dev.ferry.moe.kernel.WeightMatrix;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One {@link MatMul#matmul} call per operation: {@code tokens} activation rows times a
 * {@code rows x cols} weight matrix of {@code type}, split over {@code threads} workers. The
 * operation cycles through enough distinct matrices (at least 256 MiB for one token) that the
 * weights stream from memory, not from the caches. Weight GB/s = ops/s x rows x rowBytes;
 * GFLOP/s = ops/s x 2 x rows x cols x tokens (bench/run-kernels.sh prints both).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class KernelBench {

    private static final long STREAM_BYTES = 256L << 20;
    private static final long BATCH_BYTES = 64L << 20;

    @Param({"Q8_0", "Q4_0", "Q4_K", "Q5_K", "Q6_K", "F16"})
    public String type;

    /** rows x cols: Qwen3-30B-A3B expert gate/up and down, its attention q, DeepSeek V3 expert gate/up. */
    @Param({"768x2048", "2048x768", "4096x2048", "2048x7168"})
    public String shape;

    @Param({"1", "2"})
    public int threads;

    @Param({"1", "64"})
    public int tokens;

    @Param({"QUANTIZED"})
    public String precision;

    private Arena arena;
    private ThreadWorkerPool pool;
    private MatMul matMul;
    private WeightMatrix[] matrices;
    private MemorySegment x;
    private MemorySegment y;
    private long rows;
    private long cols;
    private int next;

    @Setup(Level.Trial)
    public void setUp() {
        GgmlType t = GgmlType.valueOf(type);
        String[] rc = shape.split("x");
        rows = Long.parseLong(rc[0]);
        cols = Long.parseLong(rc[1]);
        long matrixBytes = t.rowBytes(cols) * rows;
        int count = (int) Math.max(1, ((tokens == 1 ? STREAM_BYTES : BATCH_BYTES) + matrixBytes - 1) / matrixBytes);
        arena = Arena.ofShared();
        MemorySegment all = BenchWeights.random(arena, t, matrixBytes * count, 42);
        matrices = new WeightMatrix[count];
        for (int i = 0; i < count; i++) {
            matrices[i] = new WeightMatrix(t, all.asSlice(i * matrixBytes, matrixBytes), rows, cols);
        }
        x = arena.allocate(cols * tokens * 4, 64);
        y = arena.allocate(rows * tokens * 4, 64);
        SplittableRandom rnd = new SplittableRandom(7);
        for (long i = 0; i < cols * tokens; i++) {
            x.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) rnd.nextGaussian());
        }
        pool = new ThreadWorkerPool(threads, "bench");
        matMul = new MatMul(pool, cols, tokens, Precision.valueOf(precision));
    }

    @Benchmark
    public void matmul() {
        matMul.matmul(matrices[next], x, cols, tokens, y, rows);
        next = next + 1 == matrices.length ? 0 : next + 1;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        matMul.close();
        pool.close();
        arena.close();
    }
}
