package dev.ferry.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.ferry.loader.FileType;
import dev.ferry.loader.TensorInfo;
import dev.ferry.moe.kernel.Precision;
import dev.ferry.moe.model.InferenceSession;
import dev.ferry.moe.runtime.InferenceEngine;
import dev.ferry.moe.placement.HostContext;
import dev.ferry.moe.placement.PlacementOptions;
import dev.ferry.moe.runtime.KvCacheType;
import dev.ferry.moe.runtime.LoadedModel;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code ferry bench}: llama-bench's measurements. {@code ppN} evaluates N random tokens from an
 * empty cache in micro-batches; {@code tgN} evaluates N tokens one at a time. Each test runs
 * once to warm up, then {@code -r} times; t/s is the mean and standard deviation over the runs.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Measure prompt processing (ppN) and generation (tgN) speed, like llama-bench.")
public final class BenchCommand implements Callable<Integer> {

    @Option(names = {"-m", "--model"}, required = true, description = "GGUF model file.")
    Path model;

    @Option(names = {"-p", "--n-prompt"}, split = ",", defaultValue = "512", description = "Prompt sizes (default: ${DEFAULT-VALUE}); 0 skips.")
    int[] prompts;

    @Option(names = {"-n", "--n-gen"}, split = ",", defaultValue = "128", description = "Generation lengths (default: ${DEFAULT-VALUE}); 0 skips.")
    int[] gens;

    @Option(names = {"-t", "--threads"}, split = ",",
            description = "Thread counts (default: one per physical core the process may use).")
    int[] threads;

    @Option(names = "--numa", paramLabel = "POLICY",
            description = "Place expert weights and workers per NUMA node: distribute, isolate, numactl, mirror, shard (default: none).")
    String numa;

    @Option(names = "--cpu-use-hyperthreading", description = "Also run workers on SMT siblings (default: physical cores only).")
    boolean useHyperthreading;

    @Option(names = "--cpu-mask", paramLabel = "HEX", description = "CPUs to run workers on, as a hex mask; adds to --cpu-range.")
    String cpuMask;

    @Option(names = "--cpu-range", paramLabel = "LO-HI", description = "CPUs to run workers on, an inclusive range; adds to --cpu-mask.")
    String cpuRange;

    @Option(names = "--no-mmap", description = "Copy the expert weights into (placed) anonymous buffers instead of reading the file mapping.")
    boolean noMmap;

    @Option(names = "--mlock", description = "Lock the weights in RAM (mlock).")
    boolean mlock;

    @Option(names = {"-r", "--repetitions"}, defaultValue = "5", description = "Runs per test (default: ${DEFAULT-VALUE}).")
    int repetitions;

    @Option(names = {"-ub", "--ubatch-size"}, defaultValue = "512", description = "Micro-batch size (default: ${DEFAULT-VALUE}).")
    int microBatch;

    @Option(names = {"-ctk", "--cache-type-k"}, defaultValue = "f16", description = "KV cache type for K (default: ${DEFAULT-VALUE}).")
    String cacheTypeK;

    @Option(names = {"-ctv", "--cache-type-v"}, defaultValue = "f16", description = "KV cache type for V (default: ${DEFAULT-VALUE}).")
    String cacheTypeV;

    @Mixin
    GpuOptions gpu;

    @Option(names = "--no-warmup", description = "Skip compiling the kernels on a few rows before the first test.")
    boolean noWarmup;

    /** The JIT's code is the process's: one warm-up serves every later test. */
    private boolean warmedUp;

    @Option(names = {"-o", "--output"}, defaultValue = "md", description = "Output format: md or json (default: ${DEFAULT-VALUE}).")
    String format;

    /** One row of the result table. */
    public record Result(String model, long sizeBytes, long params, String backend, int threads, String test,
                         int tokens, double[] tokensPerSecond) {
        double mean() {
            double s = 0;
            for (double v : tokensPerSecond) {
                s += v;
            }
            return s / tokensPerSecond.length;
        }

        double stddev() {
            if (tokensPerSecond.length < 2) {
                return 0;
            }
            double m = mean();
            double s = 0;
            for (double v : tokensPerSecond) {
                s += (v - m) * (v - m);
            }
            return Math.sqrt(s / (tokensPerSecond.length - 1));
        }
    }

