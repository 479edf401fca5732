package dev.ferry.cuda.kernels;

import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * CPU twins of the device kernels, by kernel name. The simulated device runs these; a module
 * that owns faster CPU math (moe) may register its own twin under a name, replacing the
 * built-in one, as long as it keeps the kernel's semantics.
 */
public final class KernelRegistry {

    private final Map<String, CpuKernel> twins = new ConcurrentHashMap<>();

    /** An empty registry. */
    public KernelRegistry() {
    }

    /** A registry holding the twins of every kernel in {@code native/} ({@link CpuTwins}). */
    public static KernelRegistry withStandardTwins() {
        KernelRegistry registry = new KernelRegistry();
        CpuTwins.registerAll(registry);
        return registry;
    }

    /** Registers (or replaces) the twin of {@code name}; returns this registry. */
    public KernelRegistry register(String name, CpuKernel twin) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(twin, "twin");
        if (name.isBlank()) {
            throw new IllegalArgumentException("kernel name must not be blank");
        }
        twins.put(name, twin);
        return this;
    }

    public Optional<CpuKernel> find(String name) {
        return Optional.ofNullable(twins.get(name));
    }

    public Set<String> names() {
        return Set.copyOf(new TreeSet<>(twins.keySet()));
    }
}
