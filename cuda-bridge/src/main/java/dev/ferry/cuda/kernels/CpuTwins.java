package dev.ferry.cuda.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * CPU implementations of the kernels in {@code native/}, with the same arguments and the same
 * semantics (documented on each method and in the .cu sources). They are straightforward
 * scalar code: the simulated device exists to check behaviour, not speed.
 */
public final class CpuTwins {

    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfShort F16 = ValueLayout.JAVA_SHORT_UNALIGNED;

    private CpuTwins() {
    }

    /** Registers the twin of every kernel in {@code native/}. */
    public static void registerAll(KernelRegistry registry) {
        registry.register(KernelNames.RMSNORM, (grid, a) -> {
            a.expectCount(6);
            rmsNorm(a.segment(0), a.segment(1), a.segment(2), a.i32(3), a.i32(4), a.f32(5));
        });
        registry.register(KernelNames.ROPE_NEOX, (grid, a) -> {
            a.expectCount(8);
            ropeNeox(a.segment(0), a.segment(1), a.i32(2), a.i32(3), a.i32(4), a.i32(5), a.f32(6), a.f32(7));
        });
        registry.register(KernelNames.ATTENTION, (grid, a) -> {
            a.expectCount(10);
            attention(a.segment(0), a.segment(1), a.segment(2), a.segment(3), a.i32(4), a.i32(5), a.i32(6), a.i32(7),
                    a.i32(8), a.f32(9));
        });
        registry.register(KernelNames.SWIGLU, (grid, a) -> {
            a.expectCount(4);
            swiglu(a.segment(0), a.segment(1), a.segment(2), a.i64(3));
        });
        registry.register(KernelNames.ADD, (grid, a) -> {
            a.expectCount(4);
            add(a.segment(0), a.segment(1), a.segment(2), a.i64(3));
        });
        registry.register(KernelNames.ROUTER_TOPK, (grid, a) -> {
            a.expectCount(7);
            routerTopK(a.segment(0), a.segment(1), a.segment(2), a.i32(3), a.i32(4), a.i32(5), a.i32(6) != 0);
        });
        registry.register(KernelNames.SCALE, (grid, a) -> {
            a.expectCount(4);
            scale(a.segment(0), a.segment(1), a.f32(2), a.i64(3));
        });
        registry.register(KernelNames.AXPY, (grid, a) -> {
            a.expectCount(4);
            axpy(a.segment(0), a.segment(1), a.f32(2), a.i64(3));
        });
        registry.register(KernelNames.F32_TO_F16, (grid, a) -> {
            a.expectCount(3);
            f32ToF16(a.segment(0), a.segment(1), a.i64(2));
        });
        for (QuantFormat format : QuantFormat.values()) {
            registry.register(format.dequantKernel(), (grid, a) -> {
                a.expectCount(3);
                dequantToF16(format, a.segment(0), a.segment(1), a.i64(2));
            });
            registry.register(format.matvecKernel(), (grid, a) -> {
                a.expectCount(5);
                matvec(format, a.segment(0), a.segment(1), a.segment(2), a.i32(3), a.i32(4));
            });
        }
    }

    /** {@code y[r][i] = x[r][i] / sqrt(mean_i(x[r][i]^2) + eps) * w[i]} for {@code rows} rows of {@code dim}. */
    public static void rmsNorm(MemorySegment x, MemorySegment w, MemorySegment y, int rows, int dim, float eps) {
        for (long r = 0; r < rows; r++) {
            long base = r * dim * 4L;
            float sum = 0;
            for (long i = 0; i < dim; i++) {
                float v = x.get(F32, base + i * 4);
                sum += v * v;
            }
            float scale = (float) (1.0 / Math.sqrt(sum / dim + eps));
            for (long i = 0; i < dim; i++) {
                y.set(F32, base + i * 4, x.get(F32, base + i * 4) * scale * w.get(F32, i * 4));
            }
        }
    }

    /**
     * NEOX rotary embedding in place on {@code x[tokens][heads][headDim]}: for pair
     * {@code i < ropeDim/2}, angle {@code freqScale * pos[t] * freqBase^(-2i/ropeDim)} rotates
     * {@code (x[i], x[i + ropeDim/2])}; values past {@code ropeDim} are left alone.
     */
    public static void ropeNeox(MemorySegment x, MemorySegment positions, int tokens, int heads, int headDim,
                                int ropeDim, float freqBase, float freqScale) {
        int half = ropeDim / 2;
        for (long t = 0; t < tokens; t++) {
            int pos = positions.get(I32, t * 4);
            for (long h = 0; h < heads; h++) {
                long base = (t * heads + h) * headDim * 4L;
                for (int i = 0; i < half; i++) {
                    float theta = freqScale * pos * (float) Math.pow(freqBase, -2.0 * i / ropeDim);
                    float c = (float) Math.cos(theta);
                    float s = (float) Math.sin(theta);
                    long a0 = base + i * 4L;
                    long a1 = base + (i + half) * 4L;
                    float x0 = x.get(F32, a0);
                    float x1 = x.get(F32, a1);
                    x.set(F32, a0, x0 * c - x1 * s);
                    x.set(F32, a1, x0 * s + x1 * c);
                }
            }
        }
    }

