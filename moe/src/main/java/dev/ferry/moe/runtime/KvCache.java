package dev.ferry.moe.runtime;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Keys and values of every layer for up to {@code contextLength} positions, in native memory
 * owned by an arena. Rows are stored per position: {@code [layer][position][kvHeads * headSize]}.
 * F16 rounding is round-to-nearest-even, as ggml's conversion does.
 */
public final class KvCache implements AutoCloseable {

    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED;

    private final Arena arena;
    private final KvCacheType keyType;
    private final KvCacheType valueType;
    private final int layers;
    private final int contextLength;
    private final int keyWidth;
    private final int valueWidth;
    private final MemorySegment[] keys;
    private final MemorySegment[] values;

    public KvCache(int layers, int contextLength, int keyWidth, int valueWidth, KvCacheType keyType,
                   KvCacheType valueType) {
        this(layers, l -> true, contextLength, keyWidth, valueWidth, keyType, valueType);
    }

    /**
     * A cache that holds only the layers {@code held} accepts (the others run on a device with
     * their own cache); touching a layer it does not hold throws.
     */
    public KvCache(int layers, java.util.function.IntPredicate held, int contextLength, int keyWidth, int valueWidth,
                   KvCacheType keyType, KvCacheType valueType) {
        this.arena = Arena.ofShared();
        this.layers = layers;
        this.contextLength = contextLength;
        this.keyWidth = keyWidth;
        this.valueWidth = valueWidth;
        this.keyType = keyType;
        this.valueType = valueType;
        this.keys = new MemorySegment[layers];
        this.values = new MemorySegment[layers];
        for (int l = 0; l < layers; l++) {
            if (held.test(l)) {
                keys[l] = arena.allocate((long) contextLength * keyWidth * keyType.bytes(), 64);
                values[l] = arena.allocate((long) contextLength * valueWidth * valueType.bytes(), 64);
            }
        }
    }

    /** Bytes a cache of this shape occupies. */
    public static long bytesFor(int layers, int contextLength, int keyWidth, int valueWidth, KvCacheType keyType,
                                KvCacheType valueType) {
        return (long) layers * contextLength * ((long) keyWidth * keyType.bytes() + (long) valueWidth * valueType.bytes());
    }

    public int contextLength() {
        return contextLength;
    }

    public long byteSize() {
        long held = java.util.Arrays.stream(keys).filter(java.util.Objects::nonNull).count();
        return bytesFor((int) held, contextLength, keyWidth, valueWidth, keyType, valueType);
    }

    /** Stores the key row and value row of one position. */
    public void store(int layer, int position, MemorySegment key, long keyOffset, MemorySegment value, long valueOffset) {
        checkPosition(position);
        write(keys[layer], keyType, (long) position * keyWidth, key, keyOffset, keyWidth);
        write(values[layer], valueType, (long) position * valueWidth, value, valueOffset, valueWidth);
    }

    /**
     * Floats {@code col..col+n} of the key of {@code position} into {@code dst} from float index
     * {@code di}: a copy, or an exact conversion from float16. Attention reads each row once per
     * KV head and uses it for every query head of the group.
     */
    public void readKey(int layer, int position, int col, MemorySegment dst, long di, int n) {
        read(keys[layer], keyType, (long) position * keyWidth + col, dst, di, n);
    }

    /** Floats {@code col..col+n} of the value of {@code position} into {@code dst} from float index {@code di}. */
    public void readValue(int layer, int position, int col, MemorySegment dst, long di, int n) {
        read(values[layer], valueType, (long) position * valueWidth + col, dst, di, n);
    }

    /**
     * The whole key rows of positions {@code from..from+count-1} into {@code dst} from float index
     * {@code di} ({@code count} rows of the key width, as stored), converted in one pass.
     */
    public void readKeyRows(int layer, int from, int count, MemorySegment dst, long di) {
        checkRows(from, count);
        read(keys[layer], keyType, (long) from * keyWidth, dst, di, (long) count * keyWidth);
    }

    /** The whole value rows of positions {@code from..from+count-1}, as {@link #readKeyRows}. */
    public void readValueRows(int layer, int from, int count, MemorySegment dst, long di) {
        checkRows(from, count);
        read(values[layer], valueType, (long) from * valueWidth, dst, di, (long) count * valueWidth);
    }

    private void checkRows(int from, int count) {
        if (from < 0 || count < 0 || from + count > contextLength) {
            throw new IllegalArgumentException("positions " + from + ".." + (from + count - 1) + " are outside the context of "
                    + contextLength + " tokens");
        }
    }

    private static void read(MemorySegment src, KvCacheType type, long srcIndex, MemorySegment dst, long di, long n) {
        if (type == KvCacheType.F32) {
            MemorySegment.copy(src, srcIndex * 4, dst, di * 4, n * 4);
        } else {
            dev.ferry.moe.ops.VectorOps.halfToFloat(src, srcIndex, dst, di, n);
        }
    }

    private void checkPosition(int position) {
        if (position < 0 || position >= contextLength) {
            throw new IllegalStateException("position " + position + " is outside the context of "
                    + contextLength + " tokens (raise -c)");
        }
    }

    private static void write(MemorySegment dst, KvCacheType type, long dstIndex, MemorySegment src, long srcIndex,
                              int n) {
        if (type == KvCacheType.F32) {
            MemorySegment.copy(src, srcIndex * 4, dst, dstIndex * 4, (long) n * 4);
            return;
        }
        for (int i = 0; i < n; i++) {
            dst.setAtIndex(HALF, dstIndex + i, Float.floatToFloat16(src.getAtIndex(FLOAT, srcIndex + i)));
        }
    }

    @Override
    public void close() {
        arena.close();
    }
}
