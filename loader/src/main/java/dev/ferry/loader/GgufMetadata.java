package dev.ferry.loader;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The key/value metadata of a GGUF file, in file order, immutable. Typed getters convert between
 * compatible types (any integer type whose value fits, floats from integers) and otherwise throw
 * an IllegalArgumentException naming the key, the source file and the type found.
 */
public final class GgufMetadata {

    public static final String ARCHITECTURE = "general.architecture";
    public static final String ALIGNMENT = "general.alignment";

    private final String source;
    private final Map<String, GgufValue> values;

    private GgufMetadata(String source, Map<String, GgufValue> values) {
        this.source = source;
        this.values = Collections.unmodifiableMap(values);
    }

    /** Takes ownership of an insertion-ordered map built by the reader. */
    static GgufMetadata wrap(String source, LinkedHashMap<String, GgufValue> values) {
        return new GgufMetadata(source, values);
    }

    /** Metadata with these entries in iteration order; {@code source} names them in error messages. */
    public static GgufMetadata of(String source, Map<String, ? extends GgufValue> values) {
        LinkedHashMap<String, GgufValue> copy = new LinkedHashMap<>();
        values.forEach((k, v) -> copy.put(Objects.requireNonNull(k, "key"), Objects.requireNonNull(v, "value")));
        return new GgufMetadata(source, copy);
    }

    public static Builder builder() {
        return new Builder("new metadata", new LinkedHashMap<>());
    }

    /** A builder that starts from these entries, in this order. */
    public Builder toBuilder() {
        return new Builder(source, new LinkedHashMap<>(values));
    }

    /** What these entries came from (the file name), as used in error messages. */
    public String source() {
        return source;
    }

    public Set<String> keys() {
        return values.keySet();
    }

    /** All entries in file order (unmodifiable). */
    public Map<String, GgufValue> asMap() {
        return values;
    }

    public int size() {
        return values.size();
    }

    public boolean has(String key) {
        return values.containsKey(key);
    }

    public GgufValue get(String key) {
        GgufValue v = values.get(key);
        if (v == null) {
            throw new IllegalArgumentException(source + ": metadata key '" + key + "' is missing");
        }
        return v;
    }

    public Optional<GgufValue> find(String key) {
        return Optional.ofNullable(values.get(key));
    }

    /** {@code general.architecture}, e.g. "qwen3moe". */
    public String architecture() {
        return getString(ARCHITECTURE);
    }

