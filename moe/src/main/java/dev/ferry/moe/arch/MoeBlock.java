package dev.ferry.moe.arch;

import dev.ferry.hostmemory.ThreadWorkerPool;
import dev.ferry.hostmemory.WorkerPool;
import dev.ferry.moe.kernel.ExpertBatch;
import dev.ferry.moe.kernel.ExpertWeights;
import dev.ferry.moe.kernel.MatMul;
import dev.ferry.moe.kernel.Precision;
import dev.ferry.moe.model.ModelConfig;
import dev.ferry.moe.ops.VectorOps;
import dev.ferry.moe.placement.CpuPlacement;
import dev.ferry.moe.placement.NodeWorkCounters;
import dev.ferry.moe.placement.PlacedExperts;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The routed-expert feed-forward block: router logits, softmax over all experts, top-k,
 * optional renormalisation, then each selected expert's SwiGLU through {@code mul_mat_id}, so
 * each expert's weights are read once per micro-batch and unselected experts not at all.
 * Results of a token's experts are summed in selection order, as ggml does.
 *
 * <p>With placed experts the (token, expert) pairs are split into one lane per NUMA node: under
 * {@code shard} each pair goes to the node that holds its expert, otherwise the chosen experts
 * are shared out over the nodes by token count and each node reads its own copy. Lanes run at
 * the same time, each with its own {@link MatMul} on its node's pool; every pair is computed by
 * exactly one lane with the same kernel calls as on one pool, so results do not depend on the
 * placement.
 */
final class MoeBlock implements AutoCloseable {

    private final ModelConfig c;
    private final MatMul router;
    private final int used;
    private final MemorySegment routerLogits;
    private final int[] selected;
    private final float[] weights;
    private final MemorySegment gate;
    private final MemorySegment up;
    private final MemorySegment slotOut;
    private final PlacedExperts placed;
    private final NodeWorkCounters counters;
    private final Lane[] lanes;
    /** Per layer, the placed view of each lane's node (lanes are in the order of {@link PlacedExperts#nodes()}); null rows for dense layers. */
    private final PlacedExperts.NodeView[][] views;
    private final int[] laneOfSlot;
    private final int[] expertLane;
    private final long[] laneLoad;
    private final int[] tokensPerExpert;
    private final ThreadWorkerPool laneDrivers;
    private final WorkerPool.Task driveTask = (worker, workers) -> runLane(worker);

    private MemorySegment currentIn;
    private int currentLayer;

    /** Slots are (token, j) pairs: {@code microBatch * expert_used_count} rows; {@code matmul} must take that many. */
    MoeBlock(ModelConfig c, int microBatch, MatMul matmul, Arena arena, CpuPlacement placement, long maxCols, Precision precision) {
        this.c = c;
        this.router = matmul;
        this.used = c.expertUsedCount();
        int slots = microBatch * used;
        long embd = c.embeddingLength();
        long ff = c.expertFeedForwardLength();
        this.routerLogits = arena.allocate((long) microBatch * c.expertCount() * Float.BYTES, 64);
        this.selected = new int[slots];
        this.weights = new float[slots];
        this.gate = arena.allocate(slots * ff * Float.BYTES, 64);
        this.up = arena.allocate(slots * ff * Float.BYTES, 64);
        this.slotOut = arena.allocate(slots * embd * Float.BYTES, 64);
        this.placed = placement.experts().orElse(null);
        this.counters = placement.counters();
        List<Integer> nodes = placed == null ? List.of(placement.denseNode()) : placed.nodes();
        this.lanes = new Lane[nodes.size()];
        for (int i = 0; i < lanes.length; i++) {
            WorkerPool pool = placement.poolOf(nodes.get(i));
            MatMul own = pool == placement.densePool() ? null : new MatMul(pool, maxCols, slots, precision);
            lanes[i] = new Lane(i, nodes.get(i), counters.nodes().indexOf(nodes.get(i)), own != null ? own : matmul, own != null, slots);
        }
        this.views = new PlacedExperts.NodeView[c.layerCount()][];
        if (placed != null) {
            for (int l : placed.layers()) {
                if (l < views.length) {
                    views[l] = placed.views(l).toArray(PlacedExperts.NodeView[]::new);
                }
            }
        }
        this.laneOfSlot = new int[slots];
        this.expertLane = new int[c.expertCount()];
        this.laneLoad = new long[lanes.length];
        this.tokensPerExpert = new int[c.expertCount()];
        counters.shape(c.layerCount(), c.expertCount());
        this.laneDrivers = lanes.length > 1 ? new ThreadWorkerPool(lanes.length, "ferry-moe-nodes") : null;
    }

