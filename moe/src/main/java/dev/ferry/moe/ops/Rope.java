package dev.ferry.moe.ops;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * NEOX-style rotary position embedding (the rotation llama.cpp uses for qwen2/qwen3): dimension
 * {@code i} of the first half is rotated with dimension {@code i + dims/2}. Angles follow
 * ggml's recurrence {@code theta_i = pos * base^(-2i/dims)} computed in float, so results match
 * llama.cpp to float rounding.
 */
public final class Rope {

    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private final int dims;
    private final float[] cos;
    private final float[] sin;
    private final int maxPositions;

    /** Precomputes cos/sin for positions {@code 0..maxPositions-1}. */
    public Rope(int dims, float freqBase, int maxPositions) {
        if (dims <= 0 || dims % 2 != 0) {
            throw new IllegalArgumentException("rope dimensions must be positive and even, got " + dims);
        }
        this.dims = dims;
        this.maxPositions = maxPositions;
        int half = dims / 2;
        this.cos = new float[maxPositions * half];
        this.sin = new float[maxPositions * half];
        float thetaScale = (float) Math.pow(freqBase, -2.0f / dims);
        for (int p = 0; p < maxPositions; p++) {
            float theta = p;
            for (int i = 0; i < half; i++) {
                cos[p * half + i] = (float) Math.cos(theta);
                sin[p * half + i] = (float) Math.sin(theta);
                theta *= thetaScale;
            }
        }
    }

    public int maxPositions() {
        return maxPositions;
    }

    /** Rotates the first {@code dims} floats of each of {@code heads} heads of size {@code headSize} at {@code x[xo..]}. */
    public void apply(MemorySegment x, long xo, int heads, int headSize, int position) {
        if (position < 0 || position >= maxPositions) {
            throw new IllegalArgumentException("position " + position + " outside the context of " + maxPositions);
        }
        int half = dims / 2;
        int base = position * half;
        for (int h = 0; h < heads; h++) {
            long o = xo + (long) h * headSize;
            for (int i = 0; i < half; i++) {
                float c = cos[base + i];
                float s = sin[base + i];
                float x0 = x.getAtIndex(FLOAT, o + i);
                float x1 = x.getAtIndex(FLOAT, o + i + half);
                x.setAtIndex(FLOAT, o + i, x0 * c - x1 * s);
                x.setAtIndex(FLOAT, o + i + half, x0 * s + x1 * c);
            }
        }
    }
}
