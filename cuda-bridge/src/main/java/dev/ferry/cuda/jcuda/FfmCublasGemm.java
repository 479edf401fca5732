package dev.ferry.cuda.jcuda;

import dev.ferry.cuda.DeviceException;
import dev.ferry.cuda.Gemm;
import dev.ferry.cuda.GemmCall;
import dev.ferry.cuda.Stream;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * GEMM through our own {@code java.lang.foreign} binding to the installed cuBLAS (CUDA 13 has
 * no JCublas). ggml's row-major {@code out[m][n] = input[m][k] x weights[n][k]^T} is, in cuBLAS's
 * column-major terms, {@code C(n x m) = op_T(W: k x n) x op_N(X: k x m)} with leading
 * dimensions k, k and n.
 */
final class FfmCublasGemm implements Gemm, AutoCloseable {

    /** Libraries tried in order; the toolkit's lib64 is not always on the loader path. */
    static final List<String> CANDIDATES = List.of("libcublas.so.13", "/usr/local/cuda/lib64/libcublas.so.13",
            "/usr/local/cuda/targets/x86_64-linux/lib/libcublas.so.13", "libcublas.so.12",
            "/usr/local/cuda/lib64/libcublas.so.12");

    private final JCudaDevice device;
    private final Arena arena;
    private final String library;
    private final MemorySegment handle;
    private final MethodHandle destroy;
    private final MethodHandle setStream;
    private final MethodHandle gemmEx;
    private final MethodHandle gemmStridedBatchedEx;
    private final MemorySegment alpha;
    private final MemorySegment beta;

    private FfmCublasGemm(JCudaDevice device, Arena arena, String library, MemorySegment handle, MethodHandle destroy,
                          MethodHandle setStream, MethodHandle gemmEx, MethodHandle gemmStridedBatchedEx) {
        this.device = device;
        this.arena = arena;
        this.library = library;
        this.handle = handle;
        this.destroy = destroy;
        this.setStream = setStream;
        this.gemmEx = gemmEx;
        this.gemmStridedBatchedEx = gemmStridedBatchedEx;
        this.alpha = arena.allocate(ValueLayout.JAVA_FLOAT);
        this.beta = arena.allocate(ValueLayout.JAVA_FLOAT);
    }

    static FfmCublasGemm open(JCudaDevice device, String library) {
        Arena arena = Arena.ofShared();
        try {
            SymbolLookup lookup;
            try {
                lookup = SymbolLookup.libraryLookup(library, arena);
            } catch (IllegalArgumentException e) {
                throw new DeviceException(library + " not found");
            }
            Linker linker = Linker.nativeLinker();
            MethodHandle create = bind(linker, lookup, library, "cublasCreate_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS));
            MethodHandle destroy = bind(linker, lookup, library, "cublasDestroy_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS));
            MethodHandle setStream = bind(linker, lookup, library, "cublasSetStream_v2",
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
            MethodHandle setMathMode = bind(linker, lookup, library, "cublasSetMathMode",
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
            MethodHandle gemmEx = bind(linker, lookup, library, "cublasGemmEx", FunctionDescriptor.of(JAVA_INT,
                    ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT,
                    ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
            MethodHandle strided = bind(linker, lookup, library, "cublasGemmStridedBatchedEx", FunctionDescriptor.of(
                    JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT,
                    JAVA_INT, JAVA_LONG, ADDRESS, JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT,
                    JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT));
            device.makeCurrent();
            MemorySegment out = arena.allocate(ADDRESS);
            check((int) create.invokeExact(out), library, "cublasCreate_v2");
            MemorySegment handle = out.get(ADDRESS, 0);
            check((int) setMathMode.invokeExact(handle, CublasGemms.DEFAULT_MATH), library, "cublasSetMathMode");
            return new FfmCublasGemm(device, arena, library, handle, destroy, setStream, gemmEx, strided);
        } catch (DeviceException e) {
            arena.close();
            throw e;
        } catch (Throwable e) {
            arena.close();
            throw new DeviceException(library + ": " + e, e);
        }
    }

    private static MethodHandle bind(Linker linker, SymbolLookup lookup, String library, String name,
                                     FunctionDescriptor descriptor) {
        MemorySegment symbol = lookup.find(name)
                .orElseThrow(() -> new DeviceException(library + " has no symbol " + name));
        return linker.downcallHandle(symbol, descriptor);
    }

    @Override
    public String implementation() {
        return "cuBLAS via java.lang.foreign (" + library + ")";
    }

    @Override
    public synchronized void run(Stream stream, GemmCall call) {
        JCudaDevice.CudaStream s = device.own(stream);
        device.makeCurrent();
        MemorySegment w = MemorySegment.ofAddress(CublasGemms.address(device.own(call.weights()).pointer()));
        MemorySegment x = MemorySegment.ofAddress(CublasGemms.address(device.own(call.input()).pointer()));
        MemorySegment y = MemorySegment.ofAddress(CublasGemms.address(device.own(call.output()).pointer()));
        int type = CublasGemms.dataType(call.type());
        alpha.set(ValueLayout.JAVA_FLOAT, 0, call.alpha());
        beta.set(ValueLayout.JAVA_FLOAT, 0, call.beta());
        try {
            check((int) setStream.invokeExact(handle, MemorySegment.ofAddress(CublasGemms.address(s.handle()))), library,
                    "cublasSetStream_v2");
            if (call.batch() == 1) {
                check((int) gemmEx.invokeExact(handle, CublasGemms.OP_T, CublasGemms.OP_N, call.n(), call.m(), call.k(),
                        alpha, w, type, call.k(), x, type, call.k(), beta, y, CublasGemms.CUDA_R_32F, call.n(),
                        CublasGemms.COMPUTE_32F, CublasGemms.GEMM_DEFAULT), library, "cublasGemmEx");
            } else {
                check((int) gemmStridedBatchedEx.invokeExact(handle, CublasGemms.OP_T, CublasGemms.OP_N, call.n(),
                        call.m(), call.k(), alpha, w, type, call.k(), call.weightsStride(), x, type, call.k(),
                        call.inputStride(), beta, y, CublasGemms.CUDA_R_32F, call.n(), call.outputStride(), call.batch(),
                        CublasGemms.COMPUTE_32F, CublasGemms.GEMM_DEFAULT), library, "cublasGemmStridedBatchedEx");
            }
        } catch (DeviceException e) {
            throw e;
        } catch (Throwable e) {
            throw new DeviceException("cuBLAS call failed", e);
        }
    }

    @Override
    public synchronized void close() {
        try {
            int status = (int) destroy.invokeExact(handle);
            if (status != 0) {
                throw new DeviceException("cublasDestroy_v2 failed with status " + status);
            }
        } catch (DeviceException e) {
            throw e;
        } catch (Throwable e) {
            throw new DeviceException("cublasDestroy_v2 failed", e);
        } finally {
            arena.close();
        }
    }

    private static void check(int status, String library, String call) {
        if (status != 0) {
            throw new DeviceException(library + ": " + call + " returned cuBLAS status " + status);
        }
    }
}
