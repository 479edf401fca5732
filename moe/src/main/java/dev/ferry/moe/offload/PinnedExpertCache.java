package dev.ferry.moe.offload;

import dev.ferry.cuda.Device;
import dev.ferry.cuda.DeviceBuffer;
import dev.ferry.cuda.HostMemoryKind;
import dev.ferry.cuda.PinnedHostBuffer;
import dev.ferry.hostmemory.ByteSizes;
import dev.ferry.moe.placement.ExpertProjection;
import dev.ferry.moe.placement.HostContext;
import dev.ferry.moe.plan.PinnedCache;
import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The host memory expert uploads read from, made at load time per {@link PinnedCache}:
 * <ul>
 * <li>FULL: one pinned copy ({@link Device#allocatePinned}) of every tensor, each expert at a
 *     64 KiB-aligned address, made on the GPU's NUMA node where the machine allows it;</li>
 * <li>IN_PLACE: the compute copies themselves registered ({@link Device#register}), no copy;</li>
 * <li>CAPPED: at most {@code capBytes} pinned, as slots holding one expert's three projections,
 *     filled in layer order and rebalanced towards the experts the router picks most; misses are
 *     copied into the caller's pinned staging buffer by {@link #stage};</li>
 * <li>NONE: nothing pinned; uploads come from the compute copy as pageable memory.</li>
 * </ul>
 * When pinning fails the cache falls back to NONE and says so in one warning line.
 *
 * <p>Thread safety: lookups, {@link #stage} and {@link #recordRouting} may run on any thread;
 * {@link #rebalance} rewrites slots, so call it between batches, after the uploads that read
 * the slots have completed.
 */
public final class PinnedExpertCache implements AutoCloseable {

    /** Alignment of every pinned expert slice (whole 64 KiB units for DMA). */
    public static final long ALIGNMENT = 64 * ByteSizes.KIB;

    private record Key(int layer, ExpertProjection projection) {
        String name() {
            return projection.tensorName(layer);
        }
    }

    /** A whole tensor pinned or registered: expert {@code e} at {@code e * stride}. */
    private record TensorCopy(PinnedHostBuffer buffer, long stride) {
    }

    /** Where each projection of one layer's expert sits inside a CAPPED slot, and the slot size it needs. */
    private record SlotLayout(Map<ExpertProjection, Long> offsets, long slotBytes) {
    }

    /** A CAPPED slot as first filled: {@code expert} of {@code layer} at {@code offset}, {@code bytes} long. */
    private record PlannedSlot(int layer, int expert, long offset, long bytes) {
    }

    /** The CAPPED slots: one pinned buffer cut into slots, each holding one (layer, expert) or nothing. */
    private static final class Slots {
        final PinnedHostBuffer buffer;
        final long[] offset;
        final long[] capacity;
        final int[] layer;
        final int[] expert;
        final Map<Integer, int[]> slotOf;

        Slots(PinnedHostBuffer buffer, long[] offset, long[] capacity, int[] layer, int[] expert, Map<Integer, int[]> slotOf) {
            this.buffer = buffer;
            this.offset = offset;
            this.capacity = capacity;
            this.layer = layer;
            this.expert = expert;
            this.slotOf = slotOf;
        }

        int count() {
            return offset.length;
        }
    }

    private final PinnedCache setting;
    private final PinnedCache.Mode mode;
    private final Map<Key, HostExpertTensor> tensors;
    private final Map<Key, PinnedHostBuffer> pageable;
    private final Map<Key, TensorCopy> copies;
    private final Map<Integer, SlotLayout> layouts;
    private final Slots slots;
    private final Map<Integer, AtomicLongArray> routing;
    private final List<PinnedHostBuffer> owned;
    private final long pinnedBytes;
    private final long registeredBytes;
    private final OptionalInt node;
    private final List<String> lines;
    private boolean closed;

    private PinnedExpertCache(Build b) {
        this.setting = b.setting;
        this.mode = b.mode;
        this.tensors = b.tensors;
        this.pageable = b.pageable;
        this.copies = b.copies;
        this.layouts = b.layouts;
        this.slots = b.slots;
        this.owned = List.copyOf(b.owned);
        this.pinnedBytes = b.pinnedBytes;
        this.registeredBytes = b.registeredBytes;
        this.node = b.node;
        this.lines = List.copyOf(b.lines);
        Map<Integer, AtomicLongArray> counts = new TreeMap<>();
        tensors.values().forEach(t -> counts.putIfAbsent(t.layer(), new AtomicLongArray(t.experts())));
        this.routing = counts;
    }

    /**
     * Builds the cache at load time, printing a progress bar and summary lines to {@code log}.
     * See the class comment for the modes. Falls back to NONE with one warning line when pinning
     * fails (a device error, out of memory, a locked-memory limit).
     *
     * @param gpuNode the NUMA node the GPU is attached to, when known
     * @param host    the machine (topology, thread pinning, move_pages), when known
     */
    public static PinnedExpertCache create(Device device, List<HostExpertTensor> tensors, PinnedCache setting,
                                           OptionalInt gpuNode, Optional<HostContext> host, PrintStream log) {
        Objects.requireNonNull(device, "device");
        Objects.requireNonNull(setting, "setting");
        Objects.requireNonNull(gpuNode, "gpuNode");
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(log, "log");
        Build b = new Build(device, index(tensors), setting, gpuNode, host, log);
        try {
            switch (setting.mode()) {
                case NONE -> b.lines.add("pinned expert cache: none: expert uploads come from pageable memory ("
                        + ByteSizes.format(b.totalBytes()) + " of expert tensors)");
                case FULL -> b.full();
                case IN_PLACE -> b.inPlace();
                case CAPPED -> b.capped();
            }
        } catch (RuntimeException | OutOfMemoryError e) {
            // Pinning fails in many shapes (CUDA errors, RLIMIT_MEMLOCK, host RAM); nothing pinned is always safe.
            b.abandon(e, setting.mode() == PinnedCache.Mode.IN_PLACE ? "register" : "pin");
        }
        if (b.mode != PinnedCache.Mode.NONE) {
            b.lines.forEach(log::println);
        }
        return new PinnedExpertCache(b);
    }

    /** The effective mode (NONE after a fallback). */
    public PinnedCache.Mode mode() {
        return mode;
    }

    /** The setting asked for. */
    public PinnedCache setting() {
        return setting;
    }

    /** True for CAPPED: misses must be copied through a pinned staging buffer with {@link #stage}. */
    public boolean stagesMisses() {
        return mode == PinnedCache.Mode.CAPPED;
    }

    /** The pinned copy or registered memory of one expert's projection, if the cache holds it. */
    public Optional<UploadSource> pinned(int layer, ExpertProjection p, int expert) {
        HostExpertTensor t = tensor(layer, p, expert);
        checkOpen();
        return switch (mode) {
            case NONE -> Optional.empty();
            case FULL, IN_PLACE -> {
                TensorCopy copy = copies.get(new Key(layer, p));
                yield Optional.of(new UploadSource(copy.buffer(), expert * copy.stride(), t.expertBytes()));
            }
            case CAPPED -> cappedSource(layer, p, expert, t.expertBytes());
        };
    }

    private synchronized Optional<UploadSource> cappedSource(int layer, ExpertProjection p, int expert, long bytes) {
        if (slots == null) {
            return Optional.empty();
        }
        int slot = slots.slotOf.get(layer)[expert];
        if (slot < 0) {
            return Optional.empty();
        }
        return Optional.of(new UploadSource(slots.buffer, slots.offset[slot] + layouts.get(layer).offsets().get(p), bytes));
    }

    /** The compute copy of one expert's projection as pageable memory (with the tensor's node). */
    public UploadSource pageable(int layer, ExpertProjection p, int expert) {
        HostExpertTensor t = tensor(layer, p, expert);
        return new UploadSource(pageable.get(new Key(layer, p)), expert * t.expertBytes(), t.expertBytes());
    }

    /**
     * Copies one expert's projection from the compute copy into {@code staging} at
     * {@code offset} and returns that range to upload from (used for CAPPED misses; works in
     * every mode).
     */
    public UploadSource stage(int layer, ExpertProjection p, int expert, PinnedHostBuffer staging, long offset) {
        HostExpertTensor t = tensor(layer, p, expert);
        Objects.requireNonNull(staging, "staging");
        staging.checkOpen();
        DeviceBuffer.checkRange("staging buffer for " + t.name() + " expert " + expert, staging.size(), offset,
                t.expertBytes());
        MemorySegment.copy(t.data(), expert * t.expertBytes(), staging.segment(), offset, t.expertBytes());
        return new UploadSource(staging, offset, t.expertBytes());
    }

    /** Bytes of one expert of that tensor. */
    public long expertBytes(int layer, ExpertProjection p) {
        return tensor(layer, p, 0).expertBytes();
    }

    /** One expert's bytes over all projections of {@code layer} (gate + up + down). */
    public long expertBytes(int layer) {
        return tensors.values().stream().filter(t -> t.layer() == layer).mapToLong(HostExpertTensor::expertBytes).sum();
    }

    /** The tensors the cache serves, in the order given. */
    public List<HostExpertTensor> tensors() {
        return List.copyOf(tensors.values());
    }

    /** Adds {@code tokens} router picks of {@code expert} in {@code layer} (run time, any thread). */
    public void recordRouting(int layer, int expert, int tokens) {
        AtomicLongArray counts = routing.get(layer);
        if (counts == null) {
            throw new IllegalArgumentException("layer " + layer + " has no routed-expert tensors in the pinned expert cache");
        }
        Objects.checkIndex(expert, counts.length());
        if (tokens < 0) {
            throw new IllegalArgumentException("token count must not be negative, got " + tokens);
        }
        counts.addAndGet(expert, tokens);
    }

    /** Router picks recorded for {@code expert} of {@code layer}. */
    public long routingCount(int layer, int expert) {
        AtomicLongArray counts = routing.get(layer);
        if (counts == null) {
            throw new IllegalArgumentException("layer " + layer + " has no routed-expert tensors in the pinned expert cache");
        }
        return counts.get(expert);
    }

    /** True when all projections of {@code expert} in {@code layer} are pinned or registered. */
    public boolean isCached(int layer, int expert) {
        return tensors.values().stream().filter(t -> t.layer() == layer).findFirst()
                .map(t -> pinned(layer, t.projection(), expert).isPresent())
                .orElseThrow(() -> new IllegalArgumentException("layer " + layer + " has no routed-expert tensors in the pinned expert cache"));
    }

    /** Number of (layer, expert) pairs whose projections are pinned or registered. */
    public synchronized int cachedExperts() {
        return switch (mode) {
            case NONE -> 0;
            case FULL, IN_PLACE -> routing.values().stream().mapToInt(AtomicLongArray::length).sum();
            case CAPPED -> slots == null ? 0 : (int) Arrays.stream(slots.layer).filter(l -> l >= 0).count();
        };
    }

    /**
     * CAPPED: swaps up to {@code maxSwaps} of the most-picked uncached experts in for the
     * least-picked cached ones (only where the cold one was picked strictly less often and its
     * slot is large enough); returns the swaps done. Other modes do nothing and return 0.
     */
    public synchronized int rebalance(int maxSwaps) {
        if (maxSwaps < 0) {
            throw new IllegalArgumentException("maxSwaps must not be negative, got " + maxSwaps);
        }
        checkOpen();
        if (mode != PinnedCache.Mode.CAPPED || slots == null || maxSwaps == 0) {
            return 0;
        }
        record Candidate(int layer, int expert, long count) {
        }
        List<Candidate> hot = new ArrayList<>();
        routing.forEach((layer, counts) -> {
            int[] slotOf = slots.slotOf.get(layer);
            for (int e = 0; e < counts.length(); e++) {
                long c = counts.get(e);
                if (c > 0 && slotOf[e] < 0) {
                    hot.add(new Candidate(layer, e, c));
                }
            }
        });
        hot.sort(Comparator.comparingLong(Candidate::count).reversed());
        List<Integer> cold = new ArrayList<>();
        for (int s = 0; s < slots.count(); s++) {
            cold.add(s);
        }
        cold.sort(Comparator.comparingLong(this::slotCount));
        boolean[] taken = new boolean[slots.count()];
        int swaps = 0;
        for (Candidate h : hot) {
            if (swaps == maxSwaps) {
                break;
            }
            long need = layouts.get(h.layer()).slotBytes();
            int victim = -1;
            boolean colderExists = false;
            for (int s : cold) {
                if (taken[s]) {
                    continue;
                }
                if (slotCount(s) >= h.count()) {
                    break;
                }
                colderExists = true;
                if (slots.capacity[s] >= need) {
                    victim = s;
                    break;
                }
            }
            if (!colderExists) {
                break;
            }
            if (victim >= 0) {
                fill(victim, h.layer(), h.expert());
                taken[victim] = true;
                swaps++;
            }
        }
        return swaps;
    }

    private long slotCount(int slot) {
        int layer = slots.layer[slot];
        return layer < 0 ? -1 : routing.get(layer).get(slots.expert[slot]);
    }

    /** Moves (layer, expert) into {@code slot}, evicting its occupant. */
    private void fill(int slot, int layer, int expert) {
        if (slots.layer[slot] >= 0) {
            slots.slotOf.get(slots.layer[slot])[slots.expert[slot]] = -1;
        }
        MemorySegment target = slots.buffer.segment();
        SlotLayout layout = layouts.get(layer);
        layout.offsets().forEach((p, off) -> {
            HostExpertTensor t = tensors.get(new Key(layer, p));
            MemorySegment.copy(t.data(), expert * t.expertBytes(), target, slots.offset[slot] + off, t.expertBytes());
        });
        slots.layer[slot] = layer;
        slots.expert[slot] = expert;
        slots.slotOf.get(layer)[expert] = slot;
    }

    /** Bytes allocated pinned (copies or slots, alignment included); never above the cap in CAPPED. */
    public long pinnedBytes() {
        return pinnedBytes;
    }

    /** Bytes of compute copies registered in place. */
    public long registeredBytes() {
        return registeredBytes;
    }

    /** Where the pinned (or registered) memory lives, when verified or known. */
    public OptionalInt node() {
        return node;
    }

    /** Lines for the run report: mode, bytes, node, verification, fallbacks. */
    public List<String> describe() {
        return lines;
    }

    /** Frees the pinned copies and unregisters registered memory. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (int i = owned.size() - 1; i >= 0; i--) {
            owned.get(i).close();
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the pinned expert cache is closed");
        }
    }

    private HostExpertTensor tensor(int layer, ExpertProjection p, int expert) {
        Objects.requireNonNull(p, "projection");
        HostExpertTensor t = tensors.get(new Key(layer, p));
        if (t == null) {
            throw new IllegalArgumentException("the pinned expert cache holds no tensor " + p.tensorName(layer));
        }
        if (expert < 0 || expert >= t.experts()) {
            throw new IndexOutOfBoundsException(t.name() + ": expert " + expert + " outside 0.." + (t.experts() - 1));
        }
        return t;
    }

    private static Map<Key, HostExpertTensor> index(List<HostExpertTensor> list) {
        Objects.requireNonNull(list, "tensors");
        Map<Key, HostExpertTensor> map = new LinkedHashMap<>();
        Map<Integer, Integer> expertsPerLayer = new TreeMap<>();
        for (HostExpertTensor t : list) {
            Objects.requireNonNull(t, "tensor");
            Key key = new Key(t.layer(), t.projection());
            if (map.putIfAbsent(key, t) != null) {
                throw new IllegalArgumentException("expert tensor " + key.name() + " given twice to the pinned expert cache");
            }
            Integer before = expertsPerLayer.putIfAbsent(t.layer(), t.experts());
            if (before != null && before != t.experts()) {
                throw new IllegalArgumentException(key.name() + " has " + t.experts() + " experts but another projection of "
                        + "layer " + t.layer() + " has " + before);
            }
        }
        return map;
    }

    static long alignUp(long bytes) {
        return Math.addExact(bytes, ALIGNMENT - 1) & -ALIGNMENT;
    }

    /** The 64 KiB-aligned {@code bytes} inside {@code raw} (allocated {@link #ALIGNMENT} bytes larger). */
    private static MemorySegment alignedSlice(MemorySegment raw, long bytes) {
        long pad = -raw.address() & (ALIGNMENT - 1);
        return raw.asSlice(pad, bytes);
    }

    /** The mutable state of one {@link #create} call; becomes the cache's final fields. */
    private static final class Build {
        final Device device;
        final Map<Key, HostExpertTensor> tensors;
        final PinnedCache setting;
        final OptionalInt gpuNode;
        final Optional<HostContext> host;
        final PrintStream log;
        final Map<Key, PinnedHostBuffer> pageable = new LinkedHashMap<>();
        final Map<Key, TensorCopy> copies = new LinkedHashMap<>();
        final Map<Integer, SlotLayout> layouts = new TreeMap<>();
        final List<PinnedHostBuffer> owned = new ArrayList<>();
        final List<String> lines = new ArrayList<>();
        PinnedCache.Mode mode;
        Slots slots;
        long pinnedBytes;
        long registeredBytes;
        OptionalInt node = OptionalInt.empty();
        ProgressBar bar;

        Build(Device device, Map<Key, HostExpertTensor> tensors, PinnedCache setting, OptionalInt gpuNode,
              Optional<HostContext> host, PrintStream log) {
            this.device = device;
            this.tensors = tensors;
            this.setting = setting;
            this.gpuNode = gpuNode;
            this.host = host;
            this.log = log;
            this.mode = setting.mode();
            tensors.forEach((k, t) -> pageable.put(k, PinnedHostBuffer.pageable(t.data(), t.node())));
            tensors.values().forEach(t -> layouts.putIfAbsent(t.layer(), layout(t.layer())));
        }

        long totalBytes() {
            return tensors.values().stream().mapToLong(HostExpertTensor::bytes).sum();
        }

        SlotLayout layout(int layer) {
            Map<ExpertProjection, Long> offsets = new EnumMap<>(ExpertProjection.class);
            long at = 0;
            for (ExpertProjection p : ExpertProjection.values()) {
                HostExpertTensor t = tensors.get(new Key(layer, p));
                if (t != null) {
                    offsets.put(p, at);
                    at += alignUp(t.expertBytes());
                }
            }
            return new SlotLayout(offsets, at);
        }

        void full() {
            long total = 0;
            for (HostExpertTensor t : tensors.values()) {
                total += alignUp(t.expertBytes()) * t.experts() + ALIGNMENT;
            }
            long planned = total;
            bar = new ProgressBar(log, "pinned expert cache (" + setting.describe() + "): copying "
                    + ByteSizes.format(planned) + " on " + where(), planned);
            Map<Key, MemorySegment> aligned = new LinkedHashMap<>();
            Map<Key, PinnedHostBuffer> raws = new LinkedHashMap<>();
            GpuNodeMemory.Outcome<Void> made = GpuNodeMemory.onGpuNode(host, gpuNode, () -> {
                for (Map.Entry<Key, HostExpertTensor> e : tensors.entrySet()) {
                    HostExpertTensor t = e.getValue();
                    long stride = alignUp(t.expertBytes());
                    PinnedHostBuffer raw = device.allocatePinned(stride * t.experts() + ALIGNMENT);
                    owned.add(raw);
                    pinnedBytes += raw.size();
                    MemorySegment copy = alignedSlice(raw.segment(), stride * t.experts());
                    for (int x = 0; x < t.experts(); x++) {
                        MemorySegment.copy(t.data(), x * t.expertBytes(), copy, x * stride, t.expertBytes());
                    }
                    bar.advance(raw.size());
                    aligned.put(e.getKey(), copy);
                    raws.put(e.getKey(), raw);
                }
                return null;
            });
            bar.finish();
            GpuNodeMemory.NodeFinding found = GpuNodeMemory.find(host, List.copyOf(aligned.values()), gpuNode,
                    made.ranOnGpuNode());
            node = found.node();
            aligned.forEach((key, segment) -> {
                PinnedHostBuffer wrapper = PinnedHostBuffer.of(segment, HostMemoryKind.PINNED, node, raws.get(key)::close);
                owned.add(wrapper);
                copies.put(key, new TensorCopy(wrapper, alignUp(tensors.get(key).expertBytes())));
            });
            lines.add(String.format(Locale.ROOT, "pinned expert cache: %s: %s pinned in %d buffers (a copy of %s of expert "
                            + "tensors, each expert at a 64 KiB-aligned address)", setting.describe(),
                    ByteSizes.format(pinnedBytes), raws.size(), ByteSizes.format(totalBytes())));
            lines.add("pinned expert cache " + found.line());
            lines.add("pinned expert cache: " + made.note());
        }

        void inPlace() {
            bar = new ProgressBar(log, "pinned expert cache (" + setting.describe() + "): registering "
                    + ByteSizes.format(totalBytes()), totalBytes());
            for (Map.Entry<Key, HostExpertTensor> e : tensors.entrySet()) {
                HostExpertTensor t = e.getValue();
                PinnedHostBuffer registered = device.register(t.data(), t.node());
                owned.add(registered);
                registeredBytes += t.bytes();
                copies.put(e.getKey(), new TensorCopy(registered, t.expertBytes()));
                bar.advance(t.bytes());
            }
            bar.finish();
            List<OptionalInt> nodes = tensors.values().stream().map(HostExpertTensor::node).distinct().toList();
            node = nodes.size() == 1 ? nodes.get(0) : OptionalInt.empty();
            lines.add("pinned expert cache: " + setting.describe() + ": " + ByteSizes.format(registeredBytes) + " of expert "
                    + "tensors registered in place in " + tensors.size() + " ranges (no copy, no extra RAM)");
            lines.add("pinned expert cache " + (node.isPresent() ? "node " + node.getAsInt() + " (the compute copies' node)"
                    : nodes.size() > 1 ? "node: several (each tensor keeps its compute copy's node)" : "node unknown"));
        }

        void capped() {
            long cap = setting.capBytes();
            // Slots in layer order; a layer whose slot no longer fits is skipped, a later smaller one may still fit.
            List<PlannedSlot> planned = new ArrayList<>();
            long used = 0;
            Map<Integer, Integer> experts = new TreeMap<>();
            tensors.values().forEach(t -> experts.put(t.layer(), t.experts()));
            for (Map.Entry<Integer, Integer> le : experts.entrySet()) {
                long size = layouts.get(le.getKey()).slotBytes();
                for (int e = 0; e < le.getValue() && used + size + ALIGNMENT <= cap; e++) {
                    planned.add(new PlannedSlot(le.getKey(), e, used, size));
                    used += size;
                }
            }
            Map<Integer, int[]> slotOf = new TreeMap<>();
            experts.forEach((layer, count) -> {
                int[] none = new int[count];
                Arrays.fill(none, -1);
                slotOf.put(layer, none);
            });
            int totalExperts = experts.values().stream().mapToInt(Integer::intValue).sum();
            if (planned.isEmpty()) {
                lines.add("pinned expert cache: " + setting.describe() + ": nothing pinned: one expert's slot needs "
                        + ByteSizes.format(layouts.values().stream().mapToLong(SlotLayout::slotBytes).min().orElse(0) + ALIGNMENT)
                        + " with alignment; all " + totalExperts + " experts are staged on demand");
                lines.add("pinned expert cache node: none (nothing pinned)");
                return;
            }
            long slotBytes = used;
            bar = new ProgressBar(log, "pinned expert cache (" + setting.describe() + "): filling " + planned.size()
                    + " expert slots, " + ByteSizes.format(slotBytes + ALIGNMENT) + " on " + where(), slotBytes);
            MemorySegment[] region = new MemorySegment[1];
            PinnedHostBuffer[] raw = new PinnedHostBuffer[1];
            GpuNodeMemory.Outcome<Void> made = GpuNodeMemory.onGpuNode(host, gpuNode, () -> {
                raw[0] = device.allocatePinned(slotBytes + ALIGNMENT);
                owned.add(raw[0]);
                pinnedBytes += raw[0].size();
                region[0] = alignedSlice(raw[0].segment(), slotBytes);
                for (PlannedSlot s : planned) {
                    layouts.get(s.layer()).offsets().forEach((p, off) -> {
                        HostExpertTensor t = tensors.get(new Key(s.layer(), p));
                        MemorySegment.copy(t.data(), s.expert() * t.expertBytes(), region[0], s.offset() + off, t.expertBytes());
                    });
                    bar.advance(s.bytes());
                }
                return null;
            });
            bar.finish();
            GpuNodeMemory.NodeFinding found = GpuNodeMemory.find(host, List.of(region[0]), gpuNode, made.ranOnGpuNode());
            node = found.node();
            PinnedHostBuffer wrapper = PinnedHostBuffer.of(region[0], HostMemoryKind.PINNED, node, raw[0]::close);
            owned.add(wrapper);
            int n = planned.size();
            long[] offset = new long[n];
            long[] capacity = new long[n];
            int[] layer = new int[n];
            int[] expert = new int[n];
            for (int i = 0; i < n; i++) {
                PlannedSlot s = planned.get(i);
                layer[i] = s.layer();
                expert[i] = s.expert();
                offset[i] = s.offset();
                capacity[i] = s.bytes();
                slotOf.get(layer[i])[expert[i]] = i;
            }
            slots = new Slots(wrapper, offset, capacity, layer, expert, slotOf);
            lines.add(String.format(Locale.ROOT, "pinned expert cache: %s: %s pinned in %d expert slots (%.1f%% of %d "
                            + "experts, filled in layer order, rebalanced by router counts); the rest staged on demand",
                    setting.describe(), ByteSizes.format(pinnedBytes), n, 100.0 * n / totalExperts, totalExperts));
            lines.add("pinned expert cache " + found.line());
            lines.add("pinned expert cache: " + made.note());
        }

        String where() {
            return gpuNode.isPresent() ? "node " + gpuNode.getAsInt() : "an unknown node";
        }

        /** Frees what was pinned so far and turns the cache into NONE with one warning line. */
        void abandon(Throwable e, String verb) {
            if (bar != null) {
                bar.fail();
            }
            for (int i = owned.size() - 1; i >= 0; i--) {
                try {
                    owned.get(i).close();
                } catch (RuntimeException ignored) {
                    // Freeing after a failed pin may fail as well; the fallback path owns nothing.
                }
            }
            owned.clear();
            copies.clear();
            slots = null;
            pinnedBytes = 0;
            registeredBytes = 0;
            node = OptionalInt.empty();
            lines.clear();
            String why = (e.getClass().getSimpleName() + ": " + e.getMessage()).replaceAll("\\s+", " ");
            log.println("warning: " + setting.describe() + ": could not " + verb + " the expert cache (" + why
                    + "); expert uploads come from pageable memory");
            mode = PinnedCache.Mode.NONE;
            lines.add("pinned expert cache: none (fell back from " + setting.describe() + " because pinning failed: " + why
                    + "); expert uploads come from pageable memory");
        }
    }
}