    static int slotsFor(ModelConfig c, int microBatch) {
        return microBatch * c.expertUsedCount();
    }

    /** Computes the block of layer {@code l} for {@code n} normalised rows of {@code in}; writes {@code n} rows to {@code out}. */
    void forward(int l, QwenLayer layer, MemorySegment in, int n, MemorySegment out) {
        int experts = c.expertCount();
        long embd = c.embeddingLength();
        router.matmul(layer.router(), in, embd, n, routerLogits, experts);
        route(n, experts);
        computeExperts(l, layer, in, n, out);
    }

    /**
     * The experts of layer {@code l} with the routing already decided elsewhere (the router ran on
     * the GPU): {@code ids} and {@code expertWeights} hold {@code n * expert_used_count} entries,
     * token-major, in selection order.
     */
    void forwardRouted(int l, QwenLayer layer, MemorySegment in, int n, int[] ids, float[] expertWeights, MemorySegment out) {
        int slots = n * used;
        for (int s = 0; s < slots; s++) {
            if (ids[s] < 0 || ids[s] >= c.expertCount()) {
                throw new IllegalArgumentException("layer " + l + ": routed expert id " + ids[s] + " is outside 0.."
                        + (c.expertCount() - 1));
            }
        }
        System.arraycopy(ids, 0, selected, 0, slots);
        System.arraycopy(expertWeights, 0, weights, 0, slots);
        computeExperts(l, layer, in, n, out);
    }

    private void computeExperts(int l, QwenLayer layer, MemorySegment in, int n, MemorySegment out) {
        long embd = c.embeddingLength();
        assignLanes(l, layer, n);
        currentIn = in;
        currentLayer = l;
        if (laneDrivers == null) {
            runLane(0);
        } else {
            laneDrivers.run(driveTask);
        }
        for (int t = 0; t < n; t++) {
            long o = t * embd;
            int s0 = t * used;
            VectorOps.scale(slotOut, (long) s0 * embd, weights[s0], out, o, embd);
            for (int j = 1; j < used; j++) {
                VectorOps.axpy(weights[s0 + j], slotOut, (long) (s0 + j) * embd, out, o, embd);
            }
        }
        currentIn = null;
    }

    /** Picks each lane's weights for layer {@code l} and fills its batches with the pairs it computes. */
    private void assignLanes(int l, QwenLayer layer, int n) {
        int slots = n * used;
        for (Lane lane : lanes) {
            if (placed == null) {
                lane.use(layer.gateExperts(), layer.upExperts(), layer.downExperts(), null, null, true);
            } else {
                if (views[l] == null) {
                    throw new IllegalStateException("layer " + l + " has no placed experts");
                }
                PlacedExperts.NodeView v = views[l][lane.index];
                lane.use(v.gate(), v.up(), v.down(), v.localIndex(), v.experts(), v.local());
            }
        }
        if (lanes.length == 1) {
            Arrays.fill(laneOfSlot, 0, slots, 0);
        } else if (placed.fixedHomes()) {
            for (int s = 0; s < slots; s++) {
                laneOfSlot[s] = homeLane(selected[s]);
            }
        } else {
            // Every node holds every expert: hand the chosen experts out by token count, ascending expert id.
            Arrays.fill(tokensPerExpert, 0);
            for (int s = 0; s < slots; s++) {
                tokensPerExpert[selected[s]]++;
            }
            Arrays.fill(laneLoad, 0);
            for (int e = 0; e < tokensPerExpert.length; e++) {
                if (tokensPerExpert[e] > 0) {
                    int best = 0;
                    for (int i = 1; i < lanes.length; i++) {
                        if (laneLoad[i] < laneLoad[best]) {
                            best = i;
                        }
                    }
                    expertLane[e] = best;
                    laneLoad[best] += tokensPerExpert[e];
                }
            }
            for (int s = 0; s < slots; s++) {
                laneOfSlot[s] = expertLane[selected[s]];
            }
        }
        for (Lane lane : lanes) {
            lane.byToken.clear();
            lane.bySlot.clear();
            lane.slotCount = 0;
        }
        for (int s = 0; s < slots; s++) {
            Lane lane = lanes[laneOfSlot[s]];
            int local = lane.localIndex == null ? selected[s] : lane.localIndex[selected[s]];
            if (local < 0) {
                throw new IllegalStateException("layer " + l + ": expert " + selected[s] + " was sent to node " + lane.node
                        + ", which does not hold it");
            }
            lane.byToken.add(local, s / used, s);
            lane.bySlot.add(local, s, s);
            lane.slots[lane.slotCount++] = s;
        }
    }