    public int getInt(String key) {
        long v = getLong(key);
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
            throw doesNotFit(key, get(key), "an int");
        }
        return (int) v;
    }

    public long getLong(String key) {
        GgufValue v = get(key);
        if (!(v instanceof GgufValue.IntValue iv)) {
            throw wrongType(key, v, "an integer");
        }
        if (iv.isHugeUnsigned()) {
            throw doesNotFit(key, v, "a long");
        }
        return iv.value();
    }

    public float getFloat(String key) {
        return (float) getDouble(key);
    }

    public double getDouble(String key) {
        GgufValue v = get(key);
        return switch (v) {
            case GgufValue.FloatValue f -> f.value();
            case GgufValue.IntValue i -> i.type() == GgufValueType.UINT64
                    ? GgufArray.unsignedToDouble(i.value()) : i.value();
            default -> throw wrongType(key, v, "a number");
        };
    }

    public boolean getBool(String key) {
        GgufValue v = get(key);
        if (!(v instanceof GgufValue.BoolValue b)) {
            throw wrongType(key, v, "a bool");
        }
        return b.value();
    }

    public String getString(String key) {
        GgufValue v = get(key);
        if (!(v instanceof GgufValue.StringValue s)) {
            throw wrongType(key, v, "a string");
        }
        return s.value();
    }

    public GgufArray getArray(String key) {
        GgufValue v = get(key);
        if (!(v instanceof GgufArray a)) {
            throw wrongType(key, v, "an array");
        }
        return a;
    }

    public String[] getStringArray(String key) {
        GgufArray a = getArray(key);
        if (a.elementType() != GgufValueType.STRING) {
            throw wrongType(key, a, "an array of strings");
        }
        return a.toStringArray();
    }

    /** Any integer array whose every element fits an int. */
    public int[] getIntArray(String key) {
        GgufArray a = integerArray(key, "an array of integers");
        if (a.elementType() == GgufValueType.INT32) {
            return ((int[]) a.storage()).clone();
        }
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            long v = a.longAt(i);
            if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE || (a.elementType() == GgufValueType.UINT64 && v < 0)) {
                throw new IllegalArgumentException(source + ": metadata key '" + key + "' holds " + a.elementType()
                        + " element " + i + " = " + a.element(i).summary() + " which does not fit an int");
            }
            out[i] = (int) v;
        }
        return out;
    }

    /** Any integer array; UINT64 elements above Long.MAX_VALUE are refused. */
    public long[] getLongArray(String key) {
        GgufArray a = integerArray(key, "an array of integers");
        long[] out = new long[a.size()];
        for (int i = 0; i < out.length; i++) {
            long v = a.longAt(i);
            if (a.elementType() == GgufValueType.UINT64 && v < 0) {
                throw new IllegalArgumentException(source + ": metadata key '" + key + "' holds UINT64 element " + i
                        + " = " + Long.toUnsignedString(v) + " which does not fit a long");
            }
            out[i] = v;
        }
        return out;
    }

    /** A FLOAT32, FLOAT64 or integer array as floats. */
    public float[] getFloatArray(String key) {
        GgufArray a = getArray(key);
        if (a.elementType() == GgufValueType.FLOAT32) {
            return ((float[]) a.storage()).clone();
        }
        if (!a.elementType().isFloat() && !a.elementType().isInteger()) {
            throw wrongType(key, a, "an array of numbers");
        }
        float[] out = new float[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) a.doubleAt(i);
        }
        return out;
    }

    public int getInt(String key, int dflt) {
        return has(key) ? getInt(key) : dflt;
    }

    public long getLong(String key, long dflt) {
        return has(key) ? getLong(key) : dflt;
    }

    public float getFloat(String key, float dflt) {
        return has(key) ? getFloat(key) : dflt;
    }

    public double getDouble(String key, double dflt) {
        return has(key) ? getDouble(key) : dflt;
    }

    public boolean getBool(String key, boolean dflt) {
        return has(key) ? getBool(key) : dflt;
    }

    public String getString(String key, String dflt) {
        return has(key) ? getString(key) : dflt;
    }

    private GgufArray integerArray(String key, String wanted) {
        GgufArray a = getArray(key);
        if (!a.elementType().isInteger()) {
            throw wrongType(key, a, wanted);
        }
        return a;
    }

    private IllegalArgumentException wrongType(String key, GgufValue v, String wanted) {
        String found = v instanceof GgufArray a ? "an array of " + a.size() + " " + a.elementType() : v.type().toString();
        return new IllegalArgumentException(source + ": metadata key '" + key + "' holds " + found
                + ", expected " + wanted);
    }

    private IllegalArgumentException doesNotFit(String key, GgufValue v, String wanted) {
        return new IllegalArgumentException(source + ": metadata key '" + key + "' holds " + v.type() + " value "
                + v.summary() + " which does not fit " + wanted);
    }

    /** Equal when both hold the same entries in the same order (the source name is not compared). */
    @Override
    public boolean equals(Object o) {
        return o instanceof GgufMetadata m && m.values.equals(values)
                && List.copyOf(m.values.keySet()).equals(List.copyOf(values.keySet()));
    }

    @Override
    public int hashCode() {
        return values.hashCode();
    }

    @Override
    public String toString() {
        return "GgufMetadata[" + source + ", " + values.size() + " keys]";
    }

    /** Builds metadata in insertion order; putting an existing key replaces its value in place. */
    public static final class Builder {
        private final String source;
        private final LinkedHashMap<String, GgufValue> values;

        private Builder(String source, LinkedHashMap<String, GgufValue> values) {
            this.source = source;
            this.values = values;
        }

        public Builder put(String key, GgufValue value) {
            values.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
            return this;
        }

        public Builder remove(String key) {
            values.remove(key);
            return this;
        }

        public Builder putString(String key, String value) {
            return put(key, GgufValue.string(value));
        }

        public Builder putUInt32(String key, long value) {
            return put(key, GgufValue.uint32(value));
        }

        public Builder putInt32(String key, int value) {
            return put(key, GgufValue.int32(value));
        }

        public Builder putUInt64(String key, long value) {
            return put(key, GgufValue.uint64(value));
        }

        public Builder putFloat32(String key, float value) {
            return put(key, GgufValue.float32(value));
        }

        public Builder putFloat64(String key, double value) {
            return put(key, GgufValue.float64(value));
        }

        public Builder putBool(String key, boolean value) {
            return put(key, GgufValue.bool(value));
        }

        public Builder putStrings(String key, String... values) {
            return put(key, GgufArray.ofStrings(values));
        }

        public Builder putInt32s(String key, int... values) {
            return put(key, GgufArray.ofInt32(values));
        }

        public Builder putFloat32s(String key, float... values) {
            return put(key, GgufArray.ofFloat32(values));
        }

        public GgufMetadata build() {
            return new GgufMetadata(source, new LinkedHashMap<>(values));
        }
    }
}
