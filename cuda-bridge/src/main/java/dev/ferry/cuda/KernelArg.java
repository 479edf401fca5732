package dev.ferry.cuda;

import java.util.Objects;

/** One typed kernel argument, passed by value in launch order. */
public sealed interface KernelArg {

    /** A device pointer (the start of the buffer or slice). */
    record Buffer(DeviceBuffer buffer) implements KernelArg {
        public Buffer {
            Objects.requireNonNull(buffer, "buffer");
        }
    }

    /** A C {@code int}. */
    record I32(int value) implements KernelArg {
    }

    /** A C {@code long long}. */
    record I64(long value) implements KernelArg {
    }

    /** A C {@code float}. */
    record F32(float value) implements KernelArg {
    }

    static KernelArg of(DeviceBuffer buffer) {
        return new Buffer(buffer);
    }

    static KernelArg i32(int value) {
        return new I32(value);
    }

    static KernelArg i64(long value) {
        return new I64(value);
    }

    static KernelArg f32(float value) {
        return new F32(value);
    }
}
