package dev.ferry.cuda.kernels;

import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * The arguments of one launch as a CPU twin sees them: device buffers become the host-RAM
 * segments that back them on the simulated device, scalars stay scalars.
 */
public final class KernelCallArgs {

    private final String kernel;
    private final List<Object> values;

    public KernelCallArgs(String kernel, List<Object> values) {
        this.kernel = kernel;
        this.values = List.copyOf(values);
    }

    public String kernel() {
        return kernel;
    }

    public int count() {
        return values.size();
    }

    public MemorySegment segment(int index) {
        return as(index, MemorySegment.class, "a buffer");
    }

    public int i32(int index) {
        return as(index, Integer.class, "an int");
    }

    public long i64(int index) {
        return as(index, Long.class, "a long");
    }

    public float f32(int index) {
        return as(index, Float.class, "a float");
    }

    /** Throws unless exactly {@code expected} arguments were passed. */
    public void expectCount(int expected) {
        if (values.size() != expected) {
            throw new IllegalArgumentException("kernel " + kernel + " takes " + expected + " arguments, got " + values.size());
        }
    }

    private <T> T as(int index, Class<T> type, String what) {
        if (index < 0 || index >= values.size()) {
            throw new IllegalArgumentException("kernel " + kernel + ": no argument " + index + " (got " + values.size() + ")");
        }
        Object value = values.get(index);
        if (!type.isInstance(value)) {
            throw new IllegalArgumentException("kernel " + kernel + ": argument " + index + " must be " + what
                    + ", got " + value.getClass().getSimpleName());
        }
        return type.cast(value);
    }
}
