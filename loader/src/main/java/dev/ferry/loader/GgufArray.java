package dev.ferry.loader;

import java.util.Arrays;
import java.util.Objects;

/**
 * A GGUF metadata array. The elements live in one primitive Java array of the element type's
 * width (byte[] for UINT8/INT8, short[] for 16-bit, int[] for 32-bit, long[] for 64-bit integers,
 * float[], double[], boolean[], String[], or GgufArray[] for nested arrays), so a 150k-entry
 * vocabulary costs what its data costs. Immutable: factories copy their input and the bulk
 * accessors return copies; the indexed accessors read without copying.
 */
public final class GgufArray implements GgufValue {

    private final GgufValueType elementType;
    private final Object elements;
    private final int size;

    private GgufArray(GgufValueType elementType, Object elements, int size) {
        this.elementType = elementType;
        this.elements = elements;
        this.size = size;
    }

    /**
     * Wraps {@code elements} without copying; the caller hands over ownership. The array's Java
     * type must match the element type's storage (see the class comment).
     */
    static GgufArray wrap(GgufValueType elementType, Object elements) {
        Objects.requireNonNull(elementType, "elementType");
        Objects.requireNonNull(elements, "elements");
        int size = switch (elementType) {
            case UINT8, INT8 -> ((byte[]) elements).length;
            case UINT16, INT16 -> ((short[]) elements).length;
            case UINT32, INT32 -> ((int[]) elements).length;
            case UINT64, INT64 -> ((long[]) elements).length;
            case FLOAT32 -> ((float[]) elements).length;
            case FLOAT64 -> ((double[]) elements).length;
            case BOOL -> ((boolean[]) elements).length;
            case STRING -> {
                for (String s : (String[]) elements) {
                    Objects.requireNonNull(s, "string element");
                }
                yield ((String[]) elements).length;
            }
            case ARRAY -> {
                for (GgufArray a : (GgufArray[]) elements) {
                    Objects.requireNonNull(a, "array element");
                }
                yield ((GgufArray[]) elements).length;
            }
        };
        return new GgufArray(elementType, elements, size);
    }

    public static GgufArray ofStrings(String... values) {
        return wrap(GgufValueType.STRING, values.clone());
    }

    public static GgufArray ofUInt8(byte... values) {
        return wrap(GgufValueType.UINT8, values.clone());
    }

    public static GgufArray ofInt8(byte... values) {
        return wrap(GgufValueType.INT8, values.clone());
    }

    public static GgufArray ofUInt16(short... values) {
        return wrap(GgufValueType.UINT16, values.clone());
    }

    public static GgufArray ofInt16(short... values) {
        return wrap(GgufValueType.INT16, values.clone());
    }

    /** UINT32 elements given as their raw 32 bits. */
    public static GgufArray ofUInt32(int... values) {
        return wrap(GgufValueType.UINT32, values.clone());
    }

    public static GgufArray ofInt32(int... values) {
        return wrap(GgufValueType.INT32, values.clone());
    }

    /** UINT64 elements given as their raw 64 bits. */
    public static GgufArray ofUInt64(long... values) {
        return wrap(GgufValueType.UINT64, values.clone());
    }

    public static GgufArray ofInt64(long... values) {
        return wrap(GgufValueType.INT64, values.clone());
    }

    public static GgufArray ofFloat32(float... values) {
        return wrap(GgufValueType.FLOAT32, values.clone());
    }

    public static GgufArray ofFloat64(double... values) {
        return wrap(GgufValueType.FLOAT64, values.clone());
    }

    public static GgufArray ofBools(boolean... values) {
        return wrap(GgufValueType.BOOL, values.clone());
    }

    public static GgufArray ofArrays(GgufArray... values) {
        return wrap(GgufValueType.ARRAY, values.clone());
    }

    @Override
    public GgufValueType type() {
        return GgufValueType.ARRAY;
    }

    public GgufValueType elementType() {
        return elementType;
    }

    public int size() {
        return size;
    }

