package dev.ferry.moe.arch;

import dev.ferry.hostmemory.WorkerPool;
import dev.ferry.loader.GgmlType;
import dev.ferry.moe.kernel.ExpertWeights;
import dev.ferry.moe.kernel.KernelWarmUp;
import dev.ferry.moe.kernel.MatMul;
import dev.ferry.moe.kernel.WeightMatrix;
import dev.ferry.moe.model.InferenceSession;
import dev.ferry.moe.model.ModelConfig;
import dev.ferry.moe.model.SessionOptions;
import dev.ferry.moe.ops.Rope;
import dev.ferry.moe.ops.VectorOps;
import dev.ferry.moe.plan.Home;
import dev.ferry.moe.quant.BlockDecoder;
import dev.ferry.moe.quant.Decoders;
import dev.ferry.moe.runtime.KvCache;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Forward pass of a qwen3 / qwen3moe model on the CPU, one micro-batch at a time. All
 * activations live in native buffers allocated once per session; a micro-batch allocates
 * nothing on the heap.
 */
final class QwenSession implements InferenceSession {

    /** Longest a warm-up step runs; a kernel not compiled by then is left to compile in use. */
    static final long WARM_UP_STEP_NANOS = 8_000_000_000L;
    /** Longest the whole warm-up runs. */
    private static final long WARM_UP_TOTAL_NANOS = 20_000_000_000L;
    /**
     * Below this many weight bytes per token a whole reply takes about as long as a warm-up
     * (the demo model: 1.1 s of generation against a 2.7 s warm-up), so none runs.
     */
    static final long WARM_UP_MIN_BYTES_PER_TOKEN = 64L << 20;

    private final QwenModel model;
    private final ModelConfig c;
    private final WorkerPool pool;
    private final MatMul matmul;
    private final KvCache cache;
    private final Rope rope;
    private final Arena arena = Arena.ofShared();
    private final int microBatch;
    private final int contextLength;
    private final MoeBlock moe;

    private final MemorySegment x;
    private final MemorySegment xb;
    private final MemorySegment q;
    private final MemorySegment k;
    private final MemorySegment v;
    private final MemorySegment attn;
    private final MemorySegment ffnGate;
    private final MemorySegment ffnUp;
    private final MemorySegment scores;
    /** Per worker: the key or value row attention is reading, as float32 (one-token steps). */
    private final MemorySegment rows;
    /**
     * Prefill: the layer's key and value rows of every position attended, as float32, converted
     * once per layer instead of once per query token and position. Grown as prompts reach further
     * (its own arena, replaced when it grows).
     */
    private Arena rowsArena;
    private MemorySegment keyRows;
    private MemorySegment valueRows;
    private int rowsCapacity;

    private final WorkerPool.Task attentionTask = this::attentionWorker;
    private final WorkerPool.Task convertRowsTask = this::convertRowsWorker;
    private final MicroBatches.Steps steps = new MicroBatches.Steps() {
        @Override
        public void forward(int[] tokens, int offset, int n) {
            QwenSession.this.forward(tokens, offset, n);
        }

        @Override
        public void project(int from, int n, MemorySegment logits, long logitsOffset) {
            projectLogits(from, n, logits, logitsOffset);
        }
    };
    private int attnLayer;
    private int attnTokens;
    private int attnStartPos;

    private int position;