    @Override
    public Integer call() throws Exception {
        if (repetitions < 1) {
            throw new IllegalArgumentException("-r must be at least 1, got " + repetitions);
        }
        if (!format.equals("md") && !format.equals("json")) {
            throw new IllegalArgumentException("-o: '" + format + "' is not one of md, json");
        }
        List<PlacementOptions> placements = new ArrayList<>();
        if (threads == null) {
            placements.add(PlacementOptions.parse(numa, null, useHyperthreading, cpuMask, cpuRange, noMmap, mlock));
        } else {
            for (int t : threads) {
                placements.add(PlacementOptions.parse(numa, t, useHyperthreading, cpuMask, cpuRange, noMmap, mlock));
            }
        }
        HostContext host = HostContext.system();
        CpuInfo machine = CpuInfo.current();
        if (format.equals("md")) {
            System.err.println("ferry bench: " + machine.describe());
        }
        List<Result> results = new ArrayList<>();
        try (LoadedModel loaded = LoadedModel.open(model)) {
            String name = loaded.config().architecture() + " " + loaded.config().layerCount() + "L "
                    + FileType.of(loaded.file());
            long size = 0;
            long params = 0;
            for (TensorInfo t : loaded.file().tensors()) {
                size += t.byteSize();
                params += t.elementCount();
            }
            int maxTokens = 0;
            for (int p : prompts) {
                maxTokens = Math.max(maxTokens, p);
            }
            for (int g : gens) {
                maxTokens = Math.max(maxTokens, g);
            }
            for (PlacementOptions placement : placements) {
                try (InferenceEngine engine = new InferenceEngine(placement, host, Math.max(maxTokens, 1), microBatch,
                        KvCacheType.parse("--cache-type-k", cacheTypeK), KvCacheType.parse("--cache-type-v", cacheTypeV),
                        Precision.QUANTIZED, System.err, java.util.Optional.of(gpu.request()))) {
                    int t = engine.threads();
                    String cpu = numa == null ? "CPU" : "CPU numa-" + placement.numa().orElseThrow().flagValue();
                    var device = engine.deviceRuntime().filter(d -> d.hasDevice());
                    // the device's part of the label is known once the first test has prepared the model
                    Supplier<String> backend = () -> device.map(d -> d.backend())
                            .filter(b -> !b.equals("CPU")).map(b -> b + "+" + cpu).orElse(cpu);
                    for (int p : prompts) {
                        if (p > 0) {
                            double[] tps = measure(loaded, engine, p, false);
                            results.add(new Result(name, size, params, backend.get(), t, "pp" + p, p, tps));
                            device.ifPresent(d -> reportDevice(d, "pp" + p));
                            if (format.equals("md")) {
                                System.err.println("ferry bench: pp" + p + " t=" + t + " done");
                            }
                        }
                    }
                    for (int g : gens) {
                        if (g > 0) {
                            double[] tps = measure(loaded, engine, g, true);
                            results.add(new Result(name, size, params, backend.get(), t, "tg" + g, g, tps));
                            device.ifPresent(d -> reportDevice(d, "tg" + g));
                        }
                    }
                }
            }
        }
        if (format.equals("json")) {
            printJson(results, machine);
        } else {
            printMarkdown(results);
        }
        return 0;
    }

    private double[] measure(LoadedModel loaded, InferenceEngine engine, int tokens, boolean oneByOne) {
        int vocab = loaded.config().vocabSize();
        SplittableRandom random = new SplittableRandom(42);
        int[] ids = new int[tokens];
        for (int i = 0; i < tokens; i++) {
            ids[i] = random.nextInt(vocab);
        }
        double[] tps = new double[repetitions];
        try (InferenceSession session = engine.newSession(loaded); Arena arena = Arena.ofShared()) {
            MemorySegment logits = arena.allocate((long) vocab * Float.BYTES, 64);
            if (!noWarmup && !warmedUp) {
                warmedUp = true;
                String warmUp = session.warmUp().summary();
                if (format.equals("md")) {
                    System.err.println("ferry bench: " + warmUp);
                }
            }
            for (int rep = -1; rep < repetitions; rep++) {
                session.rewind(0);
                long t0 = System.nanoTime();
                if (oneByOne) {
                    for (int i = 0; i < tokens; i++) {
                        session.evaluate(ids, i, 1, false, logits);
                    }
                } else {
                    session.evaluate(ids, 0, tokens, false, logits);
                }
                double seconds = (System.nanoTime() - t0) / 1e9;
                if (rep >= 0) {
                    tps[rep] = tokens / seconds;
                }
            }
        }
        return tps;
    }

    /**
     * The device side of one test on stderr: where the experts ran, what was uploaded from which
     * memory, and the achieved pinned upload rate against the raw pinned rate measured right after.
     */
    private static void reportDevice(dev.ferry.moe.runtime.DeviceRuntime device, String test) {
        var stats = device.stats();
        for (String line : stats.describe()) {
            System.err.println("ferry bench: " + test + ": " + line);
        }
        for (var phase : dev.ferry.moe.hybrid.HybridStats.Phase.values()) {
            for (var u : stats.uploads(phase)) {
                if (phase != dev.ferry.moe.hybrid.HybridStats.Phase.LOAD && u.kind() != dev.ferry.cuda.HostMemoryKind.PAGEABLE
                        && u.seconds() > 0) {
                    double raw = device.pinnedUploadGigabytesPerSecond(64L << 20, 5);
                    System.err.printf(java.util.Locale.ROOT,
                            "ferry bench: %s: %s expert uploads from %s memory at %.2f GB/s = %.0f%% of the raw pinned rate "
                                    + "measured now (%.2f GB/s, 64 MiB copies)%n", test, phase.label(), u.kind().label(),
                            u.gigabytesPerSecond(), 100 * u.gigabytesPerSecond() / raw, raw);
                }
            }
        }
        stats.clear();
    }

    private static void printMarkdown(List<Result> results) {
        System.out.println("| model | size | params | backend | threads | test | t/s |");
        System.out.println("| --- | ---: | ---: | --- | ---: | ---: | ---: |");
        for (Result r : results) {
            System.out.printf("| %s | %.2f GiB | %.2f B | %s | %d | %s | %.2f ± %.2f |%n", r.model(),
                    r.sizeBytes() / (double) (1L << 30), r.params() / 1e9, r.backend(), r.threads(), r.test(),
                    r.mean(), r.stddev());
        }
    }

    private static void printJson(List<Result> results, CpuInfo cpu) throws Exception {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (Result r : results) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("cpu_info", cpu.model());
            row.put("vector_bits", cpu.vectorBits());
            row.put("model", r.model());
            row.put("model_size", r.sizeBytes());
            row.put("model_n_params", r.params());
            row.put("backend", r.backend());
            row.put("n_threads", r.threads());
            row.put("test", r.test());
            row.put("n_tokens", r.tokens());
            row.put("avg_ts", r.mean());
            row.put("stddev_ts", r.stddev());
            row.put("samples_ts", r.tokensPerSecond());
            rows.add(row);
        }
        System.out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(rows));
    }
}
