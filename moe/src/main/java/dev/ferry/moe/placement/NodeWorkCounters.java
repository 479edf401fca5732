package dev.ferry.moe.placement;

import java.util.List;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * What each node's workers computed in the expert layers: (token, expert) pairs, expert weight
 * rows multiplied (gate + up + down rows per pair) and pairs whose weights were read from a
 * copy that the plan did not put on that node. Under {@code shard} and {@code mirror} the last
 * is zero by construction; tests read these to check routing.
 */
public final class NodeWorkCounters {

    private final List<Integer> nodes;
    private final AtomicLongArray pairs;
    private final AtomicLongArray rows;
    private final AtomicLongArray remotePairs;
    private volatile AtomicLongArray expertPairs = new AtomicLongArray(0);
    private volatile int layers;
    private volatile int experts;

    public NodeWorkCounters(List<Integer> nodes) {
        this.nodes = List.copyOf(nodes);
        this.pairs = new AtomicLongArray(nodes.size());
        this.rows = new AtomicLongArray(nodes.size());
        this.remotePairs = new AtomicLongArray(nodes.size());
    }

    public List<Integer> nodes() {
        return nodes;
    }

    /** Records one layer's work on the node at {@code nodeIndex} (position in {@link #nodes()}). */
    public void record(int nodeIndex, long pairCount, long rowCount, boolean localCopy) {
        pairs.addAndGet(nodeIndex, pairCount);
        rows.addAndGet(nodeIndex, rowCount);
        if (!localCopy) {
            remotePairs.addAndGet(nodeIndex, pairCount);
        }
    }

    /** Sizes the per-expert counts for a model of {@code layerCount} layers and {@code expertCount} experts (resets them when the shape changes). */
    public synchronized void shape(int layerCount, int expertCount) {
        if (layerCount != layers || expertCount != experts) {
            expertPairs = new AtomicLongArray(Math.multiplyExact(Math.multiplyExact(nodes.size(), layerCount), expertCount));
            layers = layerCount;
            experts = expertCount;
        }
    }

    /** Records that the node at {@code nodeIndex} computed {@code count} tokens of {@code expert} in {@code layer}. */
    public void recordExpert(int nodeIndex, int layer, int expert, long count) {
        expertPairs.addAndGet((nodeIndex * layers + layer) * experts + expert, count);
    }

    /** Tokens of {@code expert} in {@code layer} computed on {@code node}. */
    public long expertPairs(int node, int layer, int expert) {
        if (layer < 0 || layer >= layers || expert < 0 || expert >= experts) {
            throw new IndexOutOfBoundsException("layer " + layer + " expert " + expert + " outside " + layers + " x " + experts);
        }
        return expertPairs.get((index(node) * layers + layer) * experts + expert);
    }

    public long pairs(int node) {
        return pairs.get(index(node));
    }

    public long expertRows(int node) {
        return rows.get(index(node));
    }

    /** Pairs computed on {@code node} from weights the plan placed elsewhere (or spread over nodes). */
    public long remotePairs(int node) {
        return remotePairs.get(index(node));
    }

    public long totalPairs() {
        long sum = 0;
        for (int i = 0; i < nodes.size(); i++) {
            sum += pairs.get(i);
        }
        return sum;
    }

    public void reset() {
        for (int i = 0; i < nodes.size(); i++) {
            pairs.set(i, 0);
            rows.set(i, 0);
            remotePairs.set(i, 0);
        }
        AtomicLongArray perExpert = expertPairs;
        for (int i = 0; i < perExpert.length(); i++) {
            perExpert.set(i, 0);
        }
    }

    private int index(int node) {
        int i = nodes.indexOf(node);
        if (i < 0) {
            throw new IllegalArgumentException("no counters for node " + node + " (nodes " + nodes + ")");
        }
        return i;
    }

    /** E.g. {@code node 0: 120 pairs, 92160 rows; node 1: ...}. */
    public String describe() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < nodes.size(); i++) {
            sb.append(i == 0 ? "" : "; ").append("node ").append(nodes.get(i)).append(": ").append(pairs.get(i))
                    .append(" expert pairs, ").append(rows.get(i)).append(" rows");
            if (remotePairs.get(i) > 0) {
                sb.append(" (").append(remotePairs.get(i)).append(" pairs from non-local copies)");
            }
        }
        return sb.toString();
    }
}
