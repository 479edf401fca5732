package dev.ferry.moe.plan;

/**
 * The pinned GPU-node copy of the routed experts used to stream them to the GPU at DMA speed.
 *
 * @param mode which kind of pinned memory
 * @param capBytes for {@link Mode#CAPPED}, the most bytes to pin; 0 otherwise
 */
public record PinnedCache(Mode mode, long capBytes) {

    public enum Mode {
        /** No pinned memory: expert uploads come from pageable memory. */
        NONE("none"),
        /** {@code --pinned-expert-cache}: a pinned copy of every host {@code *_exps} tensor on the GPU's node. */
        FULL("--pinned-expert-cache"),
        /** {@code --pin-in-place}: the placed expert buffers themselves are registered; no extra RAM. */
        IN_PLACE("--pin-in-place"),
        /** {@code --pinned-cache-size SIZE}: only SIZE bytes pinned, the rest streamed through a staging area. */
        CAPPED("--pinned-cache-size");

        private final String flag;

        Mode(String flag) {
            this.flag = flag;
        }

        public String flag() {
            return flag;
        }
    }

    public PinnedCache {
        if (capBytes < 0 || (mode != Mode.CAPPED && capBytes != 0)) {
            throw new IllegalArgumentException("--pinned-cache-size: bad size " + capBytes + " for " + mode.flag());
        }
    }

    public static PinnedCache none() {
        return new PinnedCache(Mode.NONE, 0);
    }

    /**
     * From the flags: {@code --pinned-cache-size} (may be null) and {@code --pin-in-place} each
     * select their mode and imply the pinned cache; both at once are refused.
     */
    public static PinnedCache of(boolean pinnedExpertCache, boolean pinInPlace, String cacheSize) {
        if (pinInPlace && cacheSize != null) {
            throw new IllegalArgumentException("--pin-in-place and --pinned-cache-size exclude each other: registering the "
                    + "placed buffers pins all of them and copies nothing");
        }
        if (cacheSize != null) {
            return new PinnedCache(Mode.CAPPED, ByteSize.parse("--pinned-cache-size", cacheSize));
        }
        if (pinInPlace) {
            return new PinnedCache(Mode.IN_PLACE, 0);
        }
        return pinnedExpertCache ? new PinnedCache(Mode.FULL, 0) : none();
    }

    public String describe() {
        return switch (mode) {
            case NONE -> "no pinned expert cache";
            case FULL -> "--pinned-expert-cache";
            case IN_PLACE -> "--pin-in-place";
            case CAPPED -> "--pinned-cache-size " + ByteSize.format(capBytes);
        };
    }
}
