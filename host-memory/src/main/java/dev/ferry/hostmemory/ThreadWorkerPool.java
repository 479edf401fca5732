package dev.ferry.hostmemory;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * A worker pool of plain platform threads: the caller is worker 0 and {@code size - 1} daemon
 * threads are the others. Workers spin briefly, then park, between jobs, so back-to-back kernel
 * calls (one per layer and matrix) do not pay a full thread wake-up each, and a call allocates
 * nothing. Thread placement (pinning) is left to the thread factory hook {@link #onWorkerStart}.
 */
public class ThreadWorkerPool implements WorkerPool {

    private static final int SPIN_ITERATIONS = 20_000;

    private final int size;
    private final Thread[] threads;
    private final AtomicInteger pending = new AtomicInteger();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private volatile Task current;
    private volatile long generation;
    private volatile boolean closed;
    private volatile Thread caller;

    public ThreadWorkerPool(int size, String name) {
        if (size < 1) {
            throw new IllegalArgumentException("a worker pool needs at least one worker, got " + size);
        }
        this.size = size;
        this.threads = new Thread[size - 1];
        for (int i = 1; i < size; i++) {
            final int worker = i;
            Thread t = new Thread(() -> loop(worker), name + "-" + i);
            t.setDaemon(true);
            threads[i - 1] = t;
        }
        for (Thread t : threads) {
            t.start();
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
        if (size == 1) {
            task.run(0, 1);
            return;
        }
        caller = Thread.currentThread();
        failure.set(null);
        pending.set(size - 1);
        current = task;
        generation = generation + 1;
        for (Thread t : threads) {
            LockSupport.unpark(t);
        }
        Throwable own = null;
        try {
            task.run(0, size);
        } catch (Throwable e) {
            own = e;
        }
        int spins = 0;
        while (pending.get() != 0) {
            if (++spins < SPIN_ITERATIONS) {
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

    private void loop(int worker) {
        onWorkerStart(worker);
        long seen = 0;
        while (true) {
            int spins = 0;
            while (generation == seen && !closed) {
                if (++spins < SPIN_ITERATIONS) {
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
