package dev.ferry.moe.arch;

import dev.ferry.moe.kernel.ExpertBatch;
import dev.ferry.moe.kernel.MatMul;
import dev.ferry.moe.model.ModelConfig;
import dev.ferry.moe.ops.VectorOps;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The routed-expert feed-forward block: router logits, softmax over all experts, top-k,
 * optional renormalisation, then each selected expert's SwiGLU through {@code mul_mat_id}, so
 * each expert's weights are read once per micro-batch and unselected experts not at all.
 * Results of a token's experts are summed in selection order, as ggml does.
 */
final class MoeBlock {

    private final ModelConfig c;
    private final MatMul matmul;
    private final int used;
    private final MemorySegment routerLogits;
    private final int[] selected;
    private final float[] weights;
    private final ExpertBatch byToken;
    private final ExpertBatch bySlot;
    private final MemorySegment gate;
    private final MemorySegment up;
    private final MemorySegment slotOut;

    /** Slots are (token, j) pairs: {@code microBatch * expert_used_count} rows; {@code matmul} must take that many. */
    MoeBlock(ModelConfig c, int microBatch, MatMul matmul, Arena arena) {
        this.c = c;
        this.matmul = matmul;
        this.used = c.expertUsedCount();
        int slots = microBatch * used;
        long embd = c.embeddingLength();
        long ff = c.expertFeedForwardLength();
        this.routerLogits = arena.allocate((long) microBatch * c.expertCount() * Float.BYTES, 64);
        this.selected = new int[slots];
        this.weights = new float[slots];
        this.byToken = new ExpertBatch(c.expertCount(), slots);
        this.bySlot = new ExpertBatch(c.expertCount(), slots);
        this.gate = arena.allocate(slots * ff * Float.BYTES, 64);
        this.up = arena.allocate(slots * ff * Float.BYTES, 64);
        this.slotOut = arena.allocate(slots * embd * Float.BYTES, 64);
    }

    static int slotsFor(ModelConfig c, int microBatch) {
        return microBatch * c.expertUsedCount();
    }

    /** Computes the block for {@code n} normalised rows of {@code in}; writes {@code n} rows to {@code out}. */
    void forward(QwenLayer layer, MemorySegment in, int n, MemorySegment out) {
        int experts = c.expertCount();
        long embd = c.embeddingLength();
        long ff = c.expertFeedForwardLength();
        matmul.matmul(layer.router(), in, embd, n, routerLogits, experts);
        route(n, experts);
        byToken.clear();
        bySlot.clear();
        for (int s = 0; s < n * used; s++) {
            byToken.add(selected[s], s / used, s);
            bySlot.add(selected[s], s, s);
        }
        matmul.matmulExperts(layer.gateExperts(), in, embd, byToken, gate, ff);
        matmul.matmulExperts(layer.upExperts(), in, embd, byToken, up, ff);
        VectorOps.swiglu(gate, 0, up, 0, (long) n * used * ff);
        matmul.matmulExperts(layer.downExperts(), gate, ff, bySlot, slotOut, embd);
        for (int t = 0; t < n; t++) {
            long o = t * embd;
            int s0 = t * used;
            VectorOps.scale(slotOut, (long) s0 * embd, weights[s0], out, o, embd);
            for (int j = 1; j < used; j++) {
                VectorOps.axpy(weights[s0 + j], slotOut, (long) (s0 + j) * embd, out, o, embd);
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
}
