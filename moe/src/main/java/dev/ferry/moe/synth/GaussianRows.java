package dev.ferry.moe.synth;

import java.nio.charset.StandardCharsets;

/**
 * Deterministic pseudo-normal numbers for weight rows. Every row of every tensor has its own
 * stream, derived from the seed, the tensor's name and the row index, so rows can be generated
 * by any number of threads in any order and the file is the same for the same seed.
 *
 * <p>Each value is an Irwin-Hall sum of four 8-bit uniforms scaled to unit variance (two values
 * per SplitMix64 output): close to normal within about 3.4 standard deviations, bounded beyond,
 * in steps of 0.007 standard deviations, and far cheaper than {@code Random.nextGaussian}.
 * Scalar on purpose: without AVX-512 the Vector API has no 64-bit lane multiply.
 */
public final class GaussianRows {

    private static final long GOLDEN = 0x9E3779B97F4A7C15L;
    /** A sum of four uniforms on 0..255 has mean 510 and variance 4 * (256^2 - 1) / 12. */
    private static final float CENTER = 510.0f;
    private static final float UNIT = (float) (1.0 / Math.sqrt(4.0 * (256.0 * 256.0 - 1.0) / 12.0));

    private final long tensorSeed;

    /** The streams of tensor {@code name} for model seed {@code seed}. */
    public GaussianRows(long seed, String name) {
        long h = 0xCBF29CE484222325L; // FNV-1a over the name's UTF-8 bytes
        for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xFF)) * 0x100000001B3L;
        }
        this.tensorSeed = mix(seed ^ mix(h));
    }

    /**
     * Fills {@code out[0..n)} with row {@code row}'s values: {@code mean + std * g} with
     * {@code g} pseudo-normal.
     */
    public void fill(long row, float[] out, int n, float mean, float std) {
        long state = mix(tensorSeed + row * GOLDEN);
        float scale = std * UNIT;
        for (int i = 0; i < n; i += 2) {
            state += GOLDEN;
            long z = mix(state);
            out[i] = mean + (sumOfBytes((int) z) - CENTER) * scale;
            if (i + 1 < n) {
                out[i + 1] = mean + (sumOfBytes((int) (z >>> 32)) - CENTER) * scale;
            }
        }
    }

    private static int sumOfBytes(int v) {
        return (v & 0xFF) + ((v >>> 8) & 0xFF) + ((v >>> 16) & 0xFF) + (v >>> 24);
    }

    /** SplitMix64's finaliser: a bijective scramble of 64 bits. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
