package dev.ferry.hostmemory;

import java.util.List;

/** Where the pages of a {@link PlacedBuffer} should live. */
public sealed interface PlacementPolicy {

    /** Every page on one node ({@code mbind MPOL_BIND}). */
    record OnNode(int node) implements PlacementPolicy {
        public OnNode {
            if (node < 0) {
                throw new IllegalArgumentException("NUMA node must be >= 0, got " + node);
            }
        }

        @Override
        public String describe() {
            return "on node " + node;
        }
    }

    /** Pages spread round-robin over {@code nodes} ({@code mbind MPOL_INTERLEAVE}). */
    record Interleave(List<Integer> nodes) implements PlacementPolicy {
        public Interleave {
            nodes = List.copyOf(nodes);
            if (nodes.isEmpty()) {
                throw new IllegalArgumentException("interleave needs at least one node");
            }
            if (nodes.stream().anyMatch(n -> n < 0) || nodes.stream().distinct().count() != nodes.size()) {
                throw new IllegalArgumentException("interleave nodes must be distinct and >= 0, got " + nodes);
            }
        }

        @Override
        public String describe() {
            return "interleaved over nodes " + nodes;
        }
    }

    /**
     * The buffer cut into {@code nodes.size()} contiguous parts of (nearly) equal size, part i
     * bound to {@code nodes.get(i)}; {@link PlacedBuffer#nodeRanges()} gives the byte ranges, so
     * each node's workers can take the rows that lie in their part.
     */
    record Blocked(List<Integer> nodes) implements PlacementPolicy {
        public Blocked {
            nodes = List.copyOf(nodes);
            if (nodes.isEmpty()) {
                throw new IllegalArgumentException("blocked placement needs at least one node");
            }
            if (nodes.stream().anyMatch(n -> n < 0) || nodes.stream().distinct().count() != nodes.size()) {
                throw new IllegalArgumentException("blocked placement nodes must be distinct and >= 0, got " + nodes);
            }
        }

        @Override
        public String describe() {
            return "in contiguous blocks on nodes " + nodes;
        }
    }

    /**
     * No policy; the workers of {@code pool} touch the pages first, each its contiguous share, so
     * the kernel's local-allocation rule puts each share on the node its worker runs on.
     */
    record FirstTouch(WorkerPool pool) implements PlacementPolicy {
        public FirstTouch {
            if (pool == null) {
                throw new IllegalArgumentException("first-touch placement needs a worker pool");
            }
        }

        @Override
        public String describe() {
            return "first touch by " + pool.size() + " workers";
        }
    }

    /** No policy: the kernel's default (local to whichever thread touches a page first). */
    record Default() implements PlacementPolicy {
        @Override
        public String describe() {
            return "kernel default (first touch)";
        }
    }

    /** A short phrase for reports, e.g. {@code on node 1}. */
    String describe();

    static PlacementPolicy onNode(int node) {
        return new OnNode(node);
    }

    static PlacementPolicy interleave(List<Integer> nodes) {
        return new Interleave(nodes);
    }

    static PlacementPolicy blocked(List<Integer> nodes) {
        return new Blocked(nodes);
    }

    static PlacementPolicy firstTouch(WorkerPool pool) {
        return new FirstTouch(pool);
    }

    static PlacementPolicy kernelDefault() {
        return new Default();
    }
}
