package dev.ferry.moe.kernel;

import dev.ferry.hostmemory.ThreadWorkerPool;
import dev.ferry.loader.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.stream.Collectors;

/**
 * Runs each weight type's kernels on a few rows until the JIT has compiled them: first the
 * one-token (decode) kernels of every type, then the batch (prefill) kernels.
 *
 * <p>Why first, and one type at a time: C2 adds up the deoptimization history of every JDK method
 * it inlines, and a Vector API kernel inlines several hundred. After the batch kernels, decoders
 * and vector ops have run through the API's interpreted fallbacks, those shared methods carry
 * enough traps that a kernel compiled later exceeds {@code PerMethodTrapLimit} and loses branch
 * pruning: inside {@code ferry bench} the Q6_K output head then ran 2.6x slower than the same
 * kernel compiled in a harness (bench/README.md, "End to end step 8"). A kernel compiled early
 * keeps its code for the rest of the run.
 */
public final class KernelWarmUp {

    /** Rows of each warm-up matrix: little time per call, whole row groups. */
    static final int ROWS = 64;
    /**
     * Tokens of the batch phase: a run for {@link Gemm#outer4x2} where it is used, whole groups of
     * four for {@link Gemm#dot2x4} and a remainder of three. A branch the warm-up never takes is
     * compiled as a trap that the first prefill through it springs: with the outer block used on
     * the Xeon and a 7-token warm-up, pp128 ran at 53-66 t/s warmed against 124-160 unwarmed.
     */
    public static final int BATCH_TOKENS = (Gemm.OUTER_PRODUCT ? Gemm.OUTER_TOKENS : 0) + 7;
    /**
     * Time per weight and token under which a call counts as compiled code: C2's kernels need
     * 0.05-0.3 ns on one thread, C1's and the interpreter's 5-80 ns; half-compiled calls (C2
     * kernel, C1 caller) ran at 2 ns.
     */
    static final double COMPILED_NS_PER_WEIGHT = 0.75;
    /** Per call outside the kernels: rounding the activations, splitting the rows. */
    private static final double CALL_NANOS = 20_000;
    /** Calls without a 10% gain, once compiled, after which the step stops. */
    private static final int STABLE_CALLS = 200;
    private static final long STABLE_NANOS = 100_000_000L;
    /**
     * Without a 10% gain for this long a step stops even short of compiled speed (a CPU without
     * the vector kernels, a JVM without C2): the warm-up must not cost more than it can save.
     */
    private static final int STALLED_CALLS = 500;
    private static final long STALLED_NANOS = 1_000_000_000L;

    /** One type's kernels at one token count: how many calls it took and how fast the first and best were. */
    public record Step(GgmlType type, int tokens, int calls, double firstMillis, double bestMillis, boolean compiled,
                       double millis) {
    }

    /** The steps in the order they ran and the wall time of the whole warm-up, or why none ran. */
    public record Report(List<Step> steps, double millis, String skippedBecause) {

        /** No warm-up ran (a session without CPU kernels to compile). */
        public static final Report NONE = skipped("nothing to compile");

        public Report {
            steps = List.copyOf(steps);
            if (skippedBecause != null && !steps.isEmpty()) {
                throw new IllegalArgumentException("a skipped warm-up has no steps");
            }
        }

        public static Report skipped(String reason) {
            return new Report(List.of(), 0, Objects.requireNonNull(reason, "reason"));
        }

        /** One line: the time, the types in order, and the steps that ran out of time. */
        public String summary() {
            if (skippedBecause != null) {
                return "no kernel warm-up: " + skippedBecause;
            }
            String types = steps.stream().map(s -> s.type().name()).distinct().collect(Collectors.joining(", "));
            String slow = steps.stream().filter(s -> !s.compiled())
                    .map(s -> s.type() + " x" + s.tokens()).collect(Collectors.joining(", "));
            return String.format(Locale.ROOT, "kernels warmed up in %.2f s (%s)%s", millis / 1e3, types,
                    slow.isEmpty() ? "" : "; not yet compiled: " + slow);
        }

