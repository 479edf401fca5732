package dev.ferry.hostmemory;

import java.util.Collections;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Where the pages of a buffer really are, as {@code move_pages} reports them.
 *
 * @param bytes bytes examined
 * @param bytesPerNode bytes resident on each node, ascending node order
 * @param bytesNotPresent bytes of pages never touched (no node yet)
 * @param bytesUnknown bytes whose node could not be read (no Linux calls, or a page error)
 * @param anonHugePageBytes bytes backed by transparent huge pages per {@code /proc/self/smaps}, -1 when unknown
 * @param sampled true when only a sample of pages was queried and the counts are scaled
 * @param note empty, or why the placement could not be read (e.g. move_pages refused)
 */
public record PagePlacement(long bytes, Map<Integer, Long> bytesPerNode, long bytesNotPresent, long bytesUnknown,
                            long anonHugePageBytes, boolean sampled, String note) {

    public PagePlacement {
        bytesPerNode = Collections.unmodifiableMap(new TreeMap<>(bytesPerNode));
    }

    public long bytesOnNode(int node) {
        return bytesPerNode.getOrDefault(node, 0L);
    }

    /** True when every examined byte is resident on {@code node}. */
    public boolean isEntirelyOn(int node) {
        return bytes > 0 && bytesOnNode(node) == bytes;
    }

    /** E.g. {@code 64.0 MiB: node 0 64.0 MiB (100.0%); THP 64.0 MiB}. */
    public String describe() {
        StringBuilder sb = new StringBuilder(ByteSizes.format(bytes)).append(sampled ? " (sampled)" : "").append(':');
        bytesPerNode.forEach((node, b) -> sb.append(String.format(Locale.ROOT, " node %d %s (%.1f%%)", node, ByteSizes.format(b), percent(b))));
        if (bytesNotPresent > 0) {
            sb.append(String.format(Locale.ROOT, " not yet touched %s (%.1f%%)", ByteSizes.format(bytesNotPresent), percent(bytesNotPresent)));
        }
        if (bytesUnknown > 0) {
            sb.append(String.format(Locale.ROOT, " unknown %s (%.1f%%)", ByteSizes.format(bytesUnknown), percent(bytesUnknown)));
        }
        if (anonHugePageBytes >= 0) {
            sb.append("; THP ").append(ByteSizes.format(anonHugePageBytes));
        }
        if (!note.isEmpty()) {
            sb.append("; ").append(note);
        }
        return sb.toString();
    }

    private double percent(long part) {
        return bytes == 0 ? 0 : 100.0 * part / bytes;
    }
}
