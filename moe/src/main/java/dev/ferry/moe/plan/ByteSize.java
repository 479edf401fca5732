package dev.ferry.moe.plan;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Sizes on the command line ({@code 8G}, {@code 512M}, {@code 1.5GiB}, {@code 4096}) and in reports. */
public final class ByteSize {

    private static final Pattern SIZE = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*([kmgtp]?)(?:i?b)?", Pattern.CASE_INSENSITIVE);
    private static final String UNITS = "kmgtp";

    private ByteSize() {
    }

    /**
     * Parses a size: a number with an optional unit K, M, G, T or P (also written KB/KiB, ...),
     * all powers of 1024; no unit means bytes. The error names the flag.
     */
    public static long parse(String flag, String text) {
        Matcher m = SIZE.matcher(text == null ? "" : text.strip());
        if (!m.matches()) {
            throw new IllegalArgumentException(flag + ": '" + text + "' is not a size (examples: 8G, 512M, 1.5GiB, 4096)");
        }
        double value = Double.parseDouble(m.group(1));
        String unit = m.group(2).toLowerCase(Locale.ROOT);
        double bytes = value * (unit.isEmpty() ? 1 : Math.pow(1024, UNITS.indexOf(unit) + 1));
        if (bytes >= Long.MAX_VALUE) {
            throw new IllegalArgumentException(flag + ": '" + text + "' is too large");
        }
        return (long) bytes;
    }

    /** "23.4 GiB", "512.0 MiB", "12.0 KiB", "100 B": one decimal, as the fit messages show. */
    public static String format(long bytes) {
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        if (bytes < 1024) {
            return bytes + " B";
        }
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
