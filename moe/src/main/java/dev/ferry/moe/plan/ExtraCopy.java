package dev.ferry.moe.plan;

/**
 * A copy of a tensor besides its home.
 *
 * @param node the NUMA node holding it
 */
public record ExtraCopy(Kind kind, int node, long bytes) {

    public enum Kind {
        /** A per-node replica under {@code --numa mirror}. */
        NUMA_MIRROR("mirror"),
        /** The pinned copy on the GPU's node that expert uploads read ({@code --pinned-expert-cache}). */
        PINNED("pinned");

        private final String label;

        Kind(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }
}
