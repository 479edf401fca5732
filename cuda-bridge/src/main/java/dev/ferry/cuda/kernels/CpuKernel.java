package dev.ferry.cuda.kernels;

import dev.ferry.cuda.LaunchGrid;

/**
 * The CPU twin of a CUDA kernel: same arguments, same results. The launch geometry is passed
 * for completeness; twins compute the whole problem regardless of it.
 */
@FunctionalInterface
public interface CpuKernel {

    void run(LaunchGrid grid, KernelCallArgs args);
}
