package dev.ferry.moe.model;

import dev.ferry.hostmemory.WorkerPool;
import dev.ferry.moe.hybrid.HybridExecution;
import dev.ferry.moe.kernel.Precision;
import dev.ferry.moe.placement.CpuPlacement;
import dev.ferry.moe.runtime.KvCacheType;
import java.util.Objects;
import java.util.Optional;

/**
 * What one inference session needs: context length ({@code -c}), micro-batch size
 * ({@code -ub}), KV cache types, the worker pool for CPU kernels (attention, dense layers, router),
 * the matmul precision, where the expert layers run and read their weights ({@code --numa}), and
 * the device the GPU layers run on, when there is one ({@code -ngl}, {@code -ot}, {@code --device}).
 */
public record SessionOptions(int contextLength, int microBatch, KvCacheType keyType, KvCacheType valueType,
                             WorkerPool pool, Precision precision, CpuPlacement placement, Optional<HybridExecution> hybrid) {

    public SessionOptions {
        if (contextLength < 1) {
            throw new IllegalArgumentException("-c: context length must be positive, got " + contextLength);
        }
        if (microBatch < 1) {
            throw new IllegalArgumentException("-ub: micro-batch size must be positive, got " + microBatch);
        }
        Objects.requireNonNull(placement, "placement");
        if (placement.densePool() != pool) {
            throw new IllegalArgumentException("the session pool must be the placement's dense pool");
        }
        Objects.requireNonNull(hybrid, "hybrid");
    }

    /** CPU only, with {@code placement}. */
    public SessionOptions(int contextLength, int microBatch, KvCacheType keyType, KvCacheType valueType,
                          WorkerPool pool, Precision precision, CpuPlacement placement) {
        this(contextLength, microBatch, keyType, valueType, pool, precision, placement, Optional.empty());
    }

    /** The same settings with the layers the plan puts on the device run there. */
    public SessionOptions withHybrid(HybridExecution execution) {
        return new SessionOptions(contextLength, microBatch, keyType, valueType, pool, precision, placement, Optional.of(execution));
    }

    /** Everything on {@code pool}, weights from the file mapping (no {@code --numa}). */
    public SessionOptions(int contextLength, int microBatch, KvCacheType keyType, KvCacheType valueType,
                          WorkerPool pool, Precision precision) {
        this(contextLength, microBatch, keyType, valueType, pool, precision, CpuPlacement.plain(pool));
    }

    /** With {@code placement}; its dense pool is the session pool. */
    public SessionOptions(int contextLength, int microBatch, KvCacheType keyType, KvCacheType valueType,
                          Precision precision, CpuPlacement placement) {
        this(contextLength, microBatch, keyType, valueType, placement.densePool(), precision, placement);
    }
}