        /** True when a warm-up ran and every step reached compiled speed within its time. */
        public boolean compiled() {
            return skippedBecause == null && steps.stream().allMatch(Step::compiled);
        }
    }

    private KernelWarmUp() {
    }

    /**
     * Warms the kernels of {@code matrices} (one per type, in the order given: the type that
     * streams the most bytes per token first) with activations rounded per {@code precision},
     * each step for at most {@code stepNanos} and all of them for at most {@code totalNanos}
     * (steps left when that is spent are reported with no calls). Matrices are cut to their
     * first {@link #ROWS} rows.
     * The products run on the calling thread alone: compiled code is shared by every pool, one
     * thread's time per weight tells compiled from interpreted code on any machine, and the
     * other CPUs are left to the compiler threads.
     */
    public static Report run(List<WeightMatrix> matrices, Precision precision, long stepNanos, long totalNanos) {
        Objects.requireNonNull(precision, "precision");
        long start = System.nanoTime();
        long maxCols = matrices.stream().mapToLong(WeightMatrix::cols).max().orElse(1);
        long maxRows = matrices.stream().mapToLong(w -> Math.min(ROWS, w.rows())).max().orElse(1);
        List<Step> steps = new ArrayList<>();
        try (Arena arena = Arena.ofShared(); ThreadWorkerPool caller = new ThreadWorkerPool(1, "ferry-warm-up");
             MatMul matmul = new MatMul(caller, maxCols, BATCH_TOKENS, precision)) {
            MemorySegment x = arena.allocate(maxCols * BATCH_TOKENS * Float.BYTES, 64);
            MemorySegment y = arena.allocate(maxRows * BATCH_TOKENS * Float.BYTES, 64);
            SplittableRandom random = new SplittableRandom(7);
            for (long i = 0; i < maxCols * BATCH_TOKENS; i++) {
                x.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) random.nextGaussian());
            }
            for (int tokens : new int[] {1, BATCH_TOKENS}) {
                for (WeightMatrix w : matrices) {
                    long left = totalNanos - (System.nanoTime() - start);
                    steps.add(left > 0 ? warm(matmul, head(w), x, y, tokens, Math.min(stepNanos, left))
                            : new Step(w.type(), tokens, 0, 0, 0, false, 0));
                }
            }
        }
        return new Report(steps, (System.nanoTime() - start) / 1e6, null);
    }

    static WeightMatrix head(WeightMatrix w) {
        long rows = Math.min(ROWS, w.rows());
        return new WeightMatrix(w.type(), w.data().asSlice(0, rows * w.rowBytes()), rows, w.cols());
    }

    /** Calls the product until it runs at compiled speed and has stopped getting faster, stalls, or time is up. */
    private static Step warm(MatMul matmul, WeightMatrix w, MemorySegment x, MemorySegment y, int tokens, long limit) {
        double compiledNanos = COMPILED_NS_PER_WEIGHT * w.rows() * w.cols() * tokens + CALL_NANOS;
        long start = System.nanoTime();
        long first = -1;
        long best = Long.MAX_VALUE;
        long lastGainAt = start;
        int calls = 0;
        int callsSinceGain = 0;
        while (true) {
            long t0 = System.nanoTime();
            matmul.matmul(w, x, w.cols(), tokens, y, w.rows());
            long now = System.nanoTime();
            long took = now - t0;
            calls++;
            if (first < 0) {
                first = took;
            }
            if (took < best * 0.9) {
                best = took;
                lastGainAt = now;
                callsSinceGain = 0;
            } else {
                callsSinceGain++;
            }
            boolean compiled = best <= compiledNanos;
            boolean stable = compiled && callsSinceGain >= STABLE_CALLS && now - lastGainAt >= STABLE_NANOS;
            boolean stalled = callsSinceGain >= STALLED_CALLS && now - lastGainAt >= STALLED_NANOS;
            if (stable || stalled || now - start >= limit) {
                return new Step(w.type(), tokens, calls, first / 1e6, best / 1e6, compiled, (now - start) / 1e6);
            }
        }
    }
}
