package dev.ferry.moe.kernel;

/**
 * The number format activations are rounded to before a dot product, named after llama.cpp's
 * {@code vec_dot_type}s. The kernels keep the rounded values as float32 (each is exactly a
 * small integer times the block scale), so products equal llama.cpp's integer dot products up
 * to float32 summation order.
 */
public enum ActivationFormat {
    /** Float32 as given. */
    F32(1),
    /** Rounded to float16 (round to nearest even). */
    F16(1),
    /** Rounded to bfloat16 (round to nearest even), as ggml's fp32-to-bf16. */
    BF16(1),
    /** Blocks of 32: int8 values times a float16 scale amax/127. */
    Q8_0(32),
    /** Like Q8_0, plus a float16 block sum {@code s = d * sum(q)} used with Q4_1/Q5_1 minimums. */
    Q8_1(32),
    /** Blocks of 256: int8 values times a float32 scale, with integer sums per 16 values. */
    Q8_K(256);

    private final int blockSize;

    ActivationFormat(int blockSize) {
        this.blockSize = blockSize;
    }

    /** Values per quantization block (1 for the float formats). */
    public int blockSize() {
        return blockSize;
    }
}
