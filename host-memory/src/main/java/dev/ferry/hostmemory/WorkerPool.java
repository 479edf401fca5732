package dev.ferry.hostmemory;

/**
 * A fixed set of worker threads that runs one data-parallel job at a time. Kernels receive a pool
 * and split their rows over {@link #size()} workers; NUMA-aware pools pin their workers to the
 * cores of one node.
 */
public interface WorkerPool extends AutoCloseable {

    /** A slice of a parallel job: worker {@code worker} of {@code workers} handles its share. */
    @FunctionalInterface
    interface Task {
        void run(int worker, int workers);
    }

    /** Number of workers, the calling thread included when the implementation uses it. */
    int size();

    /**
     * Runs {@code task} on every worker and returns when all have finished. The first exception
     * any worker throws is rethrown here. Must not allocate per call in steady state.
     */
    void run(Task task);

    @Override
    void close();
}
