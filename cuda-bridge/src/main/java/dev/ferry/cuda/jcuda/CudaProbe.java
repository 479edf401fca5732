package dev.ferry.cuda.jcuda;

import jcuda.CudaException;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;

/**
 * Finds out, without stack traces, whether a CUDA GPU can be used: is the driver library
 * there, does {@code cuInit} succeed, is there a device. Each failure becomes a one-line reason.
 */
public final class CudaProbe {

    /** Outcome of a probe; {@code reason} explains an unavailable GPU in a few words. */
    public record Result(boolean available, String reason, int deviceCount, int driverVersion) {
    }

    private CudaProbe() {
    }

    public static Result probe() {
        // shared, not confined: see LinuxSystemCalls (one session kind through the JDK's access code)
        try (Arena arena = Arena.ofShared()) {
            SymbolLookup.libraryLookup("libcuda.so.1", arena);
        } catch (IllegalArgumentException e) {
            return new Result(false, "the CUDA driver library libcuda.so.1 is not installed (no NVIDIA driver)", 0, 0);
        }
        try {
            int rc = JCudaDriver.cuInit(0);
            if (rc != CUresult.CUDA_SUCCESS) {
                return new Result(false, "cuInit failed: " + CUresult.stringFor(rc), 0, 0);
            }
            int[] version = new int[1];
            JCudaDriver.cuDriverGetVersion(version);
            int[] count = new int[1];
            rc = JCudaDriver.cuDeviceGetCount(count);
            if (rc != CUresult.CUDA_SUCCESS) {
                return new Result(false, "cuDeviceGetCount failed: " + CUresult.stringFor(rc), 0, version[0]);
            }
            if (count[0] == 0) {
                return new Result(false, "the CUDA driver sees no device", 0, version[0]);
            }
            return new Result(true, "", count[0], version[0]);
        } catch (LinkageError e) {
            return new Result(false, "the JCuda driver binding could not load (" + rootMessage(e) + ")", 0, 0);
        } catch (CudaException e) {
            return new Result(false, "CUDA initialisation failed: " + e.getMessage(), 0, 0);
        }
    }

    /** The innermost message of a chain, on one line. */
    static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        String message = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
        String line = message.lines().findFirst().orElse(message).trim();
        return line.length() > 200 ? line.substring(0, 200) + "..." : line;
    }

    /** Formats a driver API return code; throws {@link dev.ferry.cuda.DeviceException} unless it is success. */
    static void check(int rc, String call) {
        if (rc != CUresult.CUDA_SUCCESS) {
            throw new dev.ferry.cuda.DeviceException(call + " failed: " + CUresult.stringFor(rc));
        }
    }
}