    QwenSession(QwenModel model, SessionOptions options) {
        // With placed copies of the dense tensors (--no-mmap, --numa shard/mirror) this session reads those.
        this.model = options.placement().dense().map(d -> model.withCopies(d::data)).orElse(model);
        this.c = model.config();
        this.pool = options.pool();
        this.microBatch = options.microBatch();
        this.contextLength = options.contextLength();
        long embd = c.embeddingLength();
        long ub = microBatch;
        long maxCols = Math.max(Math.max(embd, (long) c.headCount() * c.valueLength()),
                Math.max(c.feedForwardLength(), c.expertFeedForwardLength()));
        int maxRows = c.isMixtureOfExperts() ? MoeBlock.slotsFor(c, microBatch) : microBatch;
        this.matmul = new MatMul(pool, maxCols, maxRows, options.precision());
        // Layers the plan puts on a device keep their keys and values there.
        java.util.function.IntPredicate onHost = options.hybrid()
                .<java.util.function.IntPredicate>map(h -> l -> h.plan().tensor("blk." + l + ".attn_q.weight").home() == Home.HOST)
                .orElse(l -> true);
        this.cache = new KvCache(c.layerCount(), onHost, contextLength, c.keyWidth(), c.valueWidth(),
                options.keyType(), options.valueType());
        this.rope = new Rope(c.ropeDimensions(), c.ropeFreqBase(), contextLength);
        this.x = floats(ub * embd);
        this.xb = floats(ub * embd);
        this.q = floats(ub * c.queryWidth());
        this.k = floats(ub * c.keyWidth());
        this.v = floats(ub * c.valueWidth());
        this.attn = floats(ub * c.headCount() * c.valueLength());
        long ff = Math.max(c.feedForwardLength(), 1);
        this.ffnGate = c.isMixtureOfExperts() ? null : floats(ub * ff);
        this.ffnUp = c.isMixtureOfExperts() ? null : floats(ub * ff);
        this.scores = floats((long) pool.size() * c.groupSize() * contextLength);
        this.rows = floats((long) pool.size() * Math.max(c.keyLength(), c.valueLength()));
        this.moe = c.isMixtureOfExperts()
                ? new MoeBlock(c, microBatch, matmul, arena, options.placement(), maxCols, options.precision()) : null;
    }

    private MemorySegment floats(long n) {
        return arena.allocate(Math.max(n, 1) * Float.BYTES, 64);
    }

    @Override
    public ModelConfig config() {
        return c;
    }

    @Override
    public int position() {
        return position;
    }

    @Override
    public int contextLength() {
        return contextLength;
    }

    @Override
    public void rewind(int newPosition) {
        if (newPosition < 0 || newPosition > position) {
            throw new IllegalArgumentException("cannot rewind to " + newPosition + " from " + position);
        }
        position = newPosition;
    }

    @Override
    public void evaluate(int[] tokens, int offset, int count, boolean allLogits, MemorySegment logits) {
        MicroBatches.evaluate(c, position, contextLength, microBatch, tokens, offset, count, allLogits, logits, steps);
    }

    /** Runs the transformer over {@code n} tokens, leaving the final hidden states in {@code x}. */
    private void forward(int[] tokens, int offset, int n) {
        embed(tokens, offset, n);
        for (int l = 0; l < c.layerCount(); l++) {
            layer(l, n);
        }
        position += n;
    }

    /** Token embeddings of {@code n} tokens into the hidden states. */
    void embed(int[] tokens, int offset, int n) {
        long embd = c.embeddingLength();
        WeightMatrix emb = model.tokenEmbedding();
        BlockDecoder decoder = Decoders.of(emb.type());
        long rowBytes = emb.type().rowBytes(embd);
        for (int t = 0; t < n; t++) {
            decoder.decodeRow(emb.data(), tokens[offset + t] * rowBytes, x, t * embd * Float.BYTES, embd);
        }
    }

    /** Block {@code l} on the CPU for {@code n} tokens at the current position. */
    void layer(int l, int n) {
        long embd = c.embeddingLength();
        QwenLayer layer = model.layer(l);
        attentionBlock(l, layer, n);
        for (int t = 0; t < n; t++) {
            VectorOps.rmsNorm(x, t * embd, layer.ffnNorm(), 0, xb, t * embd, embd, c.rmsEpsilon());
        }
        if (layer.isMixtureOfExperts()) {
            moe.forward(l, layer, xb, n, xb);
            addRows(xb, n);
        } else {
            denseFeedForward(layer, n);
        }
    }

    /** Moves the position on after a batch whose layers ran elsewhere too (the hybrid session). */
    void advance(int n) {
        position += n;
    }

    /** The hidden states: {@code microBatch x n_embd} floats. */
    MemorySegment hidden() {
        return x;
    }

    /** A scratch of {@code microBatch x n_embd} floats the hybrid session may use for expert inputs. */
    MemorySegment scratch() {
        return xb;
    }

