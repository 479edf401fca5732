package dev.ferry.cuda.pcie;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The result of {@code ferry pcie}: a status line (the device, "simulated", or "no GPU: reason;
 * measuring host-side staging copies only"), the link, where host buffers were placed, and one
 * {@link PcieResult} per measured cell. Renders as a Markdown table or JSON.
 */
public record PcieReport(String status, boolean gpu, boolean simulated, Optional<PcieLink> link, String placement,
                         int reps, double seconds, List<PcieResult> results) {

    public PcieReport {
        results = List.copyOf(results);
    }

    public String toMarkdown() {
        StringBuilder sb = new StringBuilder();
        sb.append(status).append('\n');
        sb.append(link.map(l -> "link: " + l.describe()).orElse("link: unknown (no PCIe link information for a GPU)"))
                .append('\n');
        sb.append("placement: ").append(placement).append('\n');
        sb.append(String.format(Locale.ROOT, "GB/s = 10^9 bytes/s; median of %d repetitions, [min .. max]%s; %.1f s in all%n",
                reps, simulated ? "; times modelled by the simulated link" : gpu ? "; timed on the device (CUDA events)" : "",
                seconds));
        if (gpu) {
            sb.append("host call GB/s: the same copies timed around the synchronous call on the host (driver and call "
                    + "overhead included)\n");
        }
        sb.append('\n');
        sb.append("| node | source | alignment | chunk | direction | median GB/s | min .. max | % of link | host call GB/s |\n");
        sb.append("|---|---|---|---:|---|---:|---:|---:|---:|\n");
        for (PcieResult r : results) {
            sb.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %.2f | %.2f .. %.2f | %s | %s |%n",
                    node(r), r.source(), r.alignment(), size(r.bytes()), r.direction(), r.medianGBps(), r.minGBps(),
                    r.maxGBps(), r.percentOfLink().isPresent()
                            ? String.format(Locale.ROOT, "%.0f%%", r.percentOfLink().getAsDouble()) : "-",
                    r.hostCallMedianGBps().isPresent()
                            ? String.format(Locale.ROOT, "%.2f", r.hostCallMedianGBps().getAsDouble()) : "-"));
        }
        return sb.toString();
    }

    public String toJson() {
        StringBuilder sb = new StringBuilder("{\n");
        sb.append("  \"status\": ").append(quote(status)).append(",\n");
        sb.append("  \"gpu\": ").append(gpu).append(",\n");
        sb.append("  \"simulated\": ").append(simulated).append(",\n");
        sb.append("  \"link\": ");
        if (link.isPresent()) {
            PcieLink l = link.get();
            sb.append(String.format(Locale.ROOT,
                    "{\"bus_id\": %s, \"generation\": %d, \"width\": %d, \"gts\": %.1f, \"max_generation\": %d, "
                            + "\"max_width\": %d, \"theoretical_gbps\": %.3f, \"numa_node\": %s}",
                    quote(l.busId()), l.currentGeneration(), l.currentWidth(), l.currentGts(), l.maxGeneration(),
                    l.maxWidth(), l.theoreticalGBps(),
                    l.numaNode().isPresent() ? Integer.toString(l.numaNode().getAsInt()) : "null"));
        } else {
            sb.append("null");
        }
        sb.append(",\n  \"placement\": ").append(quote(placement)).append(",\n");
        sb.append("  \"reps\": ").append(reps).append(",\n");
        sb.append(String.format(Locale.ROOT, "  \"seconds\": %.3f,%n", seconds));
        sb.append("  \"results\": [\n");
        for (int i = 0; i < results.size(); i++) {
            PcieResult r = results.get(i);
            sb.append(String.format(Locale.ROOT,
                    "    {\"node\": %s, \"source\": %s, \"alignment\": %s, \"bytes\": %d, \"direction\": %s, "
                            + "\"median_gbps\": %.4f, \"min_gbps\": %.4f, \"max_gbps\": %.4f, \"reps\": %d, "
                            + "\"percent_of_link\": %s, \"host_call_median_gbps\": %s}%s%n",
                    r.node().isPresent() ? Integer.toString(r.node().getAsInt()) : "null", quote(r.source()),
                    quote(r.alignment()), r.bytes(), quote(r.direction()), r.medianGBps(), r.minGBps(), r.maxGBps(),
                    r.reps(), r.percentOfLink().isPresent()
                            ? String.format(Locale.ROOT, "%.2f", r.percentOfLink().getAsDouble()) : "null",
                    r.hostCallMedianGBps().isPresent()
                            ? String.format(Locale.ROOT, "%.4f", r.hostCallMedianGBps().getAsDouble()) : "null",
                    i + 1 < results.size() ? "," : ""));
        }
        return sb.append("  ]\n}\n").toString();
    }

    private static String node(PcieResult r) {
        return r.node().isPresent() ? Integer.toString(r.node().getAsInt()) : "-";
    }

    static String size(long bytes) {
        if (bytes % (1L << 30) == 0) {
            return bytes / (1L << 30) + " GiB";
        }
        if (bytes % (1L << 20) == 0) {
            return bytes / (1L << 20) + " MiB";
        }
        if (bytes % 1024 == 0) {
            return bytes / 1024 + " KiB";
        }
        return bytes + " B";
    }

    static String quote(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"').toString();
    }
}
