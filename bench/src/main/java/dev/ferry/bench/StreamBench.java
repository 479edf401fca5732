package dev.ferry.bench;

import dev.ferry.hostmemory.ThreadWorkerPool;
import dev.ferry.hostmemory.WorkerPool;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
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
 * The machine's streaming-read ceiling: a plain vector float sum (preferred species, four
 * accumulators) over a 1 GiB off-heap buffer, split over {@code threads} workers of the same
 * pool type the kernels use. GB/s = ops/s x 1 GiB.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class StreamBench {

    static final long BYTES = 1L << 30;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    @Param({"1", "2"})
    public int threads;

    private Arena arena;
    private MemorySegment buffer;
    private WorkerPool pool;
    private float[] partial;
    private final WorkerPool.Task sumTask = this::sumSlice;

    @Setup(Level.Trial)
    public void setUp() {
        arena = Arena.ofShared();
        buffer = arena.allocate(BYTES, 4096);
        buffer.fill((byte) 1);
        pool = new ThreadWorkerPool(threads, "stream");
        partial = new float[threads * 16];
    }

    @Benchmark
    public float streamRead() {
        pool.run(sumTask);
        float s = 0;
        for (int i = 0; i < threads; i++) {
            s += partial[i * 16];
        }
        return s;
    }

    private void sumSlice(int worker, int workers) {
        long chunk = BYTES / workers;
        long from = chunk * worker;
        long to = from + chunk;
        long step = 4L * F.vectorByteSize();
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        for (long o = from; o < to; o += step) {
            a0 = a0.add(FloatVector.fromMemorySegment(F, buffer, o, LE));
            a1 = a1.add(FloatVector.fromMemorySegment(F, buffer, o + F.vectorByteSize(), LE));
            a2 = a2.add(FloatVector.fromMemorySegment(F, buffer, o + 2L * F.vectorByteSize(), LE));
            a3 = a3.add(FloatVector.fromMemorySegment(F, buffer, o + 3L * F.vectorByteSize(), LE));
        }
        partial[worker * 16] = a0.add(a1).add(a2).add(a3).reduceLanes(VectorOperators.ADD);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        pool.close();
        arena.close();
    }
}
