package dev.ferry.cuda.jcuda;

import dev.ferry.cuda.DeviceException;
import dev.ferry.cuda.Gemm;
import dev.ferry.cuda.GemmCall;
import dev.ferry.cuda.Stream;
import jcuda.Pointer;
import jcuda.jcublas.JCublas2;
import jcuda.jcublas.cublasHandle;
import jcuda.jcublas.cublasStatus;
import jcuda.runtime.cudaStream_t;

/** GEMM through JCublas2 (needs {@code libcublas.so.12}). Row-major ggml products map to column-major cuBLAS as documented in {@link FfmCublasGemm}. */
final class JCublas2Gemm implements Gemm, AutoCloseable {

    private final JCudaDevice device;
    private final cublasHandle handle;

    private JCublas2Gemm(JCudaDevice device, cublasHandle handle) {
        this.device = device;
        this.handle = handle;
    }

    static JCublas2Gemm open(JCudaDevice device) {
        cublasHandle handle = new cublasHandle();
        check(JCublas2.cublasCreate(handle), "cublasCreate");
        check(JCublas2.cublasSetMathMode(handle, CublasGemms.DEFAULT_MATH), "cublasSetMathMode");
        return new JCublas2Gemm(device, handle);
    }

    @Override
    public String implementation() {
        return "cuBLAS 12 via JCublas2";
    }

    @Override
    public synchronized void run(Stream stream, GemmCall call) {
        JCudaDevice.CudaStream s = device.own(stream);
        device.makeCurrent();
        check(JCublas2.cublasSetStream(handle, new cudaStream_t(s.handle())), "cublasSetStream");
        int type = CublasGemms.dataType(call.type());
        Pointer w = device.own(call.weights()).pointer();
        Pointer x = device.own(call.input()).pointer();
        Pointer y = device.own(call.output()).pointer();
        Pointer alpha = Pointer.to(new float[] {call.alpha()});
        Pointer beta = Pointer.to(new float[] {call.beta()});
        if (call.batch() == 1) {
            check(JCublas2.cublasGemmEx(handle, CublasGemms.OP_T, CublasGemms.OP_N, call.n(), call.m(), call.k(), alpha,
                    w, type, call.k(), x, type, call.k(), beta, y, CublasGemms.CUDA_R_32F, call.n(),
                    CublasGemms.COMPUTE_32F, CublasGemms.GEMM_DEFAULT), "cublasGemmEx");
        } else {
            check(JCublas2.cublasGemmStridedBatchedEx(handle, CublasGemms.OP_T, CublasGemms.OP_N, call.n(), call.m(),
                    call.k(), alpha, w, type, call.k(), call.weightsStride(), x, type, call.k(), call.inputStride(), beta,
                    y, CublasGemms.CUDA_R_32F, call.n(), call.outputStride(), call.batch(), CublasGemms.COMPUTE_32F,
                    CublasGemms.GEMM_DEFAULT), "cublasGemmStridedBatchedEx");
        }
    }

    @Override
    public synchronized void close() {
        JCublas2.cublasDestroy(handle);
    }

    private static void check(int status, String call) {
        if (status != cublasStatus.CUBLAS_STATUS_SUCCESS) {
            throw new DeviceException(call + " failed: " + cublasStatus.stringFor(status));
        }
    }
}
