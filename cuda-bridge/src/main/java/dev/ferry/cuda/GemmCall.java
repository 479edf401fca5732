package dev.ferry.cuda;

import java.util.Objects;

/**
 * One (strided batched) matrix product in ggml's orientation, all row-major:
 * {@code out[b][i][j] = alpha * sum_l input[b][i][l] * weights[b][j][l] + beta * out[b][i][j]}
 * with {@code weights} {@code n x k} (a GGUF weight matrix: k contiguous), {@code input}
 * {@code m x k} (m tokens) and {@code out} {@code m x n} in F32. Strides are in elements between
 * consecutive batch entries; a weights stride of 0 shares one weight matrix across the batch.
 */
public record GemmCall(
        GemmType type,
        DeviceBuffer weights,
        DeviceBuffer input,
        DeviceBuffer output,
        int m,
        int n,
        int k,
        int batch,
        long weightsStride,
        long inputStride,
        long outputStride,
        float alpha,
        float beta) {

    public GemmCall {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(weights, "weights");
        Objects.requireNonNull(input, "input");
        Objects.requireNonNull(output, "output");
        if (m < 1 || n < 1 || k < 1 || batch < 1) {
            throw new IllegalArgumentException("GEMM dimensions must be positive: m=" + m + " n=" + n + " k=" + k
                    + " batch=" + batch);
        }
        if (weightsStride < 0 || inputStride < 0 || outputStride < 0) {
            throw new IllegalArgumentException("GEMM strides must not be negative");
        }
        need("weights", weights, type.bytes(), weightsStride, (long) n * k, batch);
        need("input", input, type.bytes(), inputStride, (long) m * k, batch);
        need("output", output, 4, outputStride, (long) m * n, batch);
    }

    /** A single product {@code out = input x weights^T}. */
    public static GemmCall of(GemmType type, DeviceBuffer weights, DeviceBuffer input, DeviceBuffer output,
                              int m, int n, int k) {
        return new GemmCall(type, weights, input, output, m, n, k, 1, (long) n * k, (long) m * k, (long) m * n, 1f, 0f);
    }

    /** {@code batch} products with the given element strides. */
    public static GemmCall batched(GemmType type, DeviceBuffer weights, DeviceBuffer input, DeviceBuffer output,
                                   int m, int n, int k, int batch,
                                   long weightsStride, long inputStride, long outputStride) {
        return new GemmCall(type, weights, input, output, m, n, k, batch, weightsStride, inputStride, outputStride, 1f, 0f);
    }

    private static void need(String what, DeviceBuffer buffer, int elementBytes, long stride, long matrix, int batch) {
        long elements = stride * (batch - 1L) + matrix;
        if (elements * elementBytes > buffer.size()) {
            throw new IllegalArgumentException("GEMM " + what + " needs " + elements * elementBytes
                    + " bytes but its buffer has " + buffer.size());
        }
    }
}
