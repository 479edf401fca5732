package dev.ferry.moe.kernel;

import java.util.Arrays;

/**
 * The router's choices for one micro-batch, grouped by expert for {@code mul_mat_id}: a list of
 * (expert, token, output row) triples. The MoE layer fills it with {@link #add} (in any order);
 * {@link MatMul#matmulExperts} then reads each selected expert's weights once for all of its
 * tokens and skips experts nobody chose. Reusable: {@link #clear()} and fill again; nothing is
 * allocated after construction.
 */
public final class ExpertBatch {

    private final int experts;
    private final int capacity;
    private final int[] expertOf;
    private final int[] tokenOf;
    private final int[] rowOf;
    private final int[] counts;
    private final int[] groupStart;
    private final int[] activeExperts;
    private final int[] groupedTokens;
    private final int[] groupedRows;
    private int size;
    private int active;
    private int tokenBound;
    private boolean grouped;

    /**
     * @param experts  number of experts in the tensors this batch indexes
     * @param capacity most (token, expert) pairs one batch holds (tokens x experts used per token)
     */
    public ExpertBatch(int experts, int capacity) {
        if (experts < 1 || capacity < 1) {
            throw new IllegalArgumentException("expert batch needs experts >= 1 and capacity >= 1, got "
                    + experts + " and " + capacity);
        }
        this.experts = experts;
        this.capacity = capacity;
        this.expertOf = new int[capacity];
        this.tokenOf = new int[capacity];
        this.rowOf = new int[capacity];
        this.counts = new int[experts];
        this.groupStart = new int[experts + 1];
        this.activeExperts = new int[Math.min(experts, capacity)];
        this.groupedTokens = new int[capacity];
        this.groupedRows = new int[capacity];
    }

    /** Empties the batch. */
    public void clear() {
        size = 0;
        tokenBound = 0;
        grouped = false;
    }

    /**
     * Records that activation row {@code token} goes through {@code expert} and the result is
     * written to output row {@code outputRow}.
     */
    public void add(int expert, int token, int outputRow) {
        if (expert < 0 || expert >= experts) {
            throw new IndexOutOfBoundsException("expert " + expert + " outside 0.." + (experts - 1));
        }
        if (token < 0 || outputRow < 0) {
            throw new IndexOutOfBoundsException("negative token " + token + " or output row " + outputRow);
        }
        if (size == capacity) {
            throw new IllegalStateException("expert batch is full (" + capacity + " pairs)");
        }
        expertOf[size] = expert;
        tokenOf[size] = token;
        rowOf[size] = outputRow;
        size++;
        tokenBound = Math.max(tokenBound, token + 1);
        grouped = false;
    }

    /** Number of (token, expert) pairs. */
    public int size() {
        return size;
    }

    /** Number of experts in the indexed tensors. */
    public int experts() {
        return experts;
    }

    /** One more than the largest token index used (activation rows read). */
    public int tokenBound() {
        return tokenBound;
    }

    /** Number of distinct experts chosen. */
    public int activeExperts() {
        group();
        return active;
    }

    /** The {@code i}-th chosen expert (ascending expert id). */
    public int expert(int i) {
        group();
        return activeExperts[i];
    }

    /** Number of tokens routed to the {@code i}-th chosen expert. */
    public int tokenCount(int i) {
        group();
        int e = activeExperts[i];
        return groupStart[e + 1] - groupStart[e];
    }

    /** Index of the first pair of the {@code i}-th chosen expert in the grouped order. */
    int groupOffset(int i) {
        return groupStart[activeExperts[i]];
    }

    /** Token of grouped pair {@code p}. */
    int groupedToken(int p) {
        return groupedTokens[p];
    }

    /** Output row of grouped pair {@code p}. */
    int groupedRow(int p) {
        return groupedRows[p];
    }

    int[] groupedTokens() {
        return groupedTokens;
    }

    int[] groupedRows() {
        return groupedRows;
    }

    /** Counting sort of the pairs by expert, keeping insertion order within an expert. */
    void group() {
        if (grouped) {
            return;
        }
        Arrays.fill(counts, 0);
        for (int p = 0; p < size; p++) {
            counts[expertOf[p]]++;
        }
        active = 0;
        int start = 0;
        for (int e = 0; e < experts; e++) {
            groupStart[e] = start;
            if (counts[e] > 0) {
                activeExperts[active++] = e;
            }
            start += counts[e];
        }
        groupStart[experts] = start;
        Arrays.fill(counts, 0);
        for (int p = 0; p < size; p++) {
            int e = expertOf[p];
            int at = groupStart[e] + counts[e]++;
            groupedTokens[at] = tokenOf[p];
            groupedRows[at] = rowOf[p];
        }
        grouped = true;
    }
}
