package dev.ferry.cli;

import dev.ferry.moe.kernel.Precision;
import dev.ferry.moe.runtime.InferenceEngine;
import dev.ferry.moe.runtime.KvCacheType;
import dev.ferry.moe.runtime.LoadedModel;
import dev.ferry.moe.synth.DemoModel;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The model and CPU flags shared by {@code run}, {@code logits} and {@code bench}, named as in llama.cpp. */
public final class ModelOptions {

    @Option(names = {"-m", "--model"}, description = "GGUF model file.")
    Path model;

    @Option(names = {"-t", "--threads"}, description = "CPU threads (default: the available processors).")
    Integer threads;

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
        return LoadedModel.open(modelPath());
    }

    /** {@code -m}, or the built-in demo model (generated on first use), saying so on {@code err}. */
    LoadedModel loadOrDemo(PrintStream err) {
        if (model != null) {
            return load();
        }
        Path demo = DemoModel.path();
        err.println("ferry: no -m given: using the built-in demo model (random weights) " + demo);
        return LoadedModel.open(demo);
    }

    int threadCount() {
        return threads != null ? threads : Runtime.getRuntime().availableProcessors();
    }

    Precision precisionValue() {
        return switch (precision.toLowerCase(java.util.Locale.ROOT)) {
            case "quantized" -> Precision.QUANTIZED;
            case "exact", "f32" -> Precision.EXACT;
            default -> throw new IllegalArgumentException("--precision: '" + precision + "' is not one of quantized, exact");
        };
    }

    InferenceEngine engine() {
        if (contextLength < 0) {
            throw new IllegalArgumentException("-c: context length must be 0 or positive, got " + contextLength);
        }
        return new InferenceEngine(threadCount(), contextLength, microBatch,
                KvCacheType.parse("--cache-type-k", cacheTypeK), KvCacheType.parse("--cache-type-v", cacheTypeV),
                precisionValue());
    }
}
