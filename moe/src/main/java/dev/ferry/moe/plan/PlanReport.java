package dev.ferry.moe.plan;

import dev.ferry.hostmemory.topology.Topology;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The plan as text, for {@code ferry inspect} and {@code run -v}: the flags as resolved, one row
 * per tensor (or per layer for models with more than {@value #PER_TENSOR_LIMIT} tensors), bytes
 * on the GPU and per NUMA node, pinned bytes, the KV cache and the verdict.
 */
public final class PlanReport {

    /** Up to this many tensors the report lists each one; above, one row per layer. */
    public static final int PER_TENSOR_LIMIT = 200;

    private final StringBuilder out = new StringBuilder();

    private PlanReport() {
    }

    public static String text(PlacementPlan plan, Topology topology) {
        PlanReport r = new PlanReport();
        r.header(plan);
        if (plan.tensors().size() <= PER_TENSOR_LIMIT) {
            r.perTensor(plan);
        } else {
            r.perLayer(plan);
        }
        r.totals(plan, topology);
        return r.out.toString();
    }

    private void header(PlacementPlan p) {
        out.append("placement plan\n");
        List<String[]> rows = new ArrayList<>();
        rows.add(row("device", p.gpu().description()));
        rows.add(row("-ngl", p.gpuLayers() + " (of " + p.layerCount() + " layers + output)"
                + (p.gpuLayers() == 0 ? ": everything on the CPU"
                : ": layers " + p.firstGpuLayer() + "-" + (p.layerCount() - 1) + " on the GPU"
                + (p.gpuLayers() > p.layerCount() ? ", output too" : ", output on the CPU"))));
        if (p.options().overrides().rules().isEmpty()) {
            rows.add(row("overrides", "none"));
        } else {
            List<OverrideRule> rules = p.options().overrides().rules();
            for (int i = 0; i < rules.size(); i++) {
                rows.add(row(i == 0 ? "overrides" : "", (i + 1) + ". " + rules.get(i).describe()));
            }
        }
        rows.add(row("host memory", p.options().numa().map(n -> "--numa " + n.flagValue()).orElse("no --numa")
                + (p.options().mmap() ? ", --mmap" : ", --no-mmap")));
        rows.add(row("pinned", p.options().pinned().describe()));
        rows.add(row("KV cache", "-c " + p.contextLength() + ", K " + p.options().cacheTypeK().name().toLowerCase(Locale.ROOT)
                + ", V " + p.options().cacheTypeV().name().toLowerCase(Locale.ROOT) + ", -ub " + p.options().microBatch()));
        table(rows, "  ");
        out.append('\n');
    }

    private void perTensor(PlacementPlan p) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"tensor", "bytes", "home", "nodes", "extra copies", "why"});
        for (TensorPlacement t : p.tensors()) {
            rows.add(new String[] {t.name(), ByteSize.format(t.bytes()), t.home().name(), nodes(t.homeNodes(), t.home()),
                    copies(t), t.reason()});
        }
        table(rows, "  ", 1);
        out.append('\n');
    }

    private void perLayer(PlacementPlan p) {
        Map<Integer, long[]> byLayer = new TreeMap<>();
        Map<Integer, StringBuilder> expertHomes = new TreeMap<>();
        for (TensorPlacement t : p.tensors()) {
            long[] b = byLayer.computeIfAbsent(t.layer(), k -> new long[4]);
            b[t.home() == Home.GPU ? 0 : 1] += t.bytes();
            b[2] += t.copyBytes(ExtraCopy.Kind.NUMA_MIRROR) + t.copyBytes(ExtraCopy.Kind.PINNED);
            b[3]++;
            if (t.routedExperts()) {
                StringBuilder s = expertHomes.computeIfAbsent(t.layer(), k -> new StringBuilder());
                String h = t.home().name();
                if (s.indexOf(h) < 0) {
                    s.append(s.isEmpty() ? "" : "+").append(h);
                }
            }
        }
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"layer", "tensors", "GPU", "host", "extra copies", "routed experts"});
        byLayer.forEach((layer, b) -> rows.add(new String[] {
                layer == TensorPlacement.INPUT_LAYER ? "input" : layer == TensorPlacement.OUTPUT_LAYER ? "output" : Integer.toString(layer),
                Long.toString(b[3]), ByteSize.format(b[0]), ByteSize.format(b[1]), ByteSize.format(b[2]),
                expertHomes.containsKey(layer) ? expertHomes.get(layer).toString() : "-"}));
        table(rows, "  ", 1, 2, 3, 4);
        out.append('\n');
    }

    private void totals(PlacementPlan p, Topology topology) {
        PlacementPlan.GpuBudget g = p.gpuBudget();
        List<String[]> rows = new ArrayList<>();
        rows.add(row("tensors", ByteSize.format(p.tensorBytes()) + ": GPU " + ByteSize.format(p.bytesAt(Home.GPU))
                + ", host " + ByteSize.format(p.bytesAt(Home.HOST))));
        rows.add(row("GPU", p.gpu().present()
                ? ByteSize.format(g.totalBytes()) + " of " + ByteSize.format(g.capacity().get()) + ": weights " + ByteSize.format(g.weightBytes())
                + " + KV cache " + ByteSize.format(g.kvBytes()) + " + compute " + ByteSize.format(g.computeBytes())
                + (g.expertUploadBytes() > 0 ? " + expert upload buffers " + ByteSize.format(g.expertUploadBytes()) : "")
                : "none"));
        rows.add(row("KV cache", ByteSize.format(p.kvBytes()) + " (GPU " + ByteSize.format(p.kvBytesGpu()) + ", host "
                + ByteSize.format(p.kvBytesHost()) + ")"));
        PlacementPlan.PinnedCopy pc = p.pinned();
        rows.add(row("pinned", pc.mode() != PinnedCache.Mode.NONE && pc.node().isEmpty() ? "none planned (see the notes)" : switch (pc.mode()) {
            case NONE -> "none (expert uploads from pageable memory)";
            case IN_PLACE -> ByteSize.format(pc.registeredBytes()) + " registered in place, no extra RAM";
            case FULL, CAPPED -> ByteSize.format(pc.copiedBytes()) + " copied" + (pc.stagingBytes() > 0
                    ? " + " + ByteSize.format(pc.stagingBytes()) + " staging" : "")
                    + pc.node().stream().mapToObj(n -> " on node " + n).findFirst().orElse("");
        }));
        rows.add(row("file mapping", p.mappedFileBytes() == 0 ? "none (--no-mmap)"
                : ByteSize.format(p.mappedFileBytes()) + " mapped, " + ByteSize.format(p.readInPlaceBytes()) + " of host weights read in place"));
        PlacementPlan.HostBudget h = p.hostBudget();
        rows.add(row("host RAM", ByteSize.format(h.totalBytes()) + h.capacity().map(c -> " of " + ByteSize.format(c)).orElse("")
                + ": placed weights " + ByteSize.format(h.placedBytes()) + " + pinned " + ByteSize.format(h.pinnedBytes())
                + " + KV cache " + ByteSize.format(h.kvBytes()) + (p.readInPlaceBytes() > 0 ? " (+ the page cache of the mapping)" : "")));
        p.hostNodeBytes().forEach((node, bytes) -> rows.add(row("  node " + node, ByteSize.format(bytes)
                + (topology.hasNode(node) && topology.node(node).memTotalBytes() > 0
                ? " of " + ByteSize.format(topology.node(node).memTotalBytes()) : ""))));
        table(rows, "  ");
        p.numa().ifPresent(n -> {
            out.append("  host tensors under ");
            out.append(n.describe(topology).replace(System.lineSeparator(), "\n  "));
            trimIndent();
        });
        for (String note : p.notes()) {
            out.append("  note: ").append(note).append('\n');
        }
        for (String warning : p.warnings()) {
            out.append("  warning: ").append(warning).append('\n');
        }
        out.append(p.fits() ? "  verdict: fits\n" : "  verdict: does not fit: " + p.refusal() + "\n");
    }

    private void trimIndent() {
        while (out.length() > 0 && out.charAt(out.length() - 1) == ' ') {
            out.setLength(out.length() - 1);
        }
    }

    private static String nodes(Map<Integer, Long> homeNodes, Home home) {
        if (home == Home.GPU) {
            return "-";
        }
        if (homeNodes.isEmpty()) {
            return "mapping";
        }
        StringBuilder b = new StringBuilder();
        homeNodes.keySet().forEach(n -> b.append(b.isEmpty() ? "" : ",").append(n));
        return b.toString();
    }

    private static String copies(TensorPlacement t) {
        if (t.copies().isEmpty()) {
            return "-";
        }
        StringBuilder b = new StringBuilder();
        for (ExtraCopy c : t.copies()) {
            b.append(b.isEmpty() ? "" : ", ").append(c.kind().label()).append(" n").append(c.node());
        }
        return b.toString();
    }

    private static String[] row(String key, String value) {
        return new String[] {key, value};
    }

    /** Rows with columns padded to their widest cell; listed columns align right. */
    private void table(List<String[]> rows, String indent, int... rightAligned) {
        int cols = rows.stream().mapToInt(r -> r.length).max().orElse(0);
        int[] width = new int[cols];
        for (String[] r : rows) {
            for (int c = 0; c < r.length; c++) {
                width[c] = Math.max(width[c], r[c].length());
            }
        }
        for (String[] r : rows) {
            StringBuilder line = new StringBuilder(indent);
            for (int c = 0; c < r.length; c++) {
                boolean right = false;
                for (int ra : rightAligned) {
                    right |= ra == c;
                }
                String pad = " ".repeat(width[c] - r[c].length());
                line.append(c > 0 ? "  " : "").append(right ? pad + r[c] : r[c] + pad);
            }
            out.append(line.toString().stripTrailing()).append('\n');
        }
    }
}
