package dev.ferry.loader;

import java.util.Arrays;
import java.util.Objects;

/**
 * One tensor of a GGUF file.
 *
 * @param name     tensor name, e.g. "blk.0.ffn_up_exps.weight"
 * @param type     ggml storage type
 * @param shape    dimensions in ggml order: ne0 (the contiguous row length) first; at most 4
 * @param offset   start of the data relative to the data section
 * @param byteSize bytes of the data (rows times the row size of {@code type})
 */
public record TensorInfo(String name, GgmlType type, long[] shape, long offset, long byteSize) {

    public TensorInfo {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
        shape = shape.clone();
        if (shape.length > GgufFile.MAX_DIMS) {
            throw new IllegalArgumentException("tensor '" + name + "' has " + shape.length + " dimensions, at most "
                    + GgufFile.MAX_DIMS + " allowed");
        }
        if (offset < 0 || byteSize < 0) {
            throw new IllegalArgumentException("tensor '" + name + "' has negative offset or size");
        }
    }

    /**
     * A tensor with the byte size its type and shape imply; throws IllegalArgumentException when the
     * row length is not a whole number of blocks, the type was removed or the size overflows.
     */
    public static TensorInfo of(String name, GgmlType type, long[] shape, long offset) {
        return new TensorInfo(name, type, shape, offset, byteSizeOf(type, shape));
    }

    /** Bytes a tensor of this type and shape occupies. */
    public static long byteSizeOf(GgmlType type, long... shape) {
        if (type.isRemoved()) {
            throw new IllegalArgumentException("type " + type + " (id " + type.id() + ") was removed from ggml");
        }
        long ne0 = shape.length == 0 ? 1 : shape[0];
        long rowBytes = type.rowBytes(ne0);
        if (rowBytes < 0) {
            throw new IllegalArgumentException("row length " + ne0 + " is not a multiple of the " + type
                    + " block size " + type.blockSize());
        }
        long rows = 1;
        for (int i = 1; i < shape.length; i++) {
            if (shape[i] < 0) {
                throw new IllegalArgumentException("negative dimension " + shape[i]);
            }
            rows = Math.multiplyExact(rows, shape[i]);
        }
        return Math.multiplyExact(rowBytes, rows);
    }

    /** A copy of the dimensions. */
    @Override
    public long[] shape() {
        return shape.clone();
    }

    public int nDims() {
        return shape.length;
    }

    /** Dimension {@code i}; 1 for every dimension beyond {@link #nDims()}, as ggml treats them. */
    public long dim(int i) {
        if (i < 0) {
            throw new IndexOutOfBoundsException(i);
        }
        return i < shape.length ? shape[i] : 1;
    }

    /** Number of values (product of the dimensions; 1 for a tensor without dimensions). */
    public long elementCount() {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** Number of rows: every dimension except ne0 multiplied. */
    public long rowCount() {
        long n = 1;
        for (int i = 1; i < shape.length; i++) {
            n = Math.multiplyExact(n, shape[i]);
        }
        return n;
    }

    /** Bytes of one row of ne0 values. */
    public long rowBytes() {
        return type.rowBytes(dim(0));
    }

    /** Position of the data in the file, given the data section start. */
    public long absoluteOffset(long dataOffset) {
        return dataOffset + offset;
    }

    /** "[128, 512]" in ggml order. */
    public String shapeText() {
        return Arrays.toString(shape);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t && t.name.equals(name) && t.type == type && Arrays.equals(t.shape, shape)
                && t.offset == offset && t.byteSize == byteSize;
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, type, Arrays.hashCode(shape), offset, byteSize);
    }

    @Override
    public String toString() {
        return "TensorInfo[" + name + " " + type + " " + shapeText() + " @" + offset + " " + byteSize + " B]";
    }
}
