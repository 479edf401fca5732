package dev.ferry.moe.kernel;

import dev.ferry.loader.GgmlType;

/**
 * How activations enter a matrix product.
 *
 * <p>{@link #QUANTIZED} (the default) rounds each activation row to the weight type's dot type
 * exactly as llama.cpp's CPU backend does (its {@code vec_dot_type}) before multiplying, so
 * results match llama.cpp's quantized-activation references. {@link #EXACT} multiplies the
 * float32 activations with the exactly decoded weights, matching llama.cpp's "deqF32"
 * references.
 */
public enum Precision {
    QUANTIZED,
    EXACT;

    /** The format activations are rounded to before a product with weights of {@code type}. */
    public ActivationFormat activationFormat(GgmlType type) {
        if (this == EXACT) {
            return ActivationFormat.F32;
        }
        return switch (type) {
            case F32 -> ActivationFormat.F32;
            case F16 -> ActivationFormat.F16;
            case BF16 -> ActivationFormat.BF16;
            case Q4_0, Q5_0, Q8_0, IQ4_NL, MXFP4 -> ActivationFormat.Q8_0;
            case Q4_1, Q5_1 -> ActivationFormat.Q8_1;
            case Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_XS -> ActivationFormat.Q8_K;
            default -> throw new IllegalArgumentException("ggml type " + type + " is not supported by the CPU kernels");
        };
    }
}
