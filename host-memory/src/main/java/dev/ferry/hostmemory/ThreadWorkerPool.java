package dev.ferry.hostmemory;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * A worker pool of plain platform threads: the caller is worker 0 and {@code size - 1} daemon
 * threads are the others. Workers spin briefly, then park, between jobs, so back-to-back kernel
 * calls (one per layer and matrix) do not pay a full thread wake-up each, and a call allocates
 * nothing. Thread placement (pinning) is left to the thread factory hook {@link #onWorkerStart}.
 *
 * <p>Subclasses may instead own all {@code size} workers (the caller only waits), which NUMA
 * pools need so that no share of the work runs on a thread of another node; such pools can also
 * {@link #start} a job and {@link #await} it later, so several pools run at once.
 */
public class ThreadWorkerPool implements WorkerPool {

    private static final int SPIN_ITERATIONS = 20_000;
    /** With more threads than CPUs a spinning waiter takes the CPU from the thread it waits for: park almost at once. */
    private static final int OVERSUBSCRIBED_SPIN_ITERATIONS = 100;

    private final int size;
    private final int spinIterations;
    private final boolean callerIsWorker;
    private final Thread[] threads;
    private final AtomicInteger pending = new AtomicInteger();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private volatile Task current;
    private volatile long generation;
    private volatile boolean closed;
    private volatile Thread caller;
    private boolean started;

    public ThreadWorkerPool(int size, String name) {
        this(size, name, true);
    }

    /**
     * @param callerIsWorker true: the calling thread runs worker 0 and {@code size - 1} threads are
     *     started; false: {@code size} threads are started and the caller only waits
     */
    @SuppressWarnings("this-escape") // the started threads call onWorkerStart; subclasses set its fields before super()
    protected ThreadWorkerPool(int size, String name, boolean callerIsWorker) {
        if (size < 1) {
            throw new IllegalArgumentException("a worker pool needs at least one worker, got " + size);
        }
        this.size = size;
        this.spinIterations = size + (callerIsWorker ? 0 : 1) > Runtime.getRuntime().availableProcessors()
                ? OVERSUBSCRIBED_SPIN_ITERATIONS : SPIN_ITERATIONS;
        this.callerIsWorker = callerIsWorker;
        int first = callerIsWorker ? 1 : 0;
        this.threads = new Thread[size - first];
        CountDownLatch ready = new CountDownLatch(threads.length);
        for (int i = first; i < size; i++) {
            final int worker = i;
            Thread t = new Thread(() -> loop(worker, ready), name + "-" + i);
            t.setDaemon(true);
            threads[i - first] = t;
        }
        for (Thread t : threads) {
            t.start();
        }
        // Wait until every worker has run onWorkerStart, so pinning results are known when the constructor returns.
        boolean interrupted = false;
        while (ready.getCount() > 0) {
            try {
                ready.await();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Called on each background worker thread once, before it takes work (pinning hook). */
    protected void onWorkerStart(int worker) {
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public void run(Task task) {
        if (closed) {
            throw new IllegalStateException("worker pool is closed");
        }
        if (callerIsWorker && size == 1) {
            task.run(0, 1);
            return;
        }
        publish(task);
        Throwable own = null;
        if (callerIsWorker) {
            try {
                task.run(0, size);
            } catch (Throwable e) {
                own = e;
            }
        }
        finish(own);
    }

    /**
     * Hands {@code task} to the workers and returns at once; {@link #await} must follow on the same
     * thread before the next job. Only for pools whose threads are all the workers.
     */
    protected void start(Task task) {
        if (callerIsWorker) {
            throw new IllegalStateException("start/await needs a pool that owns all its workers");
        }
        if (closed) {
            throw new IllegalStateException("worker pool is closed");
        }
        if (started) {
            throw new IllegalStateException("the previous job was started but not awaited");
        }
        started = true;
        publish(task);
    }

    /** Waits for the job given to {@link #start} and rethrows the first failure of any worker. */
    protected void await() {
        if (!started) {
            throw new IllegalStateException("no job was started");
        }
        started = false;
        finish(null);
    }

    private void publish(Task task) {
        caller = Thread.currentThread();
        failure.set(null);
        pending.set(threads.length);
        current = task;
        generation = generation + 1;
        for (Thread t : threads) {
            LockSupport.unpark(t);
        }
    }

    private void finish(Throwable own) {
        int spins = 0;
        while (pending.get() != 0) {
            if (++spins < spinIterations) {
                Thread.onSpinWait();
            } else {
                LockSupport.parkNanos(this, 50_000);
            }
        }
        current = null;
        Throwable first = own != null ? own : failure.get();
        if (first instanceof RuntimeException re) {
            throw re;
        }
        if (first instanceof Error err) {
            throw err;
        }
        if (first != null) {
            throw new IllegalStateException(first);
        }
    }

    private void loop(int worker, CountDownLatch ready) {
        try {
            onWorkerStart(worker);
        } finally {
            ready.countDown();
        }
        long seen = 0;
        while (true) {
            int spins = 0;
            while (generation == seen && !closed) {
                if (++spins < spinIterations) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this);
                }
            }
            if (closed) {
                return;
            }
            seen = generation;
            Task task = current;
            try {
                task.run(worker, size);
            } catch (Throwable e) {
                failure.compareAndSet(null, e);
            }
            if (pending.decrementAndGet() == 0) {
                LockSupport.unpark(caller);
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread t : threads) {
            LockSupport.unpark(t);
        }
    }
}
