package dev.ferry.moe.plan;

import dev.ferry.hostmemory.numa.NumaPolicy;
import dev.ferry.moe.runtime.KvCacheType;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The user's placement choices, with llama.cpp's flag names.
 *
 * @param gpuLayers {@code -ngl}: repeating layers on the GPU, counted from the last; a value above
 *     the layer count also puts the output layer there. Empty = llama.cpp's default: every layer
 *     when there is a GPU, none without one
 * @param overrides {@code -ot}, {@code --cpu-moe}, {@code --n-cpu-moe} rules, first match wins
 * @param numa {@code --numa POLICY} for the host side; empty = no placement
 * @param mmap false with {@code --no-mmap} (host weights copied into anonymous buffers)
 * @param contextLength {@code -c}; 0 = the model's trained context
 * @param microBatch {@code -ub}, sizes the compute buffer estimate
 */
public record PlanOptions(OptionalInt gpuLayers, TensorOverrides overrides, Optional<NumaPolicy> numa, PinnedCache pinned,
                          boolean mmap, int contextLength, int microBatch, KvCacheType cacheTypeK, KvCacheType cacheTypeV) {

    public static final int DEFAULT_CONTEXT = 4096;
    public static final int DEFAULT_MICRO_BATCH = 512;

    public PlanOptions {
        Objects.requireNonNull(gpuLayers, "gpuLayers");
        Objects.requireNonNull(overrides, "overrides");
        Objects.requireNonNull(numa, "numa");
        Objects.requireNonNull(pinned, "pinned");
        Objects.requireNonNull(cacheTypeK, "cacheTypeK");
        Objects.requireNonNull(cacheTypeV, "cacheTypeV");
        if (gpuLayers.isPresent() && gpuLayers.getAsInt() < 0) {
            throw new IllegalArgumentException("-ngl: layer count must be 0 or positive (or 'all'), got " + gpuLayers.getAsInt());
        }
        if (contextLength < 0) {
            throw new IllegalArgumentException("-c: context length must be 0 or positive, got " + contextLength);
        }
        if (microBatch <= 0) {
            throw new IllegalArgumentException("-ub: micro-batch size must be positive, got " + microBatch);
        }
    }

    /** llama.cpp's defaults: no rules, default -ngl, no --numa, mmap, 4096 context, f16 cache. */
    public static PlanOptions defaults() {
        return new PlanOptions(OptionalInt.empty(), TensorOverrides.none(), Optional.empty(), PinnedCache.none(), true,
                DEFAULT_CONTEXT, DEFAULT_MICRO_BATCH, KvCacheType.F16, KvCacheType.F16);
    }

    /**
     * From the flag values as a command receives them; null / false / empty = not given. The
     * {@code -ot} rules come first, then {@code --cpu-moe}, then {@code --n-cpu-moe}. Errors name the flag.
     */
    public static PlanOptions parse(String gpuLayers, List<String> overrideTensor, boolean cpuMoe, Integer nCpuMoe, String numa,
                                    boolean pinnedExpertCache, boolean pinInPlace, String pinnedCacheSize, boolean noMmap,
                                    Integer contextLength, Integer microBatch, String cacheTypeK, String cacheTypeV) {
        TensorOverrides rules = TensorOverrides.parse("-ot/--override-tensor", overrideTensor);
        if (cpuMoe) {
            rules = rules.withCpuMoe();
        }
        if (nCpuMoe != null) {
            rules = rules.withCpuMoeLayers(nCpuMoe);
        }
        return new PlanOptions(parseGpuLayers(gpuLayers), rules, numa == null ? Optional.empty() : Optional.of(NumaPolicy.parse(numa)),
                PinnedCache.of(pinnedExpertCache, pinInPlace, pinnedCacheSize), !noMmap,
                contextLength == null ? DEFAULT_CONTEXT : contextLength,
                microBatch == null ? DEFAULT_MICRO_BATCH : microBatch,
                cacheTypeK == null ? KvCacheType.F16 : KvCacheType.parse("-ctk/--cache-type-k", cacheTypeK),
                cacheTypeV == null ? KvCacheType.F16 : KvCacheType.parse("-ctv/--cache-type-v", cacheTypeV));
    }

    /**
     * Parses {@code -ngl}: a count, or {@code all}/{@code auto}/{@code -1} for every layer plus the
     * output layer; null = not given.
     */
    public static OptionalInt parseGpuLayers(String value) {
        if (value == null) {
            return OptionalInt.empty();
        }
        String v = value.strip();
        if (v.equalsIgnoreCase("all") || v.equalsIgnoreCase("auto") || v.equals("-1")) {
            return OptionalInt.of(Integer.MAX_VALUE);
        }
        try {
            int n = Integer.parseInt(v);
            if (n < 0) {
                throw new IllegalArgumentException("-ngl: layer count must be 0 or positive (or all), got " + value);
            }
            return OptionalInt.of(n);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("-ngl: expected a layer count or 'all', got '" + value + "'");
        }
    }

    public PlanOptions withGpuLayers(int n) {
        return new PlanOptions(OptionalInt.of(n), overrides, numa, pinned, mmap, contextLength, microBatch, cacheTypeK, cacheTypeV);
    }

    public PlanOptions withOverrides(TensorOverrides rules) {
        return new PlanOptions(gpuLayers, rules, numa, pinned, mmap, contextLength, microBatch, cacheTypeK, cacheTypeV);
    }

    public PlanOptions withNuma(NumaPolicy policy) {
        return new PlanOptions(gpuLayers, overrides, Optional.of(policy), pinned, mmap, contextLength, microBatch, cacheTypeK, cacheTypeV);
    }

    public PlanOptions withPinned(PinnedCache cache) {
        return new PlanOptions(gpuLayers, overrides, numa, cache, mmap, contextLength, microBatch, cacheTypeK, cacheTypeV);
    }

    public PlanOptions withMmap(boolean useMmap) {
        return new PlanOptions(gpuLayers, overrides, numa, pinned, useMmap, contextLength, microBatch, cacheTypeK, cacheTypeV);
    }

    public PlanOptions withContext(int tokens) {
        return new PlanOptions(gpuLayers, overrides, numa, pinned, mmap, tokens, microBatch, cacheTypeK, cacheTypeV);
    }
}