    /** The routed experts of layer {@code l} on the CPU workers, with the routing decided on the device. */
    void routedExperts(int l, MemorySegment in, int n, int[] ids, float[] weights, MemorySegment out) {
        moe.forwardRouted(l, model.layer(l), in, n, ids, weights, out);
    }

    private void attentionBlock(int l, QwenLayer layer, int n) {
        long embd = c.embeddingLength();
        for (int t = 0; t < n; t++) {
            VectorOps.rmsNorm(x, t * embd, layer.attnNorm(), 0, xb, t * embd, embd, c.rmsEpsilon());
        }
        matmul.matmul(layer.wq(), xb, embd, n, q, c.queryWidth());
        matmul.matmul(layer.wk(), xb, embd, n, k, c.keyWidth());
        matmul.matmul(layer.wv(), xb, embd, n, v, c.valueWidth());
        int hd = c.keyLength();
        for (int t = 0; t < n; t++) {
            int pos = position + t;
            long qo = (long) t * c.queryWidth();
            for (int h = 0; h < c.headCount(); h++) {
                VectorOps.rmsNorm(q, qo + (long) h * hd, layer.qNorm(), 0, q, qo + (long) h * hd, hd, c.rmsEpsilon());
            }
            long ko = (long) t * c.keyWidth();
            for (int h = 0; h < c.headCountKv(); h++) {
                VectorOps.rmsNorm(k, ko + (long) h * hd, layer.kNorm(), 0, k, ko + (long) h * hd, hd, c.rmsEpsilon());
            }
            rope.apply(q, qo, c.headCount(), hd, pos);
            rope.apply(k, ko, c.headCountKv(), hd, pos);
            cache.store(l, pos, k, ko, v, (long) t * c.valueWidth());
        }
        attnLayer = l;
        attnTokens = n;
        attnStartPos = position;
        if (n > 1) {
            ensureRows(position + n);
            pool.run(convertRowsTask);
        }
        pool.run(attentionTask);
        long attnWidth = (long) c.headCount() * c.valueLength();
        matmul.matmul(layer.wo(), attn, attnWidth, n, xb, embd);
        addRows(xb, n);
    }

    /** Grows the float32 copies of the layer's key and value rows to hold {@code positions} rows. */
    private void ensureRows(int positions) {
        if (positions <= rowsCapacity) {
            return;
        }
        int capacity = Math.min(contextLength, Math.max(positions, 2 * rowsCapacity));
        if (rowsArena != null) {
            rowsArena.close();
        }
        rowsArena = Arena.ofShared();
        keyRows = rowsArena.allocate((long) capacity * c.keyWidth() * Float.BYTES, 64);
        valueRows = rowsArena.allocate((long) capacity * c.valueWidth() * Float.BYTES, 64);
        rowsCapacity = capacity;
    }

    /** Converts this worker's share of the key and value rows of positions 0..attnStartPos+attnTokens-1. */
    private void convertRowsWorker(int worker, int workers) {
        int positions = attnStartPos + attnTokens;
        int from = (int) ((long) positions * worker / workers);
        int to = (int) ((long) positions * (worker + 1) / workers);
        cache.readKeyRows(attnLayer, from, to - from, keyRows, (long) from * c.keyWidth());
        cache.readValueRows(attnLayer, from, to - from, valueRows, (long) from * c.valueWidth());
    }

