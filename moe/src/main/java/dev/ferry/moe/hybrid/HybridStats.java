package dev.ferry.moe.hybrid;

import dev.ferry.cuda.HostMemoryKind;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;

/**
 * What hybrid execution did, per phase: expert weight uploads by source kind and node (bytes and
 * device-clock seconds), hidden-state traffic, and where the routed experts ran. One instance per
 * engine; sessions add to it. Thread-safe.
 */
public final class HybridStats {

    /** When the work happened. */
    public enum Phase {
        /** Loading: resident weights uploaded to the device. */
        LOAD,
        /** Batches of more than one token (prompt processing). */
        PREFILL,
        /** One token at a time (generation). */
        DECODE;

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Uploads of one source kind on one node. */
    public record Uploads(HostMemoryKind kind, OptionalInt node, long bytes, double seconds, long copies) {
        public double gigabytesPerSecond() {
            return seconds > 0 ? bytes / seconds / 1e9 : 0;
        }
    }

    private record UploadKey(HostMemoryKind kind, OptionalInt node) { }

    private static final class PhaseCounts {
        final Map<UploadKey, long[]> uploadBytes = new java.util.LinkedHashMap<>();
        final Map<UploadKey, double[]> uploadSeconds = new java.util.LinkedHashMap<>();
        long hiddenToDevice;
        long hiddenToHost;
        long cpuPairs;
        long gpuPairs;
        long cpuLayerBatches;
        long gpuLayerBatches;
        long tokens;
        long batches;
        long prefetchedLayers;
        long uploadPadding;
        long unusedPrefetches;
    }

    /**
     * One layer's routed experts for one micro-batch of host experts: where they ran and why.
     * {@code work} is what the offload policy was asked about.
     */
    public record ExpertDecision(Phase phase, int layer, dev.ferry.moe.offload.ExpertWork work,
                                 dev.ferry.moe.offload.OffloadDecision decision) { }

    /** Decisions kept for reports and tests; older ones are dropped. */
    private static final int KEEP_DECISIONS = 4096;

    private final Map<Phase, PhaseCounts> phases = new EnumMap<>(Phase.class);
    private final java.util.ArrayDeque<ExpertDecision> decisions = new java.util.ArrayDeque<>();

    public HybridStats() {
        for (Phase p : Phase.values()) {
            phases.put(p, new PhaseCounts());
        }
    }

    /** One chunk of expert (or resident) weights uploaded from {@code kind} memory on {@code node}. */
    public synchronized void addUpload(Phase phase, HostMemoryKind kind, OptionalInt node, long bytes, long copies, double seconds) {
        PhaseCounts p = phases.get(phase);
        UploadKey key = new UploadKey(kind, node);
        long[] b = p.uploadBytes.computeIfAbsent(key, k -> new long[2]);
        b[0] += bytes;
        b[1] += copies;
        p.uploadSeconds.computeIfAbsent(key, k -> new double[1])[0] += seconds;
    }

    /** Bytes of uploads that lay between experts (alignment padding of the pinned copy, copied to make one large copy). */
    public synchronized void addUploadPadding(Phase phase, long bytes) {
        phases.get(phase).uploadPadding += bytes;
    }

    public synchronized long uploadPadding(Phase phase) {
        return phases.get(phase).uploadPadding;
    }

    /** Hidden states (not weights) copied to the device and back. */
    public synchronized void addHiddenTraffic(Phase phase, long toDevice, long toHost) {
        PhaseCounts p = phases.get(phase);
        p.hiddenToDevice += toDevice;
        p.hiddenToHost += toHost;
    }

    /** One layer's routed experts for one micro-batch: {@code pairs} (token, expert) pairs, on the GPU or not. */
    public synchronized void addExpertBatch(Phase phase, boolean onGpu, long pairs) {
        PhaseCounts p = phases.get(phase);
        if (onGpu) {
            p.gpuPairs += pairs;
            p.gpuLayerBatches++;
        } else {
            p.cpuPairs += pairs;
            p.cpuLayerBatches++;
        }
    }

    /** Where one layer's host experts ran for one micro-batch (and why). */
    public synchronized void addDecision(ExpertDecision d) {
        if (decisions.size() == KEEP_DECISIONS) {
            decisions.removeFirst();
        }
        decisions.addLast(d);
    }

    /** The most recent decisions, oldest first. */
    public synchronized List<ExpertDecision> decisions() {
        return List.copyOf(decisions);
    }