    /**
     * Causal softmax attention over a KV cache, decode ({@code tokens == 1}) and prefill alike.
     * {@code q} and {@code out} are {@code [tokens][nHead][headDim]}; the caches are
     * {@code [position][nHeadKv][headDim]} and already hold positions {@code 0 .. startPos+tokens-1}.
     * Token t (position {@code startPos + t}) attends to positions {@code 0 .. startPos + t};
     * query head h reads KV head {@code h / (nHead / nHeadKv)} (grouped-query attention).
     */
    public static void attention(MemorySegment q, MemorySegment k, MemorySegment v, MemorySegment out, int tokens,
                                 int nHead, int nHeadKv, int headDim, int startPos, float scale) {
        if (nHeadKv < 1 || nHead % nHeadKv != 0) {
            throw new IllegalArgumentException("attention: nHead " + nHead + " is not a multiple of nHeadKv " + nHeadKv);
        }
        int group = nHead / nHeadKv;
        float[] scores = new float[startPos + tokens];
        float[] acc = new float[headDim];
        for (long t = 0; t < tokens; t++) {
            int last = (int) (startPos + t);
            for (int h = 0; h < nHead; h++) {
                long qBase = (t * nHead + h) * headDim * 4L;
                int kvh = h / group;
                float max = Float.NEGATIVE_INFINITY;
                for (int p = 0; p <= last; p++) {
                    long kBase = ((long) p * nHeadKv + kvh) * headDim * 4L;
                    float dot = 0;
                    for (long d = 0; d < headDim; d++) {
                        dot += q.get(F32, qBase + d * 4) * k.get(F32, kBase + d * 4);
                    }
                    scores[p] = dot * scale;
                    max = Math.max(max, scores[p]);
                }
                float sum = 0;
                for (int p = 0; p <= last; p++) {
                    scores[p] = (float) Math.exp(scores[p] - max);
                    sum += scores[p];
                }
                java.util.Arrays.fill(acc, 0f);
                for (int p = 0; p <= last; p++) {
                    long vBase = ((long) p * nHeadKv + kvh) * headDim * 4L;
                    float weight = scores[p] / sum;
                    for (int d = 0; d < headDim; d++) {
                        acc[d] += weight * v.get(F32, vBase + d * 4L);
                    }
                }
                for (int d = 0; d < headDim; d++) {
                    out.set(F32, qBase + d * 4L, acc[d]);
                }
            }
        }
    }

    /** {@code out[i] = silu(gate[i]) * up[i]} with {@code silu(g) = g / (1 + exp(-g))}. */
    public static void swiglu(MemorySegment gate, MemorySegment up, MemorySegment out, long n) {
        for (long i = 0; i < n; i++) {
            float g = gate.get(F32, i * 4);
            out.set(F32, i * 4, g / (1f + (float) Math.exp(-g)) * up.get(F32, i * 4));
        }
    }

    /** {@code out[i] = a[i] + b[i]}; {@code out} may be {@code a} or {@code b}. */
    public static void add(MemorySegment a, MemorySegment b, MemorySegment out, long n) {
        for (long i = 0; i < n; i++) {
            out.set(F32, i * 4, a.get(F32, i * 4) + b.get(F32, i * 4));
        }
    }

    /** {@code y[i] = a * x[i]}; {@code y} may be {@code x}. */
    public static void scale(MemorySegment x, MemorySegment y, float a, long n) {
        for (long i = 0; i < n; i++) {
            y.set(F32, i * 4, a * x.get(F32, i * 4));
        }
    }

    /** {@code y[i] += a * x[i]}, fused multiply-add. */
    public static void axpy(MemorySegment x, MemorySegment y, float a, long n) {
        for (long i = 0; i < n; i++) {
            y.set(F32, i * 4, Math.fma(a, x.get(F32, i * 4), y.get(F32, i * 4)));
        }
    }

