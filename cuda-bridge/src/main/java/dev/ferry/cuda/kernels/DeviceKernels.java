package dev.ferry.cuda.kernels;

import dev.ferry.cuda.DeviceBuffer;
import dev.ferry.cuda.KernelArg;
import dev.ferry.cuda.LaunchGrid;
import dev.ferry.cuda.Stream;

/**
 * Typed launches of the kernels in {@code native/}: argument order and launch geometry in one
 * place, matching the CUDA sources. Semantics are those of the twins in {@link CpuTwins}.
 * All activations are F32, row-major.
 */
public final class DeviceKernels {

    /** Threads per block of the row-wise kernels (rmsnorm, matvec, attention). */
    public static final int ROW_THREADS = 256;
    /** Positions per attention tile held in shared memory. */
    public static final int ATTENTION_TILE = 256;

    private DeviceKernels() {
    }

    /** See {@link CpuTwins#rmsNorm}. */
    public static void rmsNorm(Stream s, DeviceBuffer x, DeviceBuffer weight, DeviceBuffer y, int rows, int dim, float eps) {
        s.launch(KernelNames.RMSNORM, LaunchGrid.linear(rows, ROW_THREADS), KernelArg.of(x), KernelArg.of(weight),
                KernelArg.of(y), KernelArg.i32(rows), KernelArg.i32(dim), KernelArg.f32(eps));
    }

    /** See {@link CpuTwins#ropeNeox}; {@code positions} holds one int32 per token. */
    public static void ropeNeox(Stream s, DeviceBuffer x, DeviceBuffer positions, int tokens, int heads, int headDim,
                                int ropeDim, float freqBase, float freqScale) {
        if (ropeDim > headDim || ropeDim % 2 != 0) {
            throw new IllegalArgumentException("rope: ropeDim " + ropeDim + " must be even and at most headDim " + headDim);
        }
        s.launch(KernelNames.ROPE_NEOX, LaunchGrid.linear((long) tokens * heads, 64), KernelArg.of(x),
                KernelArg.of(positions), KernelArg.i32(tokens), KernelArg.i32(heads), KernelArg.i32(headDim),
                KernelArg.i32(ropeDim), KernelArg.f32(freqBase), KernelArg.f32(freqScale));
    }

    /** See {@link CpuTwins#attention}: decode is {@code tokens == 1}, prefill any larger count. */
    public static void attention(Stream s, DeviceBuffer q, DeviceBuffer kCache, DeviceBuffer vCache, DeviceBuffer out,
                                 int tokens, int nHead, int nHeadKv, int headDim, int startPos, float scale) {
        if (nHeadKv < 1 || nHead % nHeadKv != 0) {
            throw new IllegalArgumentException("attention: nHead " + nHead + " is not a multiple of nHeadKv " + nHeadKv);
        }
        LaunchGrid grid = new LaunchGrid(nHead, tokens, 1, ROW_THREADS, 1, 1, (ATTENTION_TILE + 2 * headDim) * 4);
        s.launch(KernelNames.ATTENTION, grid, KernelArg.of(q), KernelArg.of(kCache), KernelArg.of(vCache),
                KernelArg.of(out), KernelArg.i32(tokens), KernelArg.i32(nHead), KernelArg.i32(nHeadKv),
                KernelArg.i32(headDim), KernelArg.i32(startPos), KernelArg.f32(scale));
    }

    /** See {@link CpuTwins#swiglu}. */
    public static void swiglu(Stream s, DeviceBuffer gate, DeviceBuffer up, DeviceBuffer out, long n) {
        s.launch(KernelNames.SWIGLU, LaunchGrid.covering(n, 256), KernelArg.of(gate), KernelArg.of(up), KernelArg.of(out),
                KernelArg.i64(n));
    }

    /** See {@link CpuTwins#add}. */
    public static void add(Stream s, DeviceBuffer a, DeviceBuffer b, DeviceBuffer out, long n) {
        s.launch(KernelNames.ADD, LaunchGrid.covering(n, 256), KernelArg.of(a), KernelArg.of(b), KernelArg.of(out),
                KernelArg.i64(n));
    }

    /** See {@link CpuTwins#scale}. */
    public static void scale(Stream s, DeviceBuffer x, DeviceBuffer y, float a, long n) {
        s.launch(KernelNames.SCALE, LaunchGrid.covering(n, 256), KernelArg.of(x), KernelArg.of(y), KernelArg.f32(a),
                KernelArg.i64(n));
    }

    /** See {@link CpuTwins#axpy}. */
    public static void axpy(Stream s, DeviceBuffer x, DeviceBuffer y, float a, long n) {
        s.launch(KernelNames.AXPY, LaunchGrid.covering(n, 256), KernelArg.of(x), KernelArg.of(y), KernelArg.f32(a),
                KernelArg.i64(n));
    }

    /** See {@link CpuTwins#routerTopK}; {@code ids} receives int32 expert ids. */
    public static void routerTopK(Stream s, DeviceBuffer logits, DeviceBuffer ids, DeviceBuffer weights, int tokens,
                                  int experts, int k, boolean renormalize) {
        s.launch(KernelNames.ROUTER_TOPK, LaunchGrid.linear(tokens, 32), KernelArg.of(logits), KernelArg.of(ids),
                KernelArg.of(weights), KernelArg.i32(tokens), KernelArg.i32(experts), KernelArg.i32(k),
                KernelArg.i32(renormalize ? 1 : 0));
    }

    /** See {@link CpuTwins#f32ToF16}. */
    public static void f32ToF16(Stream s, DeviceBuffer x, DeviceBuffer y, long n) {
        s.launch(KernelNames.F32_TO_F16, LaunchGrid.covering(n, 256), KernelArg.of(x), KernelArg.of(y), KernelArg.i64(n));
    }

    /** See {@link CpuTwins#dequantToF16}. */
    public static void dequantToF16(Stream s, QuantFormat format, DeviceBuffer blocks, DeviceBuffer out, long values) {
        format.bytesFor(values);
        s.launch(format.dequantKernel(), LaunchGrid.covering(values, 256), KernelArg.of(blocks), KernelArg.of(out),
                KernelArg.i64(values));
    }

    /** See {@link CpuTwins#matvec}. */
    public static void matvec(Stream s, QuantFormat format, DeviceBuffer weights, DeviceBuffer x, DeviceBuffer y,
                              int rows, int cols) {
        format.bytesFor(cols);
        s.launch(format.matvecKernel(), LaunchGrid.linear(rows, ROW_THREADS), KernelArg.of(weights), KernelArg.of(x),
                KernelArg.of(y), KernelArg.i32(rows), KernelArg.i32(cols));
    }
}
