package dev.ferry.cuda;

/** Which implementation stands behind a {@link Device}. */
public enum DeviceBackend {
    /** A real NVIDIA GPU through the CUDA driver API (JCuda). */
    CUDA,
    /** Device memory in host RAM, kernels run by CPU twins, transfer time modelled. */
    SIMULATED
}
