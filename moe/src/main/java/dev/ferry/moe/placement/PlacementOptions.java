package dev.ferry.moe.placement;

import dev.ferry.hostmemory.CpuSelection;
import dev.ferry.hostmemory.numa.NumaPolicy;
import java.util.Objects;
import java.util.Optional;

/**
 * The user's CPU and host-memory choices, as llama.cpp names them: {@code --numa POLICY} (absent:
 * no placement, the plain file mapping and one unpinned pool), the worker CPUs ({@code -t},
 * {@code --cpu-use-hyperthreading}, {@code --cpu-mask}, {@code --cpu-range}), {@code --no-mmap}
 * (copy weights into anonymous buffers) and {@code --mlock}.
 */
public record PlacementOptions(Optional<NumaPolicy> numa, CpuSelection cpus, boolean noMmap, boolean mlock) {

    public PlacementOptions {
        Objects.requireNonNull(numa, "numa");
        Objects.requireNonNull(cpus, "cpus");
    }

    /** No placement, one worker per physical core, weights used from the file mapping. */
    public static PlacementOptions defaults() {
        return new PlacementOptions(Optional.empty(), CpuSelection.defaults(), false, false);
    }

    /** No placement with {@code threads} workers (0 = one per physical core). */
    public static PlacementOptions threads(int threads) {
        return new PlacementOptions(Optional.empty(), CpuSelection.threads(threads), false, false);
    }

    /**
     * From the flag values; {@code numa}, {@code cpuMask} and {@code cpuRange} may be null (not
     * given), {@code threads} may be null (one per physical core). Errors name the flag.
     */
    public static PlacementOptions parse(String numa, Integer threads, boolean useHyperthreading, String cpuMask, String cpuRange,
                                         boolean noMmap, boolean mlock) {
        Optional<NumaPolicy> policy = numa == null ? Optional.empty() : Optional.of(NumaPolicy.parse(numa));
        if (threads != null && threads < 1) {
            throw new IllegalArgumentException("-t/--threads: thread count must be positive, got " + threads);
        }
        CpuSelection selection = CpuSelection.parse(threads == null ? 0 : threads, useHyperthreading, cpuMask, cpuRange);
        return new PlacementOptions(policy, selection, noMmap, mlock);
    }

    public PlacementOptions withNuma(NumaPolicy policy) {
        return new PlacementOptions(Optional.of(policy), cpus, noMmap, mlock);
    }

    /** True when weights are copied into placed buffers rather than read from the file mapping. */
    public boolean placesWeights() {
        return numa.isPresent() || noMmap;
    }

    /** E.g. {@code --numa shard, physical cores, --mlock}. */
    public String describe() {
        StringBuilder sb = new StringBuilder(numa.map(p -> "--numa " + p.flagValue()).orElse("no --numa"));
        sb.append(cpus.threads() == 0 ? ", one thread per physical core" : ", -t " + cpus.threads());
        if (cpus.useHyperthreading()) {
            sb.append(", --cpu-use-hyperthreading");
        }
        cpus.cpuMask().ifPresent(m -> sb.append(", --cpu-mask CPUs ").append(m.toListString()));
        cpus.cpuRange().ifPresent(r -> sb.append(", --cpu-range CPUs ").append(r.toListString()));
        if (noMmap) {
            sb.append(", --no-mmap");
        }
        if (mlock) {
            sb.append(", --mlock");
        }
        return sb.toString();
    }
}
