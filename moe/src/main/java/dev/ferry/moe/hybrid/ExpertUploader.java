package dev.ferry.moe.hybrid;

import dev.ferry.cuda.Device;
import dev.ferry.cuda.DeviceBuffer;
import dev.ferry.cuda.Event;
import dev.ferry.cuda.HostMemoryKind;
import dev.ferry.cuda.PinnedHostBuffer;
import dev.ferry.cuda.Stream;
import dev.ferry.moe.offload.PinnedExpertCache;
import dev.ferry.moe.offload.UploadSource;
import dev.ferry.moe.placement.ExpertProjection;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;

/**
 * Streams routed experts to the device for offloaded prefill, double buffered: chunk {@code i+1}
 * is copied on a copy stream into one device buffer while the compute stream works on chunk
 * {@code i} from the other; events order the two (a copy into a buffer waits for the compute
 * that last read it). Sources come from the {@link PinnedExpertCache}: its pinned copy or
 * registered memory, a pinned staging buffer for experts a capped cache does not hold, or the
 * pageable compute copy. Runs of consecutive expert ids that follow each other in one host
 * buffer go up as one copy per projection (a whole layer in three copies when it is prefetched),
 * because each copy has a fixed cost. Nothing here blocks the host except reusing a staging buffer.
 *
 * <p>Which experts layer {@code l+1} needs is known only after its router ran, which needs layer
 * {@code l}'s output; so across layers the session uploads ahead only when the batch is big
 * enough that every expert is expected to be routed (then the whole next layer is the routed
 * set), and otherwise pipelines the chunks of one layer.
 */
public final class ExpertUploader implements AutoCloseable {

    /** A layer's routed experts go up in at most this many chunks. */
    private static final int PIPELINE_CHUNKS = 4;

    /** Alignment of experts in the pinned copy; consecutive experts less than this apart go in one copy. */
    private static final long SLOT_ALIGNMENT = 64L << 10;

    /** Offsets inside a chunk buffer are aligned like this (cudaMalloc aligns to 256 bytes). */
    private static final long ALIGN = 256;

    private final Device device;
    private final PinnedExpertCache cache;
    private final long chunkBytes;
    private final HybridStats stats;
    private final Stream copyStream;
    private final DeviceBuffer[] buffers = new DeviceBuffer[2];
    private final Event[] bufferFree = new Event[2];
    private final PinnedHostBuffer[] staging = new PinnedHostBuffer[2];
    private final Event[] stagingFree = new Event[2];
    private final List<Pending> pending = new ArrayList<>();
    private int next;

    /** One expert's three matrices inside an uploaded chunk. */
    public record ExpertSlot(int expert, DeviceBuffer gate, DeviceBuffer up, DeviceBuffer down) { }

    /** A chunk on its way: the slots are valid once {@code ready} completes and until the buffer is released. */
    public record Chunk(int buffer, List<ExpertSlot> slots, Event ready) { }

    /** One copy: bytes copied, of which {@code padding} lay between experts (alignment of the pinned copy). */
    private record Source(HostMemoryKind kind, OptionalInt node, long bytes, long padding) { }

    private record Pending(HybridStats.Phase phase, Event start, Event end, List<Source> sources) { }

