package dev.ferry.hostmemory.linux;

import java.util.List;

/**
 * A Linux memory policy (what {@code get_mempolicy} returns, what {@code mbind} sets).
 *
 * @param mode one of the {@code MPOL_*} constants
 * @param nodes the node mask, ascending; empty for {@code MPOL_DEFAULT} and {@code MPOL_LOCAL}
 */
public record MemPolicy(int mode, List<Integer> nodes) {

    public static final int MPOL_DEFAULT = 0;
    public static final int MPOL_PREFERRED = 1;
    public static final int MPOL_BIND = 2;
    public static final int MPOL_INTERLEAVE = 3;
    public static final int MPOL_LOCAL = 4;
    public static final int MPOL_PREFERRED_MANY = 5;
    public static final int MPOL_WEIGHTED_INTERLEAVE = 6;

    public MemPolicy {
        nodes = List.copyOf(nodes);
    }

    public String modeName() {
        return switch (mode) {
            case MPOL_DEFAULT -> "default";
            case MPOL_PREFERRED -> "preferred";
            case MPOL_BIND -> "bind";
            case MPOL_INTERLEAVE -> "interleave";
            case MPOL_LOCAL -> "local";
            case MPOL_PREFERRED_MANY -> "preferred-many";
            case MPOL_WEIGHTED_INTERLEAVE -> "weighted-interleave";
            default -> "mode " + mode;
        };
    }

    @Override
    public String toString() {
        return nodes.isEmpty() ? modeName() : modeName() + " " + nodes;
    }
}
