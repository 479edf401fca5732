package dev.ferry.moe.hybrid;

import dev.ferry.cuda.DeviceBuffer;
import dev.ferry.cuda.kernels.QuantFormat;
import java.util.Objects;
import java.util.Optional;

/**
 * A weight matrix in device memory, {@code rows x cols} row-major as in the GGUF file. Quantized
 * types keep their blocks ({@code format} present) and run through the matvec and dequantize
 * kernels; F32 and F16 run through GEMM directly. Other types (BF16, types without a kernel)
 * are decoded to F32 on the host before upload.
 */
public record DeviceMatrix(Storage storage, Optional<QuantFormat> format, DeviceBuffer data, long rows, long cols) {

    /** How the values are stored on the device. */
    public enum Storage { F32, F16, QUANTIZED }

    /** How a matrix is laid out on the device, without its memory (the experts uploaded per batch). */
    public record Layout(Storage storage, Optional<QuantFormat> format, long rows, long cols) {

        public long bytes() {
            return DeviceMatrix.bytes(storage, format, rows, cols);
        }

        /** This layout over {@code buffer}. */
        public DeviceMatrix over(DeviceBuffer buffer) {
            return new DeviceMatrix(storage, format, buffer, rows, cols);
        }
    }

    public DeviceMatrix {
        Objects.requireNonNull(storage, "storage");
        Objects.requireNonNull(format, "format");
        Objects.requireNonNull(data, "data");
        if (format.isPresent() != (storage == Storage.QUANTIZED)) {
            throw new IllegalArgumentException("a quantized device matrix needs its format, and only it has one");
        }
        if (rows < 1 || cols < 1) {
            throw new IllegalArgumentException("device matrix needs rows, cols >= 1, got " + rows + " x " + cols);
        }
        if (data.size() < bytes(storage, format, rows, cols)) {
            throw new IllegalArgumentException("device matrix " + rows + " x " + cols + " " + describe(storage, format) + " needs "
                    + bytes(storage, format, rows, cols) + " bytes, its buffer has " + data.size());
        }
    }

    /** Bytes of a matrix stored this way. */
    public static long bytes(Storage storage, Optional<QuantFormat> format, long rows, long cols) {
        return switch (storage) {
            case F32 -> rows * cols * 4;
            case F16 -> rows * cols * 2;
            case QUANTIZED -> rows * format.orElseThrow().bytesFor(cols);
        };
    }

    public long bytes() {
        return bytes(storage, format, rows, cols);
    }

    /** The same storage over another buffer (an expert slice uploaded for one batch). */
    public DeviceMatrix over(DeviceBuffer buffer) {
        return new DeviceMatrix(storage, format, buffer, rows, cols);
    }

    private static String describe(Storage storage, Optional<QuantFormat> format) {
        return format.map(QuantFormat::name).orElse(storage.name());
    }
}