    /**
     * @param chunkBytes size of each of the two device buffers; at least one expert's three
     *     matrices of the largest layer
     */
    public ExpertUploader(Device device, PinnedExpertCache cache, long chunkBytes, HybridStats stats) {
        this.device = device;
        this.cache = cache;
        this.chunkBytes = chunkBytes;
        this.stats = stats;
        this.copyStream = device.createStream();
        try {
            for (int i = 0; i < 2; i++) {
                buffers[i] = device.allocate(chunkBytes);
            }
            if (cache.stagesMisses()) {
                for (int i = 0; i < 2; i++) {
                    staging[i] = device.allocatePinned(chunkBytes);
                }
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Bytes one expert of {@code layer} takes in a chunk buffer, at most. */
    public long expertFootprint(int layer) {
        long total = 0;
        for (ExpertProjection p : ExpertProjection.values()) {
            total += slotBytes(cache.expertBytes(layer, p));
        }
        return total;
    }

    /**
     * Room for one expert matrix of {@code bytes} in a chunk buffer: the device copy mirrors the
     * gaps of the host copy inside a run (the pinned copy aligns each expert to 64 KiB), so plan
     * for that alignment.
     */
    public static long slotBytes(long bytes) {
        return (bytes + SLOT_ALIGNMENT - 1) / SLOT_ALIGNMENT * SLOT_ALIGNMENT;
    }

    public long chunkBytes() {
        return chunkBytes;
    }

    /** Splits {@code experts} (ascending ids) into chunks that each fit one buffer. */
    public List<int[]> plan(int layer, int[] experts) {
        long each = expertFootprint(layer);
        if (each > chunkBytes) {
            throw new IllegalStateException("one expert of layer " + layer + " needs " + each + " bytes, more than the "
                    + chunkBytes + "-byte upload buffer");
        }
        // Up to PIPELINE_CHUNKS chunks, so the upload of one overlaps the compute of the one before.
        int perChunk = (int) Math.max(1, Math.min(chunkBytes / each, (experts.length + PIPELINE_CHUNKS - 1) / PIPELINE_CHUNKS));
        List<int[]> chunks = new ArrayList<>();
        for (int i = 0; i < experts.length; i += perChunk) {
            chunks.add(java.util.Arrays.copyOfRange(experts, i, Math.min(experts.length, i + perChunk)));
        }
        return chunks;
    }

    /**
     * Queues the copies of {@code experts} of {@code layer} into the next buffer, after the compute
     * that last read that buffer ({@link #release}); returns where each expert will be.
     */
    public Chunk upload(HybridStats.Phase phase, int layer, int[] experts) {
        int b = next;
        next ^= 1;
        if (bufferFree[b] != null) {
            copyStream.waitFor(bufferFree[b]);
            bufferFree[b].close();
            bufferFree[b] = null;
        }
        PinnedHostBuffer stage = staging[b];
        if (stage != null && stagingFree[b] != null) {
            // The host is about to overwrite the staging buffer: the copy that read it must be done.
            stagingFree[b].synchronize();
            stagingFree[b].close();
            stagingFree[b] = null;
        }
        Event start = copyStream.record();
        DeviceBuffer[][] parts = new DeviceBuffer[experts.length][3];
        List<Source> sources = new ArrayList<>();
        long at = 0;
        long stagedAt = 0;
        for (ExpertProjection p : ExpertProjection.values()) {
            long bytes = cache.expertBytes(layer, p);
            Run run = null;
            int previous = -2;
            long previousSrc = 0;
            long previousDst = 0;
            for (int i = 0; i < experts.length; i++) {
                int e = experts[i];
                UploadSource src = cache.pinned(layer, p, e).orElse(null);
                if (src == null && stage != null) {
                    src = cache.stage(layer, p, e, stage, stagedAt);
                    stagedAt = align(stagedAt + bytes);
                } else if (src == null) {
                    src = cache.pageable(layer, p, e);
                }
                long gap = src.offset() - previousSrc - bytes;
                long dst;
                if (run != null && e == previous + 1 && src.buffer() == run.buffer && gap >= 0 && gap < SLOT_ALIGNMENT) {
                    // The next expert follows in the same host buffer: one copy covers both (and the padding between).
                    dst = previousDst + (src.offset() - previousSrc);
                    run.end = src.offset() + bytes;
                    run.useful += bytes;
                } else {
                    flush(run, b, sources);
                    dst = at;
                    run = new Run(src.buffer(), src.offset(), dst, src.offset() + bytes, bytes);
                }
                at = Math.max(at, align(dst + bytes));
                if (at > chunkBytes) {
                    throw new IllegalStateException("layer " + layer + ": " + experts.length + " experts need more than the "
                            + chunkBytes + "-byte upload buffer");
                }
                parts[i][p.ordinal()] = buffers[b].slice(dst, bytes);
                previous = e;
                previousSrc = src.offset();
                previousDst = dst;
            }
            flush(run, b, sources);
        }
        List<ExpertSlot> slots = new ArrayList<>(experts.length);
        for (int i = 0; i < experts.length; i++) {
            slots.add(new ExpertSlot(experts[i], parts[i][0], parts[i][1], parts[i][2]));
        }
        Event ready = copyStream.record();
        if (stage != null && stagedAt > 0) {
            stagingFree[b] = copyStream.record();
        }
        pending.add(new Pending(phase, start, ready, sources));
        return new Chunk(b, List.copyOf(slots), ready);
    }

    /** Consecutive experts whose bytes follow each other in one host buffer. */
    private static final class Run {
        final PinnedHostBuffer buffer;
        final long begin;
        final long dst;
        long end;
        long useful;

        Run(PinnedHostBuffer buffer, long begin, long dst, long end, long useful) {
            this.buffer = buffer;
            this.begin = begin;
            this.dst = dst;
            this.end = end;
            this.useful = useful;
        }
    }

    private void flush(Run run, int b, List<Source> sources) {
        if (run == null) {
            return;
        }
        long bytes = run.end - run.begin;
        copyStream.copyToDeviceAsync(run.buffer, run.begin, buffers[b], run.dst, bytes);
        sources.add(new Source(run.buffer.kind(), run.buffer.numaNode(), bytes, bytes - run.useful));
    }

    /** The compute that reads {@code chunk} is queued up to {@code computeDone}; its buffer may be reused after it. */
    public void release(Chunk chunk, Event computeDone) {
        if (bufferFree[chunk.buffer()] != null) {
            bufferFree[chunk.buffer()].close();
        }
        bufferFree[chunk.buffer()] = computeDone;
    }

    /** Waits for the queued uploads and adds their bytes and device-clock seconds to the statistics. */
    public void settle() {
        copyStream.synchronize();
        for (Pending p : pending) {
            p.end().synchronize();
            double seconds = p.end().secondsSince(p.start());
            long total = p.sources().stream().mapToLong(Source::bytes).sum();
            for (Source s : p.sources()) {
                // Each copy gets its share of the chunk's time by bytes.
                stats.addUpload(p.phase(), s.kind(), s.node(), s.bytes(), 1, total > 0 ? seconds * s.bytes() / total : 0);
                stats.addUploadPadding(p.phase(), s.padding());
            }
            p.start().close();
            p.end().close();
        }
        pending.clear();
    }

    private static long align(long bytes) {
        return (bytes + ALIGN - 1) / ALIGN * ALIGN;
    }

    @Override
    public void close() {
        for (int i = 0; i < 2; i++) {
            if (bufferFree[i] != null) {
                bufferFree[i].close();
            }
            if (stagingFree[i] != null) {
                stagingFree[i].close();
            }
            if (buffers[i] != null) {
                buffers[i].close();
            }
            if (staging[i] != null) {
                staging[i].close();
            }
        }
        for (Pending p : pending) {
            p.start().close();
            p.end().close();
        }
        pending.clear();
        copyStream.close();
    }
}
