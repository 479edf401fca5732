package dev.ferry.cuda.pcie;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/** What {@link PcieBenchmark} measures: chunk sizes in bytes, repetitions, where to put the mapped file. */
public record PcieOptions(List<Long> sizes, int reps, Path fileDir) {

    public static final long MIB = 1L << 20;

    public PcieOptions {
        sizes = List.copyOf(sizes);
        Objects.requireNonNull(fileDir, "fileDir");
        if (sizes.isEmpty()) {
            throw new IllegalArgumentException("--sizes: at least one chunk size is needed");
        }
        for (long s : sizes) {
            if (s < 1 || s > (4L << 30)) {
                throw new IllegalArgumentException("--sizes: chunk size " + s + " bytes is outside 1 B .. 4 GiB");
            }
        }
        if (reps < 1 || reps > 1000) {
            throw new IllegalArgumentException("--reps: " + reps + " is outside 1..1000");
        }
    }

    /** 1, 4, 16 and 64 MiB, 5 repetitions. */
    public static PcieOptions defaults(Path fileDir) {
        return new PcieOptions(List.of(MIB, 4 * MIB, 16 * MIB, 64 * MIB), 5, fileDir);
    }

    /** 1 and 16 MiB, 3 repetitions. */
    public static PcieOptions quick(Path fileDir) {
        return new PcieOptions(List.of(MIB, 16 * MIB), 3, fileDir);
    }

    /** 1 MiB to 256 MiB in steps of 4x, 5 repetitions. */
    public static PcieOptions full(Path fileDir) {
        return new PcieOptions(List.of(MIB, 4 * MIB, 16 * MIB, 64 * MIB, 256 * MIB), 5, fileDir);
    }

    public long maxSize() {
        return sizes.stream().mapToLong(Long::longValue).max().orElseThrow();
    }

    public PcieOptions withSizes(List<Long> newSizes) {
        return new PcieOptions(newSizes, reps, fileDir);
    }

    public PcieOptions withReps(int newReps) {
        return new PcieOptions(sizes, newReps, fileDir);
    }

    /** Parses "1,4,16" (MiB) or values with a unit: "512K", "1M", "1G". */
    public static List<Long> parseSizes(String text) {
        List<Long> out = new java.util.ArrayList<>();
        for (String part : text.split(",")) {
            String p = part.trim().toUpperCase(java.util.Locale.ROOT);
            if (p.isEmpty()) {
                continue;
            }
            long unit = MIB;
            char last = p.charAt(p.length() - 1);
            if (last == 'K' || last == 'M' || last == 'G') {
                unit = last == 'K' ? 1024 : last == 'M' ? MIB : 1L << 30;
                p = p.substring(0, p.length() - 1);
            }
            try {
                out.add(Long.parseLong(p) * unit);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--sizes: '" + part.trim() + "' is not a size (use e.g. 1,4,16 in MiB, or 512K, 1G)");
            }
        }
        return out;
    }
}
