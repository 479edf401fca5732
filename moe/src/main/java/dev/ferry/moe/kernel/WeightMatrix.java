package dev.ferry.moe.kernel;

import dev.ferry.loader.GgmlType;
import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * A row-major weight matrix in a ggml type: {@code rows} output rows of {@code cols} values each
 * ({@code cols} is ggml's ne0). {@code data} holds exactly the tensor's bytes, as in the GGUF file.
 */
public record WeightMatrix(GgmlType type, MemorySegment data, long rows, long cols) {

    public WeightMatrix {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(data, "data");
        if (!Kernels.isSupported(type)) {
            throw new IllegalArgumentException("ggml type " + type + " is not supported by the CPU kernels (supported: "
                    + Kernels.SUPPORTED + ")");
        }
        if (rows < 1 || cols < 1) {
            throw new IllegalArgumentException("weight matrix needs rows >= 1 and cols >= 1, got " + rows + " x " + cols);
        }
        long rowBytes = type.rowBytes(cols);
        if (rowBytes < 0) {
            throw new IllegalArgumentException(type + " rows hold whole blocks of " + type.blockSize()
                    + " values, but cols = " + cols);
        }
        if (data.byteSize() != Math.multiplyExact(rowBytes, rows)) {
            throw new IllegalArgumentException(type + " matrix " + rows + " x " + cols + " needs " + rowBytes * rows
                    + " bytes, data has " + data.byteSize());
        }
    }

    /** Bytes of one row. */
    public long rowBytes() {
        return type.rowBytes(cols);
    }
}
