package dev.ferry.cuda;

/** CUDA launch geometry: grid and block dimensions and dynamic shared memory in bytes. */
public record LaunchGrid(int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ, int sharedBytes) {

    public LaunchGrid {
        if (gridX < 1 || gridY < 1 || gridZ < 1 || blockX < 1 || blockY < 1 || blockZ < 1 || sharedBytes < 0) {
            throw new IllegalArgumentException("invalid launch geometry grid=(" + gridX + "," + gridY + "," + gridZ
                    + ") block=(" + blockX + "," + blockY + "," + blockZ + ") shared=" + sharedBytes);
        }
    }

    /** A 1-D grid of {@code blocks} blocks of {@code threads} threads. */
    public static LaunchGrid linear(long blocks, int threads) {
        if (blocks > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("grid of " + blocks + " blocks exceeds the 1-D limit");
        }
        return new LaunchGrid((int) blocks, 1, 1, threads, 1, 1, 0);
    }

    /** Enough blocks of {@code threads} threads to cover {@code items} items, one thread each. */
    public static LaunchGrid covering(long items, int threads) {
        return linear(Math.max(1, (items + threads - 1) / threads), threads);
    }

    public LaunchGrid withSharedBytes(int bytes) {
        return new LaunchGrid(gridX, gridY, gridZ, blockX, blockY, blockZ, bytes);
    }
}