    /**
     * Causal grouped-query attention for the (token, KV head) pairs of one worker: each key and
     * value row is read (converted from float16) once and used for all query heads of its group,
     * four heads at a time where the group allows ({@link VectorOps#dot4}, and in prefill
     * {@link VectorOps#weightedRows4}): independent sums instead of one FMA chain per head.
     */
    private void attentionWorker(int worker, int workers) {
        int heads = c.headCount();
        int group = c.groupSize();
        long items = (long) attnTokens * c.headCountKv();
        int hd = c.keyLength();
        int vd = c.valueLength();
        float scale = (float) (1.0 / Math.sqrt(hd));
        long sBase = (long) worker * group * contextLength;
        long row = (long) worker * Math.max(hd, vd);
        // items dealt round robin: under the causal mask a later token costs more, so contiguous
        // ranges gave the last worker most of the work in prefill
        for (long item = worker; item < items; item += workers) {
            int t = (int) (item / c.headCountKv());
            int kvh = (int) (item % c.headCountKv());
            int last = attnStartPos + t;
            long qo = (long) t * c.queryWidth() + (long) kvh * group * hd;
            for (int p = 0; p <= last; p++) {
                // one token: this row converted from the cache now; prefill: the layer's float32 copy
                MemorySegment key = rows;
                long ko = row;
                if (attnTokens == 1) {
                    cache.readKey(attnLayer, p, kvh * hd, rows, row, hd);
                } else {
                    key = keyRows;
                    ko = (long) p * c.keyWidth() + (long) kvh * hd;
                }
                int j = 0;
                for (; j + 4 <= group; j += 4) {
                    VectorOps.dot4(key, ko, q, qo + (long) j * hd, hd, hd, scale, scores,
                            sBase + (long) j * contextLength + p, contextLength);
                }
                for (; j < group; j++) {
                    VectorOps.set(scores, sBase + (long) j * contextLength + p,
                            VectorOps.dot(key, ko, q, qo + (long) j * hd, hd) * scale);
                }
            }
            long oo = (long) t * heads * vd + (long) kvh * group * vd;
            for (int j = 0; j < group; j++) {
                VectorOps.softmax(scores, sBase + (long) j * contextLength, last + 1);
            }
            // prefill has every value row as float32: four heads' weighted sums at a time
            int first = 0;
            if (attnTokens > 1) {
                for (; first + 4 <= group; first += 4) {
                    VectorOps.weightedRows4(scores, sBase + (long) first * contextLength, contextLength, valueRows,
                            (long) kvh * vd, c.valueWidth(), last + 1, vd, attn, oo + (long) first * vd, vd);
                }
            }
            if (first == group) {
                continue;
            }
            attn.asSlice((oo + (long) first * vd) * Float.BYTES, (long) (group - first) * vd * Float.BYTES)
                    .fill((byte) 0);
            for (int p = 0; p <= last; p++) {
                MemorySegment value = rows;
                long vo = row;
                if (attnTokens == 1) {
                    cache.readValue(attnLayer, p, kvh * vd, rows, row, vd);
                } else {
                    value = valueRows;
                    vo = (long) p * c.valueWidth() + (long) kvh * vd;
                }
                for (int j = first; j < group; j++) {
                    VectorOps.axpy(VectorOps.get(scores, sBase + (long) j * contextLength + p), value, vo, attn,
                            oo + (long) j * vd, vd);
                }
            }
        }
    }

    private void denseFeedForward(QwenLayer layer, int n) {
        long embd = c.embeddingLength();
        long ff = c.feedForwardLength();
        matmul.matmul(layer.ffnGate(), xb, embd, n, ffnGate, ff);
        matmul.matmul(layer.ffnUp(), xb, embd, n, ffnUp, ff);
        for (int t = 0; t < n; t++) {
            VectorOps.swiglu(ffnGate, t * ff, ffnUp, t * ff, ff);
        }
        matmul.matmul(layer.ffnDown(), ffnGate, ff, n, xb, embd);
        addRows(xb, n);
    }

    /** Residual: {@code x[t] += src[t]} for the first {@code n} rows. */
    private void addRows(MemorySegment src, int n) {
        long embd = c.embeddingLength();
        VectorOps.add(src, 0, x, 0, n * embd);
    }

    /** Final norm and output head for rows {@code [from, from+n)} of {@code x}. */
    void projectLogits(int from, int n, MemorySegment logits, long logitsOffset) {
        long embd = c.embeddingLength();
        for (int t = 0; t < n; t++) {
            VectorOps.rmsNorm(x, (from + t) * embd, model.outputNorm(), 0, xb, t * embd, embd, c.rmsEpsilon());
        }
        MemorySegment out = logits.asSlice(logitsOffset * Float.BYTES);
        matmul.matmul(model.output(), xb, embd, n, out, c.vocabSize());
    }

