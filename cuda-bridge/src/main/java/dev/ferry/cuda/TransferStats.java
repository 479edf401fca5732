package dev.ferry.cuda;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * Per-copy transfer accounting of one device: every copy adds a {@link TransferRecord}; totals
 * are kept per (direction, source kind, NUMA node) for the whole run, and the most recent
 * records are kept for inspection. Thread-safe.
 */
public final class TransferStats {

    /** Totals of one (direction, host kind, node) group. */
    public record Aggregate(CopyDirection direction, HostMemoryKind hostKind, OptionalInt numaNode,
                            long copies, long bytes, double seconds, double realSeconds) {

        /** Average bandwidth in GB/s over the group's device-clock time. */
        public double gigabytesPerSecond() {
            return seconds > 0 ? bytes / seconds / 1e9 : 0;
        }
    }

    private record Key(CopyDirection direction, HostMemoryKind hostKind, OptionalInt numaNode) {
    }

    private final int keepRecent;
    private final ArrayDeque<TransferRecord> recent = new ArrayDeque<>();
    private final Map<Key, Aggregate> totals = new LinkedHashMap<>();
    private boolean anySimulated;

    /** Stats that keep the last {@code keepRecent} individual records. */
    public TransferStats(int keepRecent) {
        if (keepRecent < 0) {
            throw new IllegalArgumentException("keepRecent must not be negative: " + keepRecent);
        }
        this.keepRecent = keepRecent;
    }

    public TransferStats() {
        this(4096);
    }

    public synchronized void add(TransferRecord record) {
        if (keepRecent > 0) {
            if (recent.size() == keepRecent) {
                recent.removeFirst();
            }
            recent.addLast(record);
        }
        anySimulated |= record.simulated();
        Key key = new Key(record.direction(), record.hostKind(), record.numaNode());
        Aggregate old = totals.get(key);
        totals.put(key, old == null
                ? new Aggregate(key.direction(), key.hostKind(), key.numaNode(), 1, record.bytes(), record.seconds(),
                        record.realSeconds())
                : new Aggregate(key.direction(), key.hostKind(), key.numaNode(), old.copies() + 1,
                        old.bytes() + record.bytes(), old.seconds() + record.seconds(),
                        old.realSeconds() + record.realSeconds()));
    }

    /** The most recent records, oldest first. */
    public synchronized List<TransferRecord> recent() {
        return List.copyOf(recent);
    }

    /** Totals per group, ordered by direction, kind and node. */
    public synchronized List<Aggregate> aggregates() {
        List<Aggregate> list = new ArrayList<>(totals.values());
        list.sort(Comparator.comparing(Aggregate::direction).thenComparing(Aggregate::hostKind)
                .thenComparingInt(a -> a.numaNode().orElse(-1)));
        return List.copyOf(list);
    }

    /** Total bytes copied in {@code direction}. */
    public synchronized long totalBytes(CopyDirection direction) {
        return totals.values().stream().filter(a -> a.direction() == direction).mapToLong(Aggregate::bytes).sum();
    }

    /** Total copies in {@code direction}. */
    public synchronized long totalCopies(CopyDirection direction) {
        return totals.values().stream().filter(a -> a.direction() == direction).mapToLong(Aggregate::copies).sum();
    }

    /** Total device-clock seconds of copies in {@code direction}. */
    public synchronized double totalSeconds(CopyDirection direction) {
        return totals.values().stream().filter(a -> a.direction() == direction).mapToDouble(Aggregate::seconds).sum();
    }

    public synchronized void clear() {
        recent.clear();
        totals.clear();
        anySimulated = false;
    }

    /** Human-readable lines, one per group; says "simulated" when the times are modelled. */
    public synchronized List<String> describe() {
        List<String> lines = new ArrayList<>();
        for (Aggregate a : aggregates()) {
            lines.add(String.format(java.util.Locale.ROOT, "%s %-10s node %-3s %6d copies %10.1f MiB %9.3f s %7.2f GB/s%s",
                    a.direction().shortName(), a.hostKind().label(),
                    a.numaNode().isPresent() ? Integer.toString(a.numaNode().getAsInt()) : "?",
                    a.copies(), a.bytes() / 1048576.0, a.seconds(), a.gigabytesPerSecond(),
                    anySimulated ? String.format(java.util.Locale.ROOT, " (simulated link; real copy %.3f s)", a.realSeconds()) : ""));
        }
        return lines;
    }
}
