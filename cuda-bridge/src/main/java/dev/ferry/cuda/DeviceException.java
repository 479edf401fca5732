package dev.ferry.cuda;

/** A device call failed (a CUDA error code, a missing kernel, a failed cuBLAS call). */
public final class DeviceException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public DeviceException(String message) {
        super(message);
    }

    public DeviceException(String message, Throwable cause) {
        super(message, cause);
    }
}