    /**
     * Router of an MoE layer, per token: softmax over {@code experts} logits, the {@code k} most
     * probable experts (ties to the lower index) in descending order into {@code ids} (int32),
     * their probabilities into {@code weights}, divided by their sum when {@code renormalize}.
     */
    public static void routerTopK(MemorySegment logits, MemorySegment ids, MemorySegment weights, int tokens,
                                  int experts, int k, boolean renormalize) {
        if (k < 1 || k > experts) {
            throw new IllegalArgumentException("router top-k: k=" + k + " must be in 1.." + experts);
        }
        float[] probs = new float[experts];
        boolean[] taken = new boolean[experts];
        for (long t = 0; t < tokens; t++) {
            long base = t * experts * 4L;
            float max = Float.NEGATIVE_INFINITY;
            for (int e = 0; e < experts; e++) {
                max = Math.max(max, logits.get(F32, base + e * 4L));
            }
            float sum = 0;
            for (int e = 0; e < experts; e++) {
                probs[e] = (float) Math.exp(logits.get(F32, base + e * 4L) - max);
                sum += probs[e];
            }
            for (int e = 0; e < experts; e++) {
                probs[e] /= sum;
            }
            java.util.Arrays.fill(taken, false);
            float picked = 0;
            for (int j = 0; j < k; j++) {
                int best = -1;
                for (int e = 0; e < experts; e++) {
                    if (!taken[e] && (best < 0 || probs[e] > probs[best])) {
                        best = e;
                    }
                }
                taken[best] = true;
                ids.set(I32, (t * k + j) * 4, best);
                weights.set(F32, (t * k + j) * 4, probs[best]);
                picked += probs[best];
            }
            if (renormalize) {
                for (int j = 0; j < k; j++) {
                    long at = (t * k + j) * 4;
                    weights.set(F32, at, weights.get(F32, at) / picked);
                }
            }
        }
    }

    /** {@code y[i] = (half) x[i]}, round to nearest even. */
    public static void f32ToF16(MemorySegment x, MemorySegment y, long n) {
        for (long i = 0; i < n; i++) {
            y.set(F16, i * 2, Float.floatToFloat16(x.get(F32, i * 4)));
        }
    }

    /** Decodes {@code values} values (whole blocks) of {@code format} to F16 (round to nearest even). */
    public static void dequantToF16(QuantFormat format, MemorySegment blocks, MemorySegment out, long values) {
        int per = format.blockValues();
        format.bytesFor(values);
        for (long b = 0; b < values / per; b++) {
            long at = b * format.blockBytes();
            for (int i = 0; i < per; i++) {
                out.set(F16, (b * per + i) * 2, Float.floatToFloat16(format.value(blocks, at, i)));
            }
        }
    }

    /**
     * {@code y[r] = sum_c w[r][c] * x[c]} for a {@code rows x cols} matrix of {@code format}
     * (rows stored one after another) and an F32 vector, accumulated in F32 per block and then
     * summed over blocks. The vector is not rounded to a quant type.
     */
    public static void matvec(QuantFormat format, MemorySegment w, MemorySegment x, MemorySegment y, int rows,
                              int cols) {
        long rowBytes = format.bytesFor(cols);
        int per = format.blockValues();
        long blocks = cols / per;
        for (long r = 0; r < rows; r++) {
            float sum = 0;
            for (long b = 0; b < blocks; b++) {
                long at = r * rowBytes + b * format.blockBytes();
                float partial = 0;
                for (int i = 0; i < per; i++) {
                    partial += format.value(w, at, i) * x.get(F32, (b * per + i) * 4);
                }
                sum += partial;
            }
            y.set(F32, r * 4, sum);
        }
    }

    /** F32 result of {@link dev.ferry.cuda.GemmCall} semantics for F16 or F32 inputs. */
    public static void gemm(boolean f16, MemorySegment weights, MemorySegment input, MemorySegment out, int m, int n,
                            int k, int batch, long weightsStride, long inputStride, long outputStride, float alpha,
                            float beta) {
        long elem = f16 ? 2 : 4;
        float[] row = new float[k];
        float[] col = new float[k];
        for (long b = 0; b < batch; b++) {
            long wBase = b * weightsStride * elem;
            long xBase = b * inputStride * elem;
            long oBase = b * outputStride * 4;
            for (long i = 0; i < m; i++) {
                load(f16, input, xBase + i * k * elem, row);
                for (long j = 0; j < n; j++) {
                    load(f16, weights, wBase + j * k * elem, col);
                    float dot = 0;
                    for (int l = 0; l < k; l++) {
                        dot += row[l] * col[l];
                    }
                    long at = oBase + (i * n + j) * 4;
                    float prior = beta == 0f ? 0f : beta * out.get(F32, at);
                    out.set(F32, at, alpha * dot + prior);
                }
            }
        }
    }

    private static void load(boolean f16, MemorySegment s, long at, float[] into) {
        for (int l = 0; l < into.length; l++) {
            into[l] = f16 ? Float.float16ToFloat(s.get(F16, at + l * 2L)) : s.get(F32, at + l * 4L);
        }
    }
}
