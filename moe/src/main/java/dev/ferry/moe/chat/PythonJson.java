package dev.ferry.moe.chat;

import java.util.Iterator;
import java.util.Map;

/**
 * JSON text the way Python's {@code json.dumps(x, ensure_ascii=False, indent=indent)} writes it,
 * which is what Hugging Face's {@code tojson} filter gives chat templates: ", " and ": " separators
 * without indent, "," plus a new line with indent; non-ASCII characters kept as they are.
 */
final class PythonJson {

    private PythonJson() {
    }

    static String dumps(Object value, int indent) {
        StringBuilder out = new StringBuilder();
        write(out, value, indent, 0);
        return out.toString();
    }

    private static void write(StringBuilder out, Object value, int indent, int depth) {
        switch (value) {
            case null -> out.append("null");
            case Boolean b -> out.append(b ? "true" : "false");
            case Byte _, Short _, Integer _, Long _, java.math.BigInteger _ -> out.append(value);
            case Number n -> out.append(floatText(n.doubleValue()));
            case CharSequence s -> quote(out, s.toString());
            case Map<?, ?> m -> writeMap(out, m, indent, depth);
            case Iterable<?> it -> writeList(out, it.iterator(), indent, depth);
            case Object[] array -> writeList(out, java.util.Arrays.asList(array).iterator(), indent, depth);
            default -> quote(out, value.toString());
        }
    }

    private static void writeMap(StringBuilder out, Map<?, ?> map, int indent, int depth) {
        if (map.isEmpty()) {
            out.append("{}");
            return;
        }
        out.append('{');
        boolean first = true;
        for (Map.Entry<?, ?> e : map.entrySet()) {
            separate(out, first, indent, depth + 1);
            first = false;
            quote(out, String.valueOf(e.getKey()));
            out.append(": ");
            write(out, e.getValue(), indent, depth + 1);
        }
        close(out, indent, depth);
        out.append('}');
    }

    private static void writeList(StringBuilder out, Iterator<?> items, int indent, int depth) {
        if (!items.hasNext()) {
            out.append("[]");
            return;
        }
        out.append('[');
        boolean first = true;
        while (items.hasNext()) {
            separate(out, first, indent, depth + 1);
            first = false;
            write(out, items.next(), indent, depth + 1);
        }
        close(out, indent, depth);
        out.append(']');
    }

    private static void separate(StringBuilder out, boolean first, int indent, int depth) {
        if (indent > 0) {
            if (!first) {
                out.append(',');
            }
            out.append('\n').append(" ".repeat(indent * depth));
        } else if (!first) {
            out.append(", ");
        }
    }

    private static void close(StringBuilder out, int indent, int depth) {
        if (indent > 0) {
            out.append('\n').append(" ".repeat(indent * depth));
        }
    }

    private static void quote(StringBuilder out, String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }

    /** Python's float repr for the common cases: 1.0, 0.5, 1e-05, 1e+20, NaN and Infinity as json writes them. */
    private static String floatText(double d) {
        if (Double.isNaN(d)) {
            return "NaN";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "Infinity" : "-Infinity";
        }
        String s = Double.toString(d);
        int e = s.indexOf('E');
        if (e < 0) {
            return s;
        }
        String mantissa = s.substring(0, e);
        if (mantissa.endsWith(".0")) {
            mantissa = mantissa.substring(0, mantissa.length() - 2);
        }
        int exponent = Integer.parseInt(s.substring(e + 1));
        return mantissa + "e" + (exponent < 0 ? "-" : "+") + String.format("%02d", Math.abs(exponent));
    }
}