    private int homeLane(int expert) {
        for (int i = 0; i < lanes.length; i++) {
            if (lanes[i].localIndex != null && lanes[i].localIndex[expert] >= 0) {
                return i;
            }
        }
        throw new IllegalStateException("expert " + expert + " is held by no node");
    }

    /** Gate, up, SwiGLU and down for the pairs of lane {@code i}, on that lane's node. */
    private void runLane(int i) {
        Lane lane = lanes[i];
        int pairs = lane.byToken.size();
        if (pairs == 0) {
            return;
        }
        long embd = c.embeddingLength();
        long ff = c.expertFeedForwardLength();
        lane.matmul.matmulExperts(lane.gate, currentIn, embd, lane.byToken, gate, ff);
        lane.matmul.matmulExperts(lane.up, currentIn, embd, lane.byToken, up, ff);
        for (int k = 0; k < lane.slotCount; k++) {
            long o = lane.slots[k] * ff;
            VectorOps.swiglu(gate, o, up, o, ff);
        }
        lane.matmul.matmulExperts(lane.down, gate, ff, lane.bySlot, slotOut, embd);
        if (lane.counterIndex >= 0) {
            counters.record(lane.counterIndex, pairs, pairs * (lane.gate.rows() + lane.up.rows() + lane.down.rows()), lane.local);
            ExpertBatch batch = lane.byToken;
            for (int k = 0, active = batch.activeExperts(); k < active; k++) {
                int local = batch.expert(k);
                int global = lane.globalIds == null ? local : lane.globalIds.get(local);
                counters.recordExpert(lane.counterIndex, currentLayer, global, batch.tokenCount(k));
            }
        }
    }

    /** Softmax over all experts, top-k by probability, weights renormalised to sum 1 when configured. */
    private void route(int n, int experts) {
        for (int t = 0; t < n; t++) {
            long o = (long) t * experts;
            VectorOps.softmax(routerLogits, o, experts);
            int s0 = t * used;
            for (int j = 0; j < used; j++) {
                int best = -1;
                float bestP = Float.NEGATIVE_INFINITY;
                for (int e = 0; e < experts; e++) {
                    float p = VectorOps.get(routerLogits, o + e);
                    if (p > bestP && !chosen(s0, j, e)) {
                        best = e;
                        bestP = p;
                    }
                }
                selected[s0 + j] = best;
                weights[s0 + j] = bestP;
            }
            if (c.normalizeExpertWeights()) {
                float sum = 0;
                for (int j = 0; j < used; j++) {
                    sum += weights[s0 + j];
                }
                for (int j = 0; j < used; j++) {
                    weights[s0 + j] /= sum;
                }
            }
        }
    }

    private boolean chosen(int s0, int upTo, int expert) {
        for (int j = 0; j < upTo; j++) {
            if (selected[s0 + j] == expert) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void close() {
        if (laneDrivers != null) {
            laneDrivers.close();
        }
        for (Lane lane : lanes) {
            if (lane.ownsMatMul) {
                lane.matmul.close();
            }
        }
    }

    /** One node's share of an expert layer: its kernel instance, its weights for the current layer and its pairs. */
    private static final class Lane {
        final int index;
        final int node;
        final int counterIndex;
        final MatMul matmul;
        final boolean ownsMatMul;
        final int capacity;
        final int[] slots;
        /** Batches by the expert count of the tensors they index (shards differ in size between layers). */
        final Map<Integer, ExpertBatch[]> batches = new HashMap<>();
        ExpertWeights gate;
        ExpertWeights up;
        ExpertWeights down;
        int[] localIndex;
        List<Integer> globalIds;
        boolean local;
        ExpertBatch byToken;
        ExpertBatch bySlot;
        int slotCount;

        Lane(int index, int node, int counterIndex, MatMul matmul, boolean ownsMatMul, int capacity) {
            this.index = index;
            this.node = node;
            this.counterIndex = counterIndex;
            this.matmul = matmul;
            this.ownsMatMul = ownsMatMul;
            this.capacity = capacity;
            this.slots = new int[capacity];
        }

        void use(ExpertWeights g, ExpertWeights u, ExpertWeights d, int[] index, List<Integer> ids, boolean isLocal) {
            globalIds = ids;
            gate = g;
            up = u;
            down = d;
            localIndex = index;
            local = isLocal;
            int experts = g == null ? 1 : g.experts();
            ExpertBatch[] pair = batches.get(experts);
            if (pair == null) {
                pair = new ExpertBatch[] {new ExpertBatch(experts, capacity), new ExpertBatch(experts, capacity)};
                batches.put(experts, pair);
            }
            byToken = pair[0];
            bySlot = pair[1];
        }
    }
}
