package dev.ferry.moe.quant;

/**
 * The two ways llama.cpp turns floats into Q8_0 / Q8_1 blocks. Both store d = amax / 127 as F16;
 * they differ in the multiplier and the rounding of the quants, which can move a quant by one.
 */
public enum Q8Rounding {
    /** ggml's portable {@code quantize_row_q8_0_ref}: x * (1 / d), halfway cases away from zero. */
    REFERENCE,
    /**
     * ggml-cpu's x86 AVX/AVX2 {@code quantize_row_q8_0/1}, what llama.cpp really applies to
     * activations on x86-64: x * (127 / amax), halfway cases to even.
     */
    X86_SIMD
}
