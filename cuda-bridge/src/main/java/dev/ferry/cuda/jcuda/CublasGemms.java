package dev.ferry.cuda.jcuda;

import dev.ferry.cuda.DeviceException;
import dev.ferry.cuda.Gemm;
import dev.ferry.cuda.GemmCall;
import dev.ferry.cuda.GemmType;
import dev.ferry.cuda.Stream;
import jcuda.NativePointerObject;
import jcuda.Pointer;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;

/**
 * Picks the cuBLAS binding that loads on this machine: JCublas2 where {@code libcublas.so.12}
 * is installed (CUDA 12), otherwise our {@code java.lang.foreign} binding to
 * {@code libcublas.so.13} (or .12). Which one runs is in {@link Gemm#implementation()}.
 */
final class CublasGemms {

    /** cuBLAS and CUDA constants used by both bindings. */
    static final int OP_N = 0;
    static final int OP_T = 1;
    static final int CUDA_R_32F = 0;
    static final int CUDA_R_16F = 2;
    static final int COMPUTE_32F = 68;
    static final int GEMM_DEFAULT = -1;
    static final int DEFAULT_MATH = 0;

    private static final Field NATIVE_POINTER = field(NativePointerObject.class, "nativePointer");
    private static final Field BYTE_OFFSET = field(Pointer.class, "byteOffset");

    private CublasGemms() {
    }

    static Gemm open(JCudaDevice device) {
        List<String> failures = new ArrayList<>();
        try {
            return JCublas2Gemm.open(device);
        } catch (LinkageError e) {
            failures.add("JCublas2 (libcublas.so.12): " + CudaProbe.rootMessage(e));
        } catch (DeviceException e) {
            failures.add("JCublas2: " + e.getMessage());
        }
        for (String library : FfmCublasGemm.CANDIDATES) {
            try {
                return FfmCublasGemm.open(device, library);
            } catch (DeviceException e) {
                failures.add(e.getMessage());
            }
        }
        String reason = "cuBLAS unavailable: " + String.join("; ", failures);
        return new Gemm() {
            @Override
            public String implementation() {
                return reason;
            }

            @Override
            public void run(Stream stream, GemmCall call) {
                throw new DeviceException(reason);
            }
        };
    }

    static int dataType(GemmType type) {
        return type == GemmType.F16 ? CUDA_R_16F : CUDA_R_32F;
    }

    /** The raw address a JCuda pointer or handle stands for (nativePointer plus byteOffset). */
    static long address(NativePointerObject object) {
        try {
            long base = NATIVE_POINTER.getLong(object);
            return object instanceof Pointer ? base + BYTE_OFFSET.getLong(object) : base;
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("cannot read a JCuda pointer's address", e);
        }
    }

    private static Field field(Class<?> owner, String name) {
        try {
            Field f = owner.getDeclaredField(name);
            f.setAccessible(true);
            return f;
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IllegalStateException("JCuda's " + owner.getSimpleName() + "." + name + " is not accessible", e);
        }
    }
}
