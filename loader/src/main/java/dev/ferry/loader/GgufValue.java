package dev.ferry.loader;

import java.util.Objects;

/**
 * One GGUF metadata value. Scalars are records; arrays are {@link GgufArray}, which keeps its
 * elements in a primitive array of the element type's width (vocabularies hold 150k entries).
 */
public sealed interface GgufValue permits GgufValue.IntValue, GgufValue.FloatValue, GgufValue.BoolValue,
        GgufValue.StringValue, GgufArray {

    GgufValueType type();

    /** A short, human-readable rendering; long arrays are summarised, never printed whole. */
    String summary();

    /**
     * One of the eight integer types. {@code value} holds the number; for UINT64 it holds the raw
     * 64 bits (values above {@code Long.MAX_VALUE} read as negative longs).
     */
    record IntValue(GgufValueType type, long value) implements GgufValue {
        public IntValue {
            Objects.requireNonNull(type, "type");
            if (!type.isInteger()) {
                throw new IllegalArgumentException(type + " is not an integer type");
            }
            if (!fits(type, value)) {
                throw new IllegalArgumentException("value " + value + " does not fit " + type);
            }
        }

        static boolean fits(GgufValueType type, long value) {
            return switch (type) {
                case UINT8 -> value >= 0 && value <= 0xFFL;
                case INT8 -> value >= Byte.MIN_VALUE && value <= Byte.MAX_VALUE;
                case UINT16 -> value >= 0 && value <= 0xFFFFL;
                case INT16 -> value >= Short.MIN_VALUE && value <= Short.MAX_VALUE;
                case UINT32 -> value >= 0 && value <= 0xFFFF_FFFFL;
                case INT32 -> value >= Integer.MIN_VALUE && value <= Integer.MAX_VALUE;
                case UINT64, INT64 -> true;
                default -> false;
            };
        }

        /** True when this is a UINT64 whose value exceeds {@code Long.MAX_VALUE}. */
        public boolean isHugeUnsigned() {
            return type == GgufValueType.UINT64 && value < 0;
        }

        /** The value as decimal text, unsigned where the type is. */
        public String text() {
            return type == GgufValueType.UINT64 ? Long.toUnsignedString(value) : Long.toString(value);
        }

        @Override
        public String summary() {
            return text();
        }
    }

    /** FLOAT32 or FLOAT64; a FLOAT32 value is exactly representable as a float. */
    record FloatValue(GgufValueType type, double value) implements GgufValue {
        public FloatValue {
            Objects.requireNonNull(type, "type");
            if (!type.isFloat()) {
                throw new IllegalArgumentException(type + " is not a float type");
            }
            if (type == GgufValueType.FLOAT32 && !Double.isNaN(value) && (double) (float) value != value) {
                throw new IllegalArgumentException("value " + value + " is not exactly a FLOAT32");
            }
        }

        @Override
        public String summary() {
            return type == GgufValueType.FLOAT32 ? Float.toString((float) value) : Double.toString(value);
        }
    }

    record BoolValue(boolean value) implements GgufValue {
        @Override
        public GgufValueType type() {
            return GgufValueType.BOOL;
        }

        @Override
        public String summary() {
            return Boolean.toString(value);
        }
    }

    record StringValue(String value) implements GgufValue {
        public StringValue {
            Objects.requireNonNull(value, "value");
        }

        @Override
        public GgufValueType type() {
            return GgufValueType.STRING;
        }

        @Override
        public String summary() {
            return quote(value, 200);
        }
    }

    static IntValue uint8(int v) {
        return new IntValue(GgufValueType.UINT8, v);
    }

    static IntValue uint32(long v) {
        return new IntValue(GgufValueType.UINT32, v);
    }

    static IntValue int32(int v) {
        return new IntValue(GgufValueType.INT32, v);
    }

    static IntValue uint64(long v) {
        return new IntValue(GgufValueType.UINT64, v);
    }

    static IntValue int64(long v) {
        return new IntValue(GgufValueType.INT64, v);
    }

    static FloatValue float32(float v) {
        return new FloatValue(GgufValueType.FLOAT32, v);
    }

    static FloatValue float64(double v) {
        return new FloatValue(GgufValueType.FLOAT64, v);
    }

    static BoolValue bool(boolean v) {
        return new BoolValue(v);
    }

    static StringValue string(String v) {
        return new StringValue(v);
    }

    /** Quotes a string for display, escaping control characters and cutting it after {@code max} chars. */
    static String quote(String s, int max) {
        StringBuilder b = new StringBuilder(Math.min(s.length(), max) + 8).append('\'');
        int n = Math.min(s.length(), max);
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            switch (c) {
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                case '\'' -> b.append("\\'");
                case '\\' -> b.append("\\\\");
                default -> {
                    if (c < 0x20 || c == 0x7F) {
                        b.append(String.format("\\x%02x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        if (s.length() > max) {
            b.append("...");
        }
        return b.append('\'').toString();
    }
}
