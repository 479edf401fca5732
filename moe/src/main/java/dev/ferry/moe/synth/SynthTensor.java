package dev.ferry.moe.synth;

import dev.ferry.loader.GgmlType;
import dev.ferry.loader.TensorInfo;

/**
 * One tensor of a synthesized model: its GGUF name and ggml shape ({@code shape[0]} is the row
 * length), the type {@link QuantMix} chose and the distribution its values are drawn from
 * ({@code mean + std * normal}). {@code role} is the name without {@code blk.N.} and
 * {@code .weight}; {@code layer} is -1 outside the blocks.
 */
public record SynthTensor(String name, String role, int layer, GgmlType type, long[] shape, float mean, float std) {

    public SynthTensor {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public long rowLength() {
        return shape[0];
    }

    /** Rows of {@link #rowLength()} values, all dimensions but the first multiplied. */
    public long rows() {
        long rows = 1;
        for (int i = 1; i < shape.length; i++) {
            rows = Math.multiplyExact(rows, shape[i]);
        }
        return rows;
    }

    public long elementCount() {
        return Math.multiplyExact(rowLength(), rows());
    }

    public long byteSize() {
        return TensorInfo.byteSizeOf(type, shape);
    }
}
