package dev.ferry.moe.kernel;

import dev.ferry.hostmemory.WorkerPool;
import dev.ferry.loader.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Matrix products of quantized weights with float32 activations on the CPU, split over a
 * {@link WorkerPool}. An instance owns its scratch (rounded activations, per-worker decode
 * buffers), so calls never allocate; use one instance per thread of control.
 *
 * <p>Each call first rounds the activation rows to the weights' {@link ActivationFormat} (per
 * {@link Precision}), in parallel. Work is then cut into items of (matrix or expert, row range)
 * that workers take from a shared counter. Within an item, rows go in groups of four: the
 * group's weights are decoded to float32 one 512-column chunk at a time (kept in L1) and
 * multiplied with every token of the current token tile (its activations copied per work item:
 * on AVX2 runs of {@link Gemm#OUTER_TOKENS} tokens column-major for the outer-product block, the
 * rest in groups of 4 tokens interleaved per vector for the dot-product blocks), so each weight
 * block is read from memory once per tile. On AVX-512 a row group goes through all its chunks
 * before the next, so the whole tile stays in L2 ({@link #TILE_BYTES}); on AVX2 blocks of
 * {@link #ROW_BLOCK} rows go chunk by chunk, so only a chunk's slice of a larger tile must stay
 * in cache ({@link #BLOCK_TILE_BYTES}: 64 tokens of a 7168-column matrix in one tile instead of
 * four). A few
 * tokens per row (decode, small expert batches) use decode-and-dot kernels instead: integer ones
 * ({@link IntDot}: Q4_K, Q6_K and, on AVX2, Q4_0 and Q5_K, on Q8_K or Q8_0 activations kept as
 * int16) or float ones ({@link FusedDot}) where they exist.
 *
 * <p>Weights, activations and outputs must be readable from the pool's threads (memory from a
 * shared or global arena, or a mapped file), not from a confined arena.
 */
public final class MatMul implements AutoCloseable {

    /**
     * Columns decoded at once per weight row (a multiple of every block size): four decoded rows
     * and four tokens' activations of a chunk (16 KiB) stay in a 32 KiB L1.
     */
    static final int CHUNK = 512;
    /** Bytes of rounded activations one token tile may occupy (half of a Zen 4 L2). */
    private static final long TILE_BYTES = 512 * 1024;
    private static final int ROW_GROUP = 4;
    /** Rows {@link #rowBlocks} takes through each chunk before the next chunk (a multiple of ROW_GROUP). */
    private static final int ROW_BLOCK = 32;
    /**
     * Bytes of activations one token tile may occupy on the row-block path: only a chunk's slice
     * of them is in use at a time, so this bounds memory, not cache.
     */
    private static final long BLOCK_TILE_BYTES = 2L * 1024 * 1024;
    /** Up to this many tokens per weight row, fused decode-and-dot beats decoding to scratch. */
    private static final int FUSED_MAX_TOKENS = 2;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private final WorkerPool pool;
    private final long maxCols;
    private final int maxTokens;
    private final Precision precision;
    private final Arena arena;
    private final MemorySegment act;
    private final MemorySegment sums;
    /** Q8_0/Q8_K-rounded activations as int16, and their block scales, for the integer kernels. */
    private final MemorySegment actInts;
    private final MemorySegment actScales;
    private final MemorySegment[] decoded;
    /** Per worker: the current token tile's activations, interleaved in groups of 4 tokens. */
    private final MemorySegment[] groups;
    /**
     * Per worker: the first grouped pair of the tile now in {@link #groups} (-1: none this call).
     * Consecutive items of one expert, or of one matrix, share their tokens; they are
     * interleaved once.
     */
    private final int[] groupedFrom;
    private final float[][] partial;
    private final int[] identity;
    private final AtomicInteger nextItem = new AtomicInteger();
    private final WorkerPool.Task roundTask = this::roundSlice;
    private final WorkerPool.Task computeTask = this::computeSlice;

    // Per-call state, written by the calling thread before pool.run (which publishes it).
    private ActivationFormat format;
    private MemorySegment x;
    private long xStride;
    private int roundTokens;
    private GgmlType type;
    /** Most tokens per row for which the integer decode kernel runs (0: never). */
    private int integerMaxTokens;
    private MemorySegment data;
    private long rowBytes;
    private long cols;
    private long expertBytes;
    private MemorySegment out;
    private long outStride;
    private int[] tokenIndex;
    private int[] outputRow;
    private int tile;
    private int[] itemExpert = new int[16];
    private int[] itemRowStart = new int[16];
    private int[] itemRowEnd = new int[16];
    private int[] itemPairStart = new int[16];
    private int[] itemPairCount = new int[16];
    private int items;

    /** A kernel instance with {@link Precision#QUANTIZED} activations. */
    public MatMul(WorkerPool pool, long maxCols, int maxTokens) {
        this(pool, maxCols, maxTokens, Precision.QUANTIZED);
    }

    /**
     * @param pool      workers to split rows over
     * @param maxCols   largest {@code cols} (input width) of any matrix this instance multiplies
     * @param maxTokens most activation rows per call
     * @param precision how activations are rounded
     */
    public MatMul(WorkerPool pool, long maxCols, int maxTokens, Precision precision) {
        this.pool = Objects.requireNonNull(pool, "pool");
        this.precision = Objects.requireNonNull(precision, "precision");
        if (maxCols < 1 || maxTokens < 1) {
            throw new IllegalArgumentException("MatMul needs maxCols >= 1 and maxTokens >= 1, got "
                    + maxCols + " and " + maxTokens);
        }
        this.maxCols = maxCols;
        this.maxTokens = maxTokens;
        this.arena = Arena.ofShared();
        this.act = arena.allocate(Math.multiplyExact(maxCols * 4, (long) maxTokens), 64);
        this.sums = arena.allocate(Math.multiplyExact((maxCols + 15) / 16 * 4, (long) maxTokens), 64);
        this.actInts = arena.allocate(Math.multiplyExact(maxCols * 2, (long) maxTokens), 64);
        this.actScales = arena.allocate(Math.multiplyExact((maxCols + 31) / 32 * 4, (long) maxTokens), 64);
        int workers = pool.size();
        this.decoded = new MemorySegment[workers];
        this.groups = new MemorySegment[workers];
        this.groupedFrom = new int[workers];
        this.partial = new float[workers][];
        for (int i = 0; i < workers; i++) {
            decoded[i] = arena.allocate(Math.max(4L * ROW_GROUP * CHUNK, IntDot.scratchBytes(maxCols)), 64);
            // a token tile holds at most tileBytes() of activations (see setMatrix)
            groups[i] = arena.allocate(Math.min(tileBytes(), Math.multiplyExact(4 * maxCols, (long) maxTokens)), 64);
            partial[i] = new float[(Gemm.OUTER_PRODUCT ? ROW_BLOCK : ROW_GROUP) * maxTokens];
        }
        this.identity = new int[maxTokens];
        for (int i = 0; i < maxTokens; i++) {
            identity[i] = i;
        }
    }

    public Precision precision() {
        return precision;
    }

    /**
     * {@code y[t][r] = sum_c w[r][c] * x[t][c]} for {@code t < tokens}. {@code x} holds
     * {@code tokens} rows of {@code w.cols()} floats, {@code xStride} floats apart; {@code y}
     * receives {@code tokens} rows of {@code w.rows()} floats, {@code yStride} floats apart.
     */
    public void matmul(WeightMatrix w, MemorySegment x, long xStride, int tokens, MemorySegment y, long yStride) {
        checkCommon(w.type(), w.rows(), w.cols(), x, xStride, tokens, y, yStride);
        checkRows(y, tokens - 1, yStride, w.rows(), "y");
        roundActivations(w.type(), w.cols(), x, xStride, tokens);
        setMatrix(w.type(), w.data(), w.rows(), w.cols(), 0, y, yStride, identity, identity);
        items = 0;
        addItems(0, w.rows(), chunkRows(w.rows(), 1), 0, tokens);
        compute();
    }

    /**
     * {@code mul_mat_id}: for every (expert, token, output row) in {@code batch},
     * {@code out[outputRow][r] = sum_c w[expert][r][c] * x[token][c]}. Experts nobody chose are
     * not touched; each chosen expert's weights are read once per token tile.
     */
    public void matmulExperts(ExpertWeights w, MemorySegment x, long xStride, ExpertBatch batch, MemorySegment out,
                              long outStride) {
        Objects.requireNonNull(batch, "batch");
        if (batch.experts() > w.experts()) {
            throw new IllegalArgumentException("expert batch indexes " + batch.experts() + " experts, tensor has "
                    + w.experts());
        }
        if (batch.size() == 0) {
            return;
        }
        int tokens = batch.tokenBound();
        checkCommon(w.type(), w.rows(), w.cols(), x, xStride, tokens, out, outStride);
        batch.group();
        int maxRow = 0;
        for (int p = 0; p < batch.size(); p++) {
            maxRow = Math.max(maxRow, batch.groupedRow(p));
        }
        checkRows(out, maxRow, outStride, w.rows(), "out");
        roundActivations(w.type(), w.cols(), x, xStride, tokens);
        setMatrix(w.type(), w.data(), w.rows(), w.cols(), w.expertBytes(), out, outStride, batch.groupedTokens(),
                batch.groupedRows());
        int active = batch.activeExperts();
        int chunkRows = chunkRows(w.rows(), active);
        items = 0;
        for (int i = 0; i < active; i++) {
            addItems(batch.expert(i), w.rows(), chunkRows, batch.groupOffset(i), batch.tokenCount(i));
        }
        compute();
    }

    private void checkCommon(GgmlType t, long rows, long c, MemorySegment xs, long xStr, int tokens, MemorySegment ys,
                             long yStr) {
        Objects.requireNonNull(xs, "x");
        Objects.requireNonNull(ys, "output");
        if (c > maxCols) {
            throw new IllegalArgumentException("matrix has " + c + " columns, this MatMul was made for at most "
                    + maxCols);
        }
        if (tokens < 1 || tokens > maxTokens) {
            throw new IllegalArgumentException("tokens must be 1.." + maxTokens + ", got " + tokens);
        }
        if (xStr < c) {
            throw new IllegalArgumentException("x stride " + xStr + " is smaller than the " + c + " columns");
        }
        if (yStr < rows) {
            throw new IllegalArgumentException("output stride " + yStr + " is smaller than the " + rows + " rows");
        }
        long need = ((tokens - 1) * xStr + c) * 4;
        if (xs.byteSize() < need) {
            throw new IllegalArgumentException("x holds " + xs.byteSize() + " bytes, " + tokens + " rows of " + c
                    + " floats at stride " + xStr + " need " + need);
        }
    }

    private static void checkRows(MemorySegment ys, long lastRow, long stride, long rows, String name) {
        long need = (lastRow * stride + rows) * 4;
        if (ys.byteSize() < need) {
            throw new IllegalArgumentException(name + " holds " + ys.byteSize() + " bytes, writing row " + lastRow
                    + " of " + rows + " floats at stride " + stride + " needs " + need);
        }
    }

    private void roundActivations(GgmlType t, long c, MemorySegment xs, long xStr, int tokens) {
        format = precision.activationFormat(t);
        x = xs;
        xStride = xStr;
        cols = c;
        roundTokens = tokens;
        if (tokens == 1) {
            roundSlice(0, 1); // a few microseconds: not worth waking the workers twice
        } else {
            pool.run(roundTask);
        }
    }

    private void roundSlice(int worker, int workers) {
        int from = (int) ((long) roundTokens * worker / workers);
        int to = (int) ((long) roundTokens * (worker + 1) / workers);
        long groups = cols / 16;
        boolean ints = format == ActivationFormat.Q8_0 || format == ActivationFormat.Q8_1
                || format == ActivationFormat.Q8_K;
        for (int t = from; t < to; t++) {
            if (ints) {
                ActivationQuantizer.roundQ8(format, x, t * xStride * 4, cols, act, t * cols, actInts, t * cols,
                        actScales, t * (cols / 32), sums, t * groups);
                continue;
            }
            ActivationQuantizer.round(format, x, t * xStride * 4, cols, act, t * cols);
            for (long g = 0; g < groups; g++) {
                float s = 0;
                for (long i = t * cols + 16 * g, end = i + 16; i < end; i++) {
                    s += act.getAtIndex(FLOAT, i);
                }
                sums.setAtIndex(FLOAT, t * groups + g, s);
            }
        }
    }

    private void setMatrix(GgmlType t, MemorySegment d, long rows, long c, long eb, MemorySegment o, long os,
                           int[] tokIdx, int[] rowIdx) {
        type = t;
        integerMaxTokens = IntDot.AVAILABLE && precision == Precision.QUANTIZED && IntDot.handles(t)
                ? IntDot.maxTokens(t) : 0;
        data = d;
        rowBytes = t.rowBytes(c);
        cols = c;
        expertBytes = eb;
        out = o;
        outStride = os;
        tokenIndex = tokIdx;
        outputRow = rowIdx;
        tile = (int) Math.max(1, Math.min(maxTokens, tileBytes() / (4 * c)));
    }

    /** Bytes of activations a token tile may occupy: see {@link #TILE_BYTES} and {@link #BLOCK_TILE_BYTES}. */
    private static long tileBytes() {
        return Gemm.OUTER_PRODUCT ? BLOCK_TILE_BYTES : TILE_BYTES;
    }

    /** Rows per work item: about four items per worker overall, a multiple of the row group. */
    private int chunkRows(long rows, int groups) {
        long target = Math.max(1, (long) pool.size() * 4 / groups);
        long chunk = (rows + target - 1) / target;
        chunk = (chunk + ROW_GROUP - 1) / ROW_GROUP * ROW_GROUP;
        return (int) Math.max(ROW_GROUP, Math.min(chunk, rows));
    }

    /**
     * The items of one matrix or expert: its token tiles ({@link #tileStep}) outermost, then its
     * row ranges, so that consecutive items share a tile and a worker copies a tile's activations
     * once, not once per row range.
     */
    private void addItems(int expert, long rows, int chunkRows, int pairStart, int pairCount) {
        int step = tileStep(pairCount);
        for (int t0 = 0; t0 < pairCount; t0 += step) {
            int nt = Math.min(step, pairCount - t0);
            for (long r = 0; r < rows; r += chunkRows) {
                addItem(expert, r, Math.min(rows, r + chunkRows), pairStart + t0, nt);
            }
        }
    }

    private void addItem(int expert, long r0, long r1, int pairStart, int pairCount) {
        if (items == itemExpert.length) {
            // grows to the largest call's item count, then stays
            int n = 2 * items;
            itemExpert = Arrays.copyOf(itemExpert, n);
            itemRowStart = Arrays.copyOf(itemRowStart, n);
            itemRowEnd = Arrays.copyOf(itemRowEnd, n);
            itemPairStart = Arrays.copyOf(itemPairStart, n);
            itemPairCount = Arrays.copyOf(itemPairCount, n);
        }
        itemExpert[items] = expert;
        itemRowStart[items] = (int) r0;
        itemRowEnd[items] = (int) r1;
        itemPairStart[items] = pairStart;
        itemPairCount[items] = pairCount;
        items++;
    }

    private void compute() {
        nextItem.set(0);
        Arrays.fill(groupedFrom, -1);
        pool.run(computeTask);
    }

    private void computeSlice(int worker, int workers) {
        MemorySegment scratch = decoded[worker];
        MemorySegment grouped = groups[worker];
        float[] part = partial[worker];
        int item;
        while ((item = nextItem.getAndIncrement()) < items) {
            long base = itemExpert[item] * expertBytes;
            // one token tile per item (addItems)
            int p0 = itemPairStart[item];
            int nt = itemPairCount[item];
            if (usesGemm(nt) && groupedFrom[worker] != p0) {
                interleaveTile(p0, nt, grouped);
                groupedFrom[worker] = p0;
            }
            if (Gemm.OUTER_PRODUCT && usesGemm(nt)) {
                rowBlocks(base, itemRowStart[item], itemRowEnd[item], p0, nt, scratch, grouped, part);
                continue;
            }
            for (long r = itemRowStart[item]; r < itemRowEnd[item]; r += ROW_GROUP) {
                int nr = (int) Math.min(ROW_GROUP, itemRowEnd[item] - r);
                rowGroup(base, r, nr, p0, nt, scratch, grouped, part);
            }
        }
    }

    /**
     * Tokens per tile for an item of n tokens. On the outer-product path: as few tiles as
     * {@link #tile} allows, split evenly and rounded up to whole runs of
     * {@link Gemm#OUTER_TOKENS} where that still fits (64 tokens of a 7168-column matrix, 18 per
     * tile, go as four runs of 16 instead of 18, 18, 18 and 10, three of them with leftovers).
     */
    private int tileStep(int n) {
        if (!Gemm.OUTER_PRODUCT || n <= tile) {
            return tile;
        }
        int tiles = (n + tile - 1) / tile;
        int even = (n + tiles - 1) / tiles;
        int runs = (even + Gemm.OUTER_TOKENS - 1) / Gemm.OUTER_TOKENS * Gemm.OUTER_TOKENS;
        return runs <= tile ? runs : even;
    }

    /** True when nt tokens per row go through the decoded-rows FMA kernels (not a decode-and-dot kernel). */
    private boolean usesGemm(int nt) {
        return nt > integerMaxTokens && !(nt <= FUSED_MAX_TOKENS && Kernels.WIDE && FusedDot.handles(type));
    }

    /**
     * The rounded activations of grouped pairs p0..p0+nt-1, from byte t * 4 * cols for token t:
     * where {@link Gemm#OUTER_PRODUCT}, runs of {@link Gemm#OUTER_TOKENS} tokens column-major for
     * {@link Gemm#outer4x2}; then each complete group of 4 of the rest interleaved for
     * {@link Gemm#dot2x4}.
     */
    private void interleaveTile(int p0, int nt, MemorySegment grouped) {
        long colBytes = cols * 4;
        int t = 0;
        for (; Gemm.OUTER_PRODUCT && t + Gemm.OUTER_TOKENS <= nt; t += Gemm.OUTER_TOKENS) {
            Gemm.transpose(act, tokenIndex, p0 + t, colBytes, cols, grouped, (long) t * colBytes);
        }
        for (; t + 4 <= nt; t += 4) {
            Gemm.interleave(act, tokenIndex[p0 + t] * colBytes, tokenIndex[p0 + t + 1] * colBytes,
                    tokenIndex[p0 + t + 2] * colBytes, tokenIndex[p0 + t + 3] * colBytes, cols, grouped,
                    (long) t * colBytes);
        }
    }

    /** Rows r..r+nr-1 against the tokens of grouped pairs p0..p0+nt-1. */
    private void rowGroup(long base, long r, int nr, int p0, int nt, MemorySegment scratch, MemorySegment grouped,
                          float[] part) {
        if (nt <= integerMaxTokens) {
            long groupBytes = cols / 16 * 4;
            long scaleBytes = cols / 32 * 4;
            for (int u = 0; u < nt; u++) {
                long token = tokenIndex[p0 + u];
                long outBase = outputRow[p0 + u] * outStride + r;
                int i = 0;
                if (type == GgmlType.Q4_K) {
                    for (; i + 2 <= nr; i += 2) {
                        IntDot.dotQ4KPair(data, base + (r + i) * rowBytes, base + (r + i + 1) * rowBytes, cols,
                                actInts, token * cols * 2, actScales, token * scaleBytes, sums, token * groupBytes,
                                out, outBase + i, scratch);
                    }
                }
                for (; i < nr; i++) {
                    float v = IntDot.dot(type, data, base + (r + i) * rowBytes, cols, actInts, token * cols * 2,
                            actScales, token * scaleBytes, sums, token * groupBytes, scratch);
                    out.setAtIndex(FLOAT, outBase + i, v);
                }
            }
            return;
        }
        if (nt <= FUSED_MAX_TOKENS && Kernels.WIDE && FusedDot.handles(type)) {
            long groupBytes = cols / 16 * 4;
            for (int u = 0; u < nt; u++) {
                long token = tokenIndex[p0 + u];
                long outBase = outputRow[p0 + u] * outStride + r;
                for (int i = 0; i < nr; i++) {
                    float v = FusedDot.dot(type, data, base + (r + i) * rowBytes, cols, act, token * cols * 4,
                            sums, token * groupBytes);
                    out.setAtIndex(FLOAT, outBase + i, v);
                }
            }
            return;
        }
        Arrays.fill(part, 0, ROW_GROUP * nt, 0f);
        for (long c0 = 0; c0 < cols; c0 += CHUNK) {
            chunk(base, r, nr, c0, p0, nt, scratch, grouped, part, 0);
        }
        writeRows(r, nr, p0, nt, part, 0);
    }

    /**
     * Rows r0..r1-1 against the tokens of grouped pairs p0..p0+nt-1, {@link #ROW_BLOCK} rows at a
     * time and chunk by chunk across each block's row groups: while a chunk's columns are in use,
     * only that slice of the tile's activations needs to stay in cache (nt x 2 KiB), not the whole
     * tile, so a tile can hold {@link #BLOCK_TILE_BYTES} and each weight is decoded once for that
     * many tokens.
     */
    private void rowBlocks(long base, long r0, long r1, int p0, int nt, MemorySegment scratch, MemorySegment grouped,
                           float[] part) {
        for (long rb = r0; rb < r1; rb += ROW_BLOCK) {
            int rows = (int) Math.min(ROW_BLOCK, r1 - rb);
            Arrays.fill(part, 0, rows * nt, 0f);
            for (long c0 = 0; c0 < cols; c0 += CHUNK) {
                for (int i = 0; i < rows; i += ROW_GROUP) {
                    chunk(base, rb + i, Math.min(ROW_GROUP, rows - i), c0, p0, nt, scratch, grouped, part, i * nt);
                }
            }
            for (int i = 0; i < rows; i += ROW_GROUP) {
                writeRows(rb + i, Math.min(ROW_GROUP, rows - i), p0, nt, part, i * nt);
            }
        }
    }

    /**
     * Columns c0..c0+CHUNK-1 of rows r..r+nr-1 against the tile's nt tokens, added to
     * {@code part[q + i * nt + u]} for row i and token u.
     */
    private void chunk(long base, long r, int nr, long c0, int p0, int nt, MemorySegment scratch, MemorySegment grouped,
                       float[] part, int q) {
        long colBytes = cols * 4;
        long n = Math.min(CHUNK, cols - c0);
        MemorySegment wseg;
        long w0;
        long ws;
        if (type == GgmlType.F32) {
            wseg = data;
            w0 = base + r * rowBytes + c0 * 4;
            ws = rowBytes;
        } else {
            for (int i = 0; i < nr; i++) {
                RowDecoder.decode(type, data, base + (r + i) * rowBytes, c0, n, scratch, (long) i * CHUNK);
            }
            wseg = scratch;
            w0 = 0;
            ws = 4L * CHUNK;
        }
        long ac = c0 * 4;
        int t = 0;
        if (nr == ROW_GROUP) {
            for (; Gemm.OUTER_PRODUCT && t + Gemm.OUTER_TOKENS <= nt; t += Gemm.OUTER_TOKENS) {
                // run t / OUTER_TOKENS holds cols columns of OUTER_TOKENS floats
                Gemm.outer4x2(wseg, w0, ws, grouped, (long) t * colBytes + Gemm.OUTER_TOKENS * ac, n, part, q + t, nt);
            }
            long steps = Gemm.steps(n);
            for (; t + 4 <= nt; t += 4) {
                // group t/4 holds 4 * cols floats; chunk c0 starts 4 * c0 floats into it
                long g = (long) t * colBytes + 4 * ac;
                if (Gemm.FOUR_BY_FOUR) {
                    Gemm.dot4x4(wseg, w0, ws, grouped, g, steps, part, q + t, nt);
                } else {
                    Gemm.dot2x4(wseg, w0, ws, grouped, g, steps, part, q + t, nt);
                    Gemm.dot2x4(wseg, w0 + 2 * ws, ws, grouped, g, steps, part, q + t + 2 * nt, nt);
                }
                if (steps * Gemm.L < n) {
                    // columns past the last whole vector (widths that are not a multiple of it)
                    for (int i = 0; i < ROW_GROUP; i++) {
                        for (int u = t; u < t + 4; u++) {
                            part[q + i * nt + u] += Gemm.dotRange(wseg, w0 + i * ws, act,
                                    tokenIndex[p0 + u] * colBytes + ac, steps * Gemm.L, n);
                        }
                    }
                }
            }
            for (; t < nt; t++) {
                Gemm.dot4x1(wseg, w0, ws, act, tokenIndex[p0 + t] * colBytes + ac, n, part, q + t, nt);
            }
        } else {
            for (int i = 0; i < nr; i++) {
                for (int u = 0; u < nt; u++) {
                    part[q + i * nt + u] += Gemm.dot1x1(wseg, w0 + i * ws, act,
                            tokenIndex[p0 + u] * colBytes + ac, n);
                }
            }
        }
    }

    /** Rows r..r+nr-1 of the output for the tile's tokens, from {@code part[q + i * nt + u]}. */
    private void writeRows(long r, int nr, int p0, int nt, float[] part, int q) {
        for (int i = 0; i < nr; i++) {
            for (int u = 0; u < nt; u++) {
                out.setAtIndex(FLOAT, outputRow[p0 + u] * outStride + r + i, part[q + i * nt + u]);
            }
        }
    }

    @Override
    public void close() {
        arena.close();
    }
}
