package dev.ferry.moe.arch;

import dev.ferry.loader.GgmlType;
import dev.ferry.loader.GgufFile;
import dev.ferry.loader.TensorInfo;
import dev.ferry.moe.kernel.ExpertWeights;
import dev.ferry.moe.kernel.WeightMatrix;
import dev.ferry.moe.quant.Decoders;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * Looks tensors up by name and checks their shapes, so a malformed model fails at load time
 * with the tensor's name and the shape expected, not with a wrong answer later.
 */
public final class TensorBinder {

    private final GgufFile file;
    private final Arena arena;

    /** Small float32 copies (norm weights) are allocated in {@code arena}. */
    public TensorBinder(GgufFile file, Arena arena) {
        this.file = file;
        this.arena = arena;
    }

    public boolean has(String name) {
        return file.findTensor(name).isPresent();
    }

    public TensorInfo info(String name, long... shape) {
        TensorInfo t = file.findTensor(name).orElseThrow(() ->
                new IllegalArgumentException(file.path() + ": tensor '" + name + "' is missing"));
        long[] actual = Arrays.copyOf(t.shape(), Math.max(t.shape().length, shape.length));
        for (int i = t.shape().length; i < actual.length; i++) {
            actual[i] = 1;
        }
        long[] expected = Arrays.copyOf(shape, actual.length);
        for (int i = shape.length; i < expected.length; i++) {
            expected[i] = 1;
        }
        if (!Arrays.equals(actual, expected)) {
            throw new IllegalArgumentException(file.path() + ": tensor '" + name + "' has shape "
                    + Arrays.toString(t.shape()) + ", expected " + Arrays.toString(shape));
        }
        return t;
    }

    /** A matrix of {@code rows} outputs by {@code cols} inputs (ggml shape [cols, rows]). */
    public WeightMatrix matrix(String name, long rows, long cols) {
        TensorInfo t = info(name, cols, rows);
        return new WeightMatrix(t.type(), file.data(t), rows, cols);
    }

    /** An expert tensor (ggml shape [cols, rows, experts]). */
    public ExpertWeights experts(String name, int experts, long rows, long cols) {
        TensorInfo t = info(name, cols, rows, experts);
        return new ExpertWeights(t.type(), file.data(t), experts, rows, cols);
    }

    /** A 1-D weight as float32, decoded from whatever type the file stores it in. */
    public MemorySegment vector(String name, long length) {
        TensorInfo t = info(name, length);
        if (t.type() == GgmlType.F32) {
            return file.data(t);
        }
        MemorySegment out = arena.allocate(length * Float.BYTES, 64);
        Decoders.of(t.type()).decodeRow(file.data(t), 0, out, 0, length);
        return out;
    }
}