    @Override
    public KernelWarmUp.Report warmUp() {
        return warmUp(name -> true, WARM_UP_MIN_BYTES_PER_TOKEN, WARM_UP_STEP_NANOS);
    }

    /** The warm-up over the tensors {@code onHost} accepts (by GGUF name): the ones this session's CPU multiplies. */
    KernelWarmUp.Report warmUp(Predicate<String> onHost, long minBytesPerToken, long stepNanos) {
        WarmUpPlan plan = warmUpPlan(onHost);
        if (plan.matrices().isEmpty()) {
            return KernelWarmUp.Report.skipped("no matrix is multiplied on the CPU");
        }
        if (plan.bytesPerToken() < minBytesPerToken) {
            return KernelWarmUp.Report.skipped(String.format(Locale.ROOT,
                    "the weights read per token (%.1f MiB) are too few to be worth it", plan.bytesPerToken() / 1048576.0));
        }
        return KernelWarmUp.run(plan.matrices(), matmul.precision(), stepNanos, WARM_UP_TOTAL_NANOS);
    }

    /** One matrix per weight type, the type streaming the most bytes per token first, and the bytes of all. */
    record WarmUpPlan(List<WeightMatrix> matrices, long bytesPerToken) {
    }

    /**
     * The plan over the matrices {@code onHost} accepts; each type's representative is its
     * tensor that streams the most bytes per token (an expert tensor: expert_used_count experts).
     */
    WarmUpPlan warmUpPlan(Predicate<String> onHost) {
        Map<GgmlType, Long> bytes = new HashMap<>();
        Map<GgmlType, PlannedMatrix> largest = new HashMap<>();
        for (PlannedMatrix m : multipliedMatrices()) {
            if (onHost.test(m.name())) {
                bytes.merge(m.matrix().type(), m.perToken(), Long::sum);
                largest.merge(m.matrix().type(), m, (a, b) -> b.perToken() > a.perToken() ? b : a);
            }
        }
        List<WeightMatrix> order = bytes.entrySet().stream()
                .sorted(Map.Entry.<GgmlType, Long>comparingByValue().reversed())
                .map(e -> largest.get(e.getKey()).matrix())
                .toList();
        return new WarmUpPlan(order, bytes.values().stream().mapToLong(Long::longValue).sum());
    }

    /** A matrix the forward pass multiplies, by its GGUF name, and the bytes it streams per token. */
    private record PlannedMatrix(String name, WeightMatrix matrix, long perToken) {
    }

    private List<PlannedMatrix> multipliedMatrices() {
        List<PlannedMatrix> all = new ArrayList<>();
        for (int l = 0; l < c.layerCount(); l++) {
            QwenLayer layer = model.layer(l);
            String p = "blk." + l + ".";
            String[] names = {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate_inp", "ffn_gate", "ffn_up", "ffn_down"};
            WeightMatrix[] matrices = {layer.wq(), layer.wk(), layer.wv(), layer.wo(), layer.router(), layer.ffnGate(),
                    layer.ffnUp(), layer.ffnDown()};
            for (int i = 0; i < names.length; i++) {
                if (matrices[i] != null) {
                    all.add(new PlannedMatrix(p + names[i] + ".weight", matrices[i], matrices[i].rows() * matrices[i].rowBytes()));
                }
            }
            String[] expertNames = {"ffn_gate_exps", "ffn_up_exps", "ffn_down_exps"};
            ExpertWeights[] experts = {layer.gateExperts(), layer.upExperts(), layer.downExperts()};
            for (int i = 0; i < expertNames.length; i++) {
                if (experts[i] != null) {
                    all.add(new PlannedMatrix(p + expertNames[i] + ".weight", experts[i].expert(0),
                            c.expertUsedCount() * experts[i].expertBytes()));
                }
            }
        }
        WeightMatrix out = model.output();
        all.add(new PlannedMatrix(out == model.tokenEmbedding() ? "token_embd.weight" : "output.weight", out,
                out.rows() * out.rowBytes()));
        return all;
    }

    @Override
    public void close() {
        if (moe != null) {
            moe.close();
        }
        matmul.close();
        cache.close();
        if (rowsArena != null) {
            rowsArena.close();
        }
        arena.close();
    }
}
