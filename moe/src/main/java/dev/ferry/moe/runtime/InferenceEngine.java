package dev.ferry.moe.runtime;

import dev.ferry.hostmemory.ThreadWorkerPool;
import dev.ferry.hostmemory.WorkerPool;
import dev.ferry.moe.kernel.Precision;
import dev.ferry.moe.model.InferenceSession;
import dev.ferry.moe.model.SessionOptions;

/**
 * The CPU side of a run: the worker pool the kernels use and the session settings from the
 * command line ({@code -t -c -ub --cache-type-k/-v}). Owns the pool.
 */
public final class InferenceEngine implements AutoCloseable {

    private final WorkerPool pool;
    private final int contextLength;
    private final int microBatch;
    private final KvCacheType keyType;
    private final KvCacheType valueType;
    private final Precision precision;

    public InferenceEngine(int threads, int contextLength, int microBatch, KvCacheType keyType, KvCacheType valueType,
                           Precision precision) {
        if (threads < 1) {
            throw new IllegalArgumentException("-t: thread count must be positive, got " + threads);
        }
        this.pool = new ThreadWorkerPool(threads, "ferry-cpu");
        this.contextLength = contextLength;
        this.microBatch = microBatch;
        this.keyType = keyType;
        this.valueType = valueType;
        this.precision = precision;
    }

    public int threads() {
        return pool.size();
    }

    public WorkerPool pool() {
        return pool;
    }

    /** Context length for {@code model}: {@code -c}, or the trained context when {@code -c 0}. */
    public int contextLengthFor(LoadedModel model) {
        return contextLength > 0 ? contextLength : model.config().contextLengthTrained();
    }

    public InferenceSession newSession(LoadedModel model) {
        int ctx = contextLengthFor(model);
        return model.model().newSession(new SessionOptions(ctx, Math.min(microBatch, ctx), keyType, valueType,
                pool, precision));
    }

    @Override
    public void close() {
        pool.close();
    }
}
