package dev.ferry.hostmemory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.atomic.AtomicLongArray;
import org.junit.jupiter.api.Test;

class ThreadWorkerPoolTest {

    @Test
    void everyWorkerRunsItsShareExactlyOncePerJob() {
        try (ThreadWorkerPool pool = new ThreadWorkerPool(3, "test")) {
            AtomicLongArray hits = new AtomicLongArray(3);
            for (int job = 0; job < 1000; job++) {
                pool.run((w, n) -> {
                    assertEquals(3, n);
                    hits.incrementAndGet(w);
                });
            }
            for (int w = 0; w < 3; w++) {
                assertEquals(1000, hits.get(w), "worker " + w);
            }
        }
    }

    @Test
    void aWorkerFailureIsRethrownToTheCaller() {
        try (ThreadWorkerPool pool = new ThreadWorkerPool(2, "test")) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> pool.run((w, n) -> {
                if (w == 1) {
                    throw new IllegalStateException("worker one failed");
                }
            }));
            assertEquals("worker one failed", e.getMessage());
            int[] after = new int[2];
            pool.run((w, n) -> after[w] = w + 1);
            assertEquals(2, after[1]);
        }
    }
}
