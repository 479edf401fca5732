package dev.ferry.loader.tokenizer;

import java.util.Arrays;

/**
 * BPE merges as an open-addressing map from a (left symbol, right symbol) pair to the merge's
 * rank and the merged symbol. Symbols are ints: vocabulary ids, or ids past the vocabulary for
 * merge parts that are not tokens themselves. Read-only after construction.
 */
final class MergeTable {

    static final long ABSENT = -1L;

    private final long[] keys;
    private final long[] values;
    private final int mask;
    private int size;

    MergeTable(int expectedEntries) {
        int capacity = Integer.highestOneBit(Math.max(4, expectedEntries) * 2 - 1) << 1;
        keys = new long[capacity];
        values = new long[capacity];
        Arrays.fill(keys, ABSENT);
        mask = capacity - 1;
    }

    static long pair(int left, int right) {
        return ((long) left << 32) | (right & 0xFFFFFFFFL);
    }

    /** Adds a merge unless the pair already has one (the first, lowest-ranked merge wins). */
    void putIfAbsent(int left, int right, int rank, int merged) {
        if (size * 2 >= keys.length) {
            throw new IllegalStateException("merge table sized for fewer entries");
        }
        long key = pair(left, right);
        int slot = slot(key);
        while (keys[slot] != ABSENT) {
            if (keys[slot] == key) {
                return;
            }
            slot = (slot + 1) & mask;
        }
        keys[slot] = key;
        values[slot] = ((long) rank << 32) | (merged & 0xFFFFFFFFL);
        size++;
    }

    /** rank in the high 32 bits and merged symbol in the low 32 bits, or {@link #ABSENT}. */
    long find(int left, int right) {
        long key = pair(left, right);
        int slot = slot(key);
        while (true) {
            long k = keys[slot];
            if (k == key) {
                return values[slot];
            }
            if (k == ABSENT) {
                return ABSENT;
            }
            slot = (slot + 1) & mask;
        }
    }

    int size() {
        return size;
    }

    private int slot(long key) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 29)) & mask;
    }
}
