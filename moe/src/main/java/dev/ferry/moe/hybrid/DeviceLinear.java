package dev.ferry.moe.hybrid;

import dev.ferry.cuda.Device;
import dev.ferry.cuda.DeviceBuffer;
import dev.ferry.cuda.GemmCall;
import dev.ferry.cuda.GemmType;
import dev.ferry.cuda.Stream;
import dev.ferry.cuda.kernels.DeviceKernels;

/**
 * {@code out[m][rows] = in[m][cols] x W^T} on the device, choosing the kernel as llama.cpp's CUDA
 * backend does: F32 weights through an F32 GEMM, F16 through an F16 GEMM on F16-rounded
 * activations, quantized weights through the matvec kernel per token for small batches and
 * through dequantize-to-F16 + GEMM from {@link #GEMM_MIN_TOKENS} tokens on. Owns the F16
 * scratch buffers that needs.
 */
public final class DeviceLinear implements AutoCloseable {

    /** From this many tokens on, a quantized matrix is dequantized once and multiplied by GEMM. */
    public static final int GEMM_MIN_TOKENS = 8;

    private final Device device;
    private final DeviceBuffer inputF16;
    private final DeviceBuffer weightsF16;
    private final long maxInputValues;
    private final long maxWeightValues;

    /**
     * @param maxInputValues the most activation values one call converts to F16 ({@code m * cols})
     * @param maxWeightValues the largest matrix that is dequantized whole; bigger quantized
     *     matrices always take the matvec path
     */
    public DeviceLinear(Device device, long maxInputValues, long maxWeightValues) {
        this.device = device;
        this.maxInputValues = maxInputValues;
        this.maxWeightValues = maxWeightValues;
        this.inputF16 = device.allocate(Math.max(maxInputValues, 1) * 2);
        try {
            this.weightsF16 = device.allocate(Math.max(maxWeightValues, 1) * 2);
        } catch (RuntimeException e) {
            inputF16.close();
            throw e;
        }
    }

    /** Queues {@code out = in x W^T} for {@code m} rows of {@code in} on {@code s}. */
    public void apply(Stream s, DeviceMatrix w, DeviceBuffer in, int m, DeviceBuffer out) {
        int rows = Math.toIntExact(w.rows());
        int cols = Math.toIntExact(w.cols());
        switch (w.storage()) {
            case F32 -> device.gemm().run(s, GemmCall.of(GemmType.F32, w.data(), in, out, m, rows, cols));
            case F16 -> {
                DeviceBuffer x16 = halfInput(s, in, m, cols);
                device.gemm().run(s, GemmCall.of(GemmType.F16, w.data(), x16, out, m, rows, cols));
            }
            case QUANTIZED -> {
                long values = w.rows() * w.cols();
                if (m >= GEMM_MIN_TOKENS && values <= maxWeightValues && (long) m * cols <= maxInputValues) {
                    DeviceKernels.dequantToF16(s, w.format().orElseThrow(), w.data(), weightsF16, values);
                    DeviceBuffer x16 = halfInput(s, in, m, cols);
                    device.gemm().run(s, GemmCall.of(GemmType.F16, weightsF16, x16, out, m, rows, cols));
                } else {
                    long inRow = (long) cols * Float.BYTES;
                    long outRow = (long) rows * Float.BYTES;
                    for (int t = 0; t < m; t++) {
                        DeviceKernels.matvec(s, w.format().orElseThrow(), w.data(), in.slice(t * inRow, inRow),
                                out.slice(t * outRow, outRow), rows, cols);
                    }
                }
            }
        }
    }

    private DeviceBuffer halfInput(Stream s, DeviceBuffer in, int m, int cols) {
        long values = (long) m * cols;
        if (values > maxInputValues) {
            throw new IllegalArgumentException("device matmul of " + m + " x " + cols + " values exceeds the F16 scratch of "
                    + maxInputValues);
        }
        DeviceKernels.f32ToF16(s, in, inputF16, values);
        return inputF16.slice(0, values * 2);
    }

    @Override
    public void close() {
        try {
            inputF16.close();
        } finally {
            weightsF16.close();
        }
    }
}