    /**
     * Integer element {@code i}: zero-extended for unsigned types; for UINT64 the raw 64 bits.
     * Throws IllegalStateException when the elements are not integers.
     */
    public long longAt(int i) {
        return switch (elementType) {
            case UINT8 -> Byte.toUnsignedLong(((byte[]) elements)[i]);
            case INT8 -> ((byte[]) elements)[i];
            case UINT16 -> Short.toUnsignedLong(((short[]) elements)[i]);
            case INT16 -> ((short[]) elements)[i];
            case UINT32 -> Integer.toUnsignedLong(((int[]) elements)[i]);
            case INT32 -> ((int[]) elements)[i];
            case UINT64, INT64 -> ((long[]) elements)[i];
            default -> throw wrongElements("integer");
        };
    }

    /** Numeric element {@code i} as a double (integers converted; UINT64 read unsigned). */
    public double doubleAt(int i) {
        return switch (elementType) {
            case FLOAT32 -> ((float[]) elements)[i];
            case FLOAT64 -> ((double[]) elements)[i];
            case UINT64 -> unsignedToDouble(((long[]) elements)[i]);
            default -> {
                if (!elementType.isInteger()) {
                    throw wrongElements("number");
                }
                yield longAt(i);
            }
        };
    }

    public boolean boolAt(int i) {
        if (elementType != GgufValueType.BOOL) {
            throw wrongElements("bool");
        }
        return ((boolean[]) elements)[i];
    }

    public String stringAt(int i) {
        if (elementType != GgufValueType.STRING) {
            throw wrongElements("string");
        }
        return ((String[]) elements)[i];
    }

    public GgufArray arrayAt(int i) {
        if (elementType != GgufValueType.ARRAY) {
            throw wrongElements("array");
        }
        return ((GgufArray[]) elements)[i];
    }

    /** Element {@code i} as a value of its own (allocates; prefer the typed accessors in loops). */
    public GgufValue element(int i) {
        return switch (elementType) {
            case FLOAT32, FLOAT64 -> new GgufValue.FloatValue(elementType, doubleAt(i));
            case BOOL -> new GgufValue.BoolValue(boolAt(i));
            case STRING -> new GgufValue.StringValue(stringAt(i));
            case ARRAY -> arrayAt(i);
            default -> new GgufValue.IntValue(elementType, longAt(i));
        };
    }

    /** A copy of the string elements. */
    public String[] toStringArray() {
        if (elementType != GgufValueType.STRING) {
            throw wrongElements("string");
        }
        return ((String[]) elements).clone();
    }

    /**
     * A copy of the elements in their storage form (byte[], short[], int[], long[], float[],
     * double[], boolean[], String[] or GgufArray[]), for writers and bulk readers.
     */
    public Object toStorageArray() {
        return switch (elements) {
            case byte[] a -> a.clone();
            case short[] a -> a.clone();
            case int[] a -> a.clone();
            case long[] a -> a.clone();
            case float[] a -> a.clone();
            case double[] a -> a.clone();
            case boolean[] a -> a.clone();
            case String[] a -> a.clone();
            case GgufArray[] a -> a.clone();
            default -> throw new IllegalStateException("unexpected storage " + elements.getClass());
        };
    }

    /** The storage array itself, for package-internal readers that promise not to modify it. */
    Object storage() {
        return elements;
    }

    private IllegalStateException wrongElements(String wanted) {
        return new IllegalStateException("array of " + elementType + " has no " + wanted + " elements");
    }

    static double unsignedToDouble(long bits) {
        double d = (double) (bits >>> 1) * 2.0;
        return d + (bits & 1);
    }

    @Override
    public String summary() {
        return summary(3);
    }

    /** "[151936 STRING: '!', '"', '#', ...]" showing at most {@code shown} elements. */
    public String summary(int shown) {
        StringBuilder b = new StringBuilder("[").append(size).append(' ').append(elementType);
        if (size > 0) {
            b.append(": ");
        }
        int n = Math.min(size, shown);
        for (int i = 0; i < n; i++) {
            if (i > 0) {
                b.append(", ");
            }
            switch (elementType) {
                case STRING -> b.append(GgufValue.quote(stringAt(i), 40));
                case ARRAY -> b.append(arrayAt(i).summary(shown));
                default -> b.append(element(i).summary());
            }
        }
        if (size > n) {
            b.append(", ...");
        }
        return b.append(']').toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GgufArray other
                && other.elementType == elementType
                && Objects.deepEquals(new Object[] {elements}, new Object[] {other.elements});
    }

    @Override
    public int hashCode() {
        return 31 * elementType.hashCode() + Arrays.deepHashCode(new Object[] {elements});
    }

    @Override
    public String toString() {
        return summary();
    }
}
