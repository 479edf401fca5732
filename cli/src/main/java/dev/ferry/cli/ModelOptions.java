package dev.ferry.cli;

import dev.ferry.moe.kernel.Precision;
import dev.ferry.moe.placement.PlacementOptions;
import dev.ferry.moe.runtime.InferenceEngine;
import dev.ferry.moe.runtime.KvCacheType;
import dev.ferry.moe.runtime.LoadedModel;
import dev.ferry.moe.synth.DemoModel;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The model, CPU and host-memory flags shared by {@code run} and {@code logits}, named as in
 * llama.cpp ({@code -t --numa --cpu-use-hyperthreading --cpu-mask --cpu-range --no-mmap --mlock}).
 */
public final class ModelOptions {

    @Option(names = {"-m", "--model"}, description = "GGUF model file.")
    Path model;

    @Option(names = {"-t", "--threads"}, paramLabel = "N",
            description = "CPU threads (default: one per physical core the process may use; with --numa split evenly over the nodes).")
    Integer threads;

    @Option(names = "--numa", paramLabel = "POLICY",
            description = "Place expert weights and workers per NUMA node: distribute, isolate, numactl, mirror, shard "
                    + "(default: none, the plain file mapping and one unpinned pool).")
    String numa;

    @Option(names = "--cpu-use-hyperthreading", description = "Also run workers on SMT siblings (default: physical cores only).")
    boolean useHyperthreading;

    @Option(names = "--cpu-mask", paramLabel = "HEX", description = "CPUs to run workers on, as a hex mask (e.g. 0xff); adds to --cpu-range.")
    String cpuMask;

    @Option(names = "--cpu-range", paramLabel = "LO-HI", description = "CPUs to run workers on, an inclusive range (e.g. 0-15); adds to --cpu-mask.")
    String cpuRange;

    @Option(names = "--no-mmap", description = "Copy the expert weights into (placed) anonymous buffers instead of reading the file mapping.")
    boolean noMmap;

    @Option(names = "--mlock", description = "Lock the weights in RAM (mlock) so they are never swapped out.")
    boolean mlock;

    /** The command this mixin belongs to, to read its {@code -v} flag where it has one. */
    @Spec(Spec.Target.MIXEE)
    CommandSpec mixee;

    /** The model loaded by {@link #load()} / {@link #loadOrDemo}, for the {@code -v} placement report. */
    private LoadedModel loaded;

    @Option(names = {"-c", "--ctx-size"}, defaultValue = "4096",
            description = "Context length; 0 = the model's trained context (default: ${DEFAULT-VALUE}).")
    int contextLength;

    @Option(names = {"-ub", "--ubatch-size"}, defaultValue = "512",
            description = "Micro-batch size for prompt processing (default: ${DEFAULT-VALUE}).")
    int microBatch;

    @Option(names = {"-ctk", "--cache-type-k"}, defaultValue = "f16", description = "KV cache type for K: f32, f16 (default: ${DEFAULT-VALUE}).")
    String cacheTypeK;

    @Option(names = {"-ctv", "--cache-type-v"}, defaultValue = "f16", description = "KV cache type for V: f32, f16 (default: ${DEFAULT-VALUE}).")
    String cacheTypeV;

    @Option(names = "--precision", defaultValue = "quantized",
            description = "Activations in matrix products: quantized (like llama.cpp's CPU backend) or exact (F32). Default: ${DEFAULT-VALUE}.")
    String precision;

    /** The model path: {@code -m}, which must exist. */
    Path modelPath() {
        if (model == null) {
            throw new IllegalArgumentException("-m: no model given");
        }
        if (!Files.isRegularFile(model)) {
            throw new IllegalArgumentException("-m: " + model + " does not exist or is not a file");
        }
        return model;
    }

    LoadedModel load() {
        loaded = LoadedModel.open(modelPath());
        return loaded;
    }

    /** {@code -m}, or the built-in demo model (generated on first use), saying so on {@code err}. */
    LoadedModel loadOrDemo(PrintStream err) {
        if (model != null) {
            return load();
        }
        Path demo = DemoModel.path();
        err.println("ferry: no -m given: using the built-in demo model (random weights) " + demo);
        loaded = LoadedModel.open(demo);
        return loaded;
    }

    /** The {@code --numa}, CPU and weight-copy flags; errors name the flag. */
    PlacementOptions placementOptions() {
        return PlacementOptions.parse(numa, threads, useHyperthreading, cpuMask, cpuRange, noMmap, mlock);
    }

    /** True when the command has a {@code -v/--verbose} flag and it is set. */
    boolean verbose() {
        if (mixee == null) {
            return false;
        }
        OptionSpec v = mixee.findOption("-v");
        return v != null && Boolean.TRUE.equals(v.getValue());
    }

    Precision precisionValue() {
        return switch (precision.toLowerCase(java.util.Locale.ROOT)) {
            case "quantized" -> Precision.QUANTIZED;
            case "exact", "f32" -> Precision.EXACT;
            default -> throw new IllegalArgumentException("--precision: '" + precision + "' is not one of quantized, exact");
        };
    }

    /** The engine for these flags and the GPU flags in {@code gpu} (a real GPU by default when there is one). */
    InferenceEngine engine(GpuOptions gpu) {
        if (contextLength < 0) {
            throw new IllegalArgumentException("-c: context length must be 0 or positive, got " + contextLength);
        }
        InferenceEngine engine = new InferenceEngine(placementOptions(), null, contextLength, microBatch,
                KvCacheType.parse("--cache-type-k", cacheTypeK), KvCacheType.parse("--cache-type-v", cacheTypeV),
                precisionValue(), System.err, java.util.Optional.of(gpu.request()));
        if (verbose() && loaded != null) {
            // -v: topology, CPU assignment, placement plan and verified page placement, before the run.
            try {
                System.err.print(engine.describe(loaded));
            } catch (RuntimeException e) {
                engine.close();
                throw e;
            }
        }
        return engine;
    }
}
