package dev.ferry.hostmemory.numa;

import java.util.Optional;

/**
 * Something to place in host memory: a tensor (or part of one).
 *
 * @param expertGroup items with the same key stay together on one node under {@code shard}
 *     (e.g. {@code blk.7.expert.12} for the gate, up and down weights of one expert); empty for
 *     weights every node reads
 */
public record PlanItem(String name, long bytes, Optional<String> expertGroup) {

    public PlanItem {
        if (bytes < 0) {
            throw new IllegalArgumentException("item '" + name + "' has negative size " + bytes);
        }
    }

    public static PlanItem shared(String name, long bytes) {
        return new PlanItem(name, bytes, Optional.empty());
    }

    public static PlanItem expert(String name, long bytes, String group) {
        return new PlanItem(name, bytes, Optional.of(group));
    }
}
