package dev.ferry.moe.kernel;

import dev.ferry.loader.GgmlType;
import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * A 3-D expert tensor {@code [experts][rows][cols]} (ggml ne0 = cols, ne1 = rows, ne2 = experts),
 * as a {@code *_exps} tensor is stored in a GGUF file.
 */
public record ExpertWeights(GgmlType type, MemorySegment data, int experts, long rows, long cols) {

    public ExpertWeights {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(data, "data");
        if (experts < 1) {
            throw new IllegalArgumentException("expert tensor needs at least one expert, got " + experts);
        }
        if (!Kernels.isSupported(type)) {
            throw new IllegalArgumentException("ggml type " + type + " is not supported by the CPU kernels (supported: "
                    + Kernels.SUPPORTED + ")");
        }
        if (rows < 1 || cols < 1) {
            throw new IllegalArgumentException("expert tensor needs rows >= 1 and cols >= 1, got " + rows + " x " + cols);
        }
        long rowBytes = type.rowBytes(cols);
        if (rowBytes < 0) {
            throw new IllegalArgumentException(type + " rows hold whole blocks of " + type.blockSize()
                    + " values, but cols = " + cols);
        }
        long expertBytes = Math.multiplyExact(rowBytes, rows);
        if (data.byteSize() != Math.multiplyExact(expertBytes, (long) experts)) {
            throw new IllegalArgumentException(type + " expert tensor " + experts + " x " + rows + " x " + cols
                    + " needs " + expertBytes * experts + " bytes, data has " + data.byteSize());
        }
    }

    /** Bytes of one expert's matrix. */
    public long expertBytes() {
        return type.rowBytes(cols) * rows;
    }

    /** Expert {@code e}'s matrix, a view of the same memory. */
    public WeightMatrix expert(int e) {
        Objects.checkIndex(e, experts);
        long bytes = expertBytes();
        return new WeightMatrix(type, data.asSlice(e * bytes, bytes), rows, cols);
    }
}
