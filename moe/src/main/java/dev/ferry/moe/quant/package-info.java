/**
 * ggml tensor types to and from float32.
 *
 * <p>{@link dev.ferry.moe.quant.Decoders} gives a {@link dev.ferry.moe.quant.BlockDecoder} per
 * supported type (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K..Q6_K, IQ4_NL, IQ4_XS, MXFP4,
 * NVFP4, TQ1_0, TQ2_0). Each reproduces, bit for bit including -0.0, the float32 values of
 * llama.cpp's reference dequantizers (gguf-py's, which follow ggml-quants.c): every product is
 * rounded where ggml rounds it and nothing is fused. They are scalar and meant as the reference
 * for the vector kernels and for one-off conversions; other ggml types are refused by name with
 * an {@link dev.ferry.moe.quant.UnsupportedTensorTypeException}.
 *
 * <p>{@link dev.ferry.moe.quant.Encoders} quantizes float32 rows: the activation formats of
 * llama.cpp's CPU dot products (Q8_0 and Q8_1 with either {@link dev.ferry.moe.quant.Q8Rounding},
 * Q8_K, F16, BF16) and weight formats for synthetic models (Q8_0, Q4_0, Q4_K, Q6_K).
 * {@link dev.ferry.moe.quant.HalfFloats} holds the F16/BF16 scalar conversions.
 */
package dev.ferry.moe.quant;