    /** A whole layer of experts uploaded ahead, during the previous layer's compute; {@code used} false when it was not needed. */
    public synchronized void addPrefetch(Phase phase, boolean used) {
        PhaseCounts p = phases.get(phase);
        if (used) {
            p.prefetchedLayers++;
        } else {
            p.unusedPrefetches++;
        }
    }

    public synchronized long prefetchedLayers(Phase phase) {
        return phases.get(phase).prefetchedLayers;
    }

    /** A micro-batch of {@code tokens} evaluated. */
    public synchronized void addBatch(Phase phase, int tokens) {
        PhaseCounts p = phases.get(phase);
        p.tokens += tokens;
        p.batches++;
    }

    public synchronized List<Uploads> uploads(Phase phase) {
        PhaseCounts p = phases.get(phase);
        List<Uploads> out = new ArrayList<>();
        p.uploadBytes.forEach((k, b) -> out.add(new Uploads(k.kind(), k.node(), b[0], p.uploadSeconds.get(k)[0], b[1])));
        return out;
    }

    public synchronized long uploadedBytes(Phase phase) {
        return phases.get(phase).uploadBytes.values().stream().mapToLong(b -> b[0]).sum();
    }

    public synchronized long uploadedBytes(Phase phase, HostMemoryKind kind) {
        return uploads(phase).stream().filter(u -> u.kind() == kind).mapToLong(Uploads::bytes).sum();
    }

    public synchronized long cpuPairs(Phase phase) {
        return phases.get(phase).cpuPairs;
    }

    public synchronized long gpuPairs(Phase phase) {
        return phases.get(phase).gpuPairs;
    }

    public synchronized long hiddenBytes(Phase phase) {
        PhaseCounts p = phases.get(phase);
        return p.hiddenToDevice + p.hiddenToHost;
    }

    public synchronized long tokens(Phase phase) {
        return phases.get(phase).tokens;
    }

    /** Forgets everything (between benchmark repetitions). */
    public synchronized void clear() {
        for (Phase p : Phase.values()) {
            phases.put(p, new PhaseCounts());
        }
        decisions.clear();
    }

    /** Report lines, one block per phase that did anything. */
    public synchronized List<String> describe() {
        List<String> lines = new ArrayList<>();
        for (Phase phase : Phase.values()) {
            PhaseCounts p = phases.get(phase);
            boolean any = p.tokens > 0 || !p.uploadBytes.isEmpty() || p.cpuPairs + p.gpuPairs > 0;
            if (!any) {
                continue;
            }
            StringBuilder head = new StringBuilder(phase.label()).append(':');
            if (p.tokens > 0) {
                head.append(' ').append(p.tokens).append(" tokens in ").append(p.batches).append(" micro-batches;");
            }
            long pairs = p.cpuPairs + p.gpuPairs;
            if (pairs > 0) {
                head.append(String.format(Locale.ROOT, " expert work %.0f%% CPU / %.0f%% GPU (%d / %d pairs, %d / %d layer-batches);",
                        100.0 * p.cpuPairs / pairs, 100.0 * p.gpuPairs / pairs, p.cpuPairs, p.gpuPairs, p.cpuLayerBatches,
                        p.gpuLayerBatches));
            }
            if (p.hiddenToDevice + p.hiddenToHost > 0) {
                head.append(" hidden states ").append(mib(p.hiddenToDevice)).append(" up, ").append(mib(p.hiddenToHost)).append(" down;");
            }
            if (p.prefetchedLayers + p.unusedPrefetches > 0) {
                head.append(' ').append(p.prefetchedLayers).append(" layers of experts uploaded during the previous layer's compute");
                if (p.unusedPrefetches > 0) {
                    head.append(" (").append(p.unusedPrefetches).append(" not used)");
                }
                head.append(';');
            }
            long weightBytes = p.uploadBytes.values().stream().mapToLong(b -> b[0]).sum();
            head.append(" weights uploaded ").append(mib(weightBytes));
            if (p.uploadPadding > 0) {
                head.append(" (").append(mib(p.uploadPadding)).append(" of it alignment padding between experts)");
            }
            lines.add(head.toString());
            p.uploadBytes.forEach((k, b) -> {
                double s = p.uploadSeconds.get(k)[0];
                lines.add(String.format(Locale.ROOT, "  from %s memory%s: %s in %d copies, %.3f s, %.2f GB/s", k.kind().label(),
                        k.node().isPresent() ? " on node " + k.node().getAsInt() : "", mib(b[0]), b[1], s, s > 0 ? b[0] / s / 1e9 : 0));
            });
        }
        return lines;
    }

    private static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024.0));
    }
}
