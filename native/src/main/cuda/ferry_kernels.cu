// ferry's CUDA kernels. Each has a CPU twin with the same arguments and semantics in
// dev.ferry.cuda.kernels.CpuTwins; launch geometry lives in dev.ferry.cuda.kernels.DeviceKernels.
// Built by native/build-fatbin.sh into a fatbin (sm_80/86/89/90 + compute_90 PTX).
#include <cuda_fp16.h>
#include <math_constants.h>
#include <stdint.h>
#include "quants.cuh"

namespace {

constexpr int kAttentionTile = 256;  // DeviceKernels.ATTENTION_TILE

__device__ __forceinline__ float warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__device__ __forceinline__ float warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// Sum over the block, returned to every thread. blockDim.x must be a multiple of 32.
__device__ float block_sum(float v) {
    __shared__ float partial[32];
    __shared__ float total;
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    v = warp_sum(v);
    if (lane == 0) partial[warp] = v;
    __syncthreads();
    if (warp == 0) {
        float w = lane < (int)(blockDim.x >> 5) ? partial[lane] : 0.0f;
        w = warp_sum(w);
        if (lane == 0) total = w;
    }
    __syncthreads();
    float result = total;
    __syncthreads();
    return result;
}

__device__ float block_max(float v) {
    __shared__ float partial[32];
    __shared__ float total;
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    v = warp_max(v);
    if (lane == 0) partial[warp] = v;
    __syncthreads();
    if (warp == 0) {
        float w = lane < (int)(blockDim.x >> 5) ? partial[lane] : -CUDART_INF_F;
        w = warp_max(w);
        if (lane == 0) total = w;
    }
    __syncthreads();
    float result = total;
    __syncthreads();
    return result;
}

template <typename Q>
__device__ __forceinline__ void dequant_impl(const uint8_t* blocks, __half* out, long long n) {
    long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= n) return;
    long long block = idx / Q::VALUES;
    int i = (int)(idx % Q::VALUES);
    out[idx] = __float2half_rn(Q::value(blocks + block * Q::BYTES, i));
}

// One block per row; each thread sums whole quant blocks, then the block reduces.
template <typename Q>
__device__ __forceinline__ void matvec_impl(const uint8_t* w, const float* x, float* y, int rows, int cols) {
    int row = blockIdx.x;
    if (row >= rows) return;
    int blocks = cols / Q::VALUES;
    const uint8_t* base = w + (long long)row * blocks * Q::BYTES;
    float sum = 0.0f;
    for (int b = threadIdx.x; b < blocks; b += blockDim.x) {
        const uint8_t* blk = base + (long long)b * Q::BYTES;
        const float* xb = x + (long long)b * Q::VALUES;
        float partial = 0.0f;
        for (int i = 0; i < Q::VALUES; i++) partial += Q::value(blk, i) * xb[i];
        sum += partial;
    }
    sum = block_sum(sum);
    if (threadIdx.x == 0) y[row] = sum;
}

}  // namespace

#define FERRY_QUANT_KERNELS(NAME, TYPE)                                                              \
    extern "C" __global__ void ferry_dequant_##NAME##_f16(const uint8_t* blocks, __half* out,       \
                                                          long long n) {                            \
        dequant_impl<ferry::TYPE>(blocks, out, n);                                                  \
    }                                                                                               \
    extern "C" __global__ void ferry_matvec_##NAME##_f32(const uint8_t* w, const float* x, float* y, \
                                                         int rows, int cols) {                      \
        matvec_impl<ferry::TYPE>(w, x, y, rows, cols);                                              \
    }

FERRY_QUANT_KERNELS(q4_0, Q4_0)
FERRY_QUANT_KERNELS(q4_1, Q4_1)
FERRY_QUANT_KERNELS(q5_0, Q5_0)
FERRY_QUANT_KERNELS(q5_1, Q5_1)
FERRY_QUANT_KERNELS(q8_0, Q8_0)
FERRY_QUANT_KERNELS(q2_k, Q2_K)
FERRY_QUANT_KERNELS(q3_k, Q3_K)
FERRY_QUANT_KERNELS(q4_k, Q4_K)
FERRY_QUANT_KERNELS(q5_k, Q5_K)
FERRY_QUANT_KERNELS(q6_k, Q6_K)
FERRY_QUANT_KERNELS(iq4_nl, IQ4_NL)
FERRY_QUANT_KERNELS(iq4_xs, IQ4_XS)
FERRY_QUANT_KERNELS(mxfp4, MXFP4)

// y[r][i] = x[r][i] / sqrt(mean(x[r]^2) + eps) * w[i]; one block per row.
extern "C" __global__ void ferry_rmsnorm_f32(const float* x, const float* w, float* y, int rows, int dim, float eps) {
    int row = blockIdx.x;
    if (row >= rows) return;
    const float* xr = x + (long long)row * dim;
    float* yr = y + (long long)row * dim;
    float sum = 0.0f;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) sum += xr[i] * xr[i];
    sum = block_sum(sum);
    float scale = rsqrtf(sum / dim + eps);
    for (int i = threadIdx.x; i < dim; i += blockDim.x) yr[i] = xr[i] * scale * w[i];
}

// NEOX rotary embedding in place on x[tokens][heads][headDim]; pair i < ropeDim/2 is
// (x[i], x[i + ropeDim/2]) rotated by freqScale * pos * freqBase^(-2i/ropeDim). One block per (token, head).
extern "C" __global__ void ferry_rope_neox_f32(float* x, const int* positions, int tokens, int heads, int headDim,
                                               int ropeDim, float freqBase, float freqScale) {
    int th = blockIdx.x;
    if (th >= tokens * heads) return;
    int t = th / heads;
    float* v = x + (long long)th * headDim;
    int half = ropeDim / 2;
    float pos = (float)positions[t];
    for (int i = threadIdx.x; i < half; i += blockDim.x) {
        float theta = freqScale * pos * powf(freqBase, -2.0f * i / ropeDim);
        float s, c;
        sincosf(theta, &s, &c);
        float x0 = v[i], x1 = v[i + half];
        v[i] = x0 * c - x1 * s;
        v[i + half] = x0 * s + x1 * c;
    }
}

// Causal softmax attention over an F32 KV cache [position][nHeadKv][headDim]; q and out are
// [tokens][nHead][headDim]. Token t sits at position startPos + t and sees positions 0..startPos+t;
// head h reads KV head h / (nHead / nHeadKv). Grid (nHead, tokens); online softmax over tiles of
// kAttentionTile positions. Dynamic shared memory: (kAttentionTile + 2 * headDim) floats.
extern "C" __global__ void ferry_attention_f32(const float* q, const float* k, const float* v, float* out, int tokens,
                                               int nHead, int nHeadKv, int headDim, int startPos, float scale) {
    extern __shared__ float shared[];
    float* scores = shared;
    float* sq = shared + kAttentionTile;
    float* acc = sq + headDim;
    int h = blockIdx.x, t = blockIdx.y;
    if (h >= nHead || t >= tokens) return;
    int kvh = h / (nHead / nHeadKv);
    int last = startPos + t;
    const float* qv = q + ((long long)t * nHead + h) * headDim;
    for (int d = threadIdx.x; d < headDim; d += blockDim.x) {
        sq[d] = qv[d];
        acc[d] = 0.0f;
    }
    __syncthreads();
    float running_max = -CUDART_INF_F;
    float running_sum = 0.0f;
    long long kv_stride = (long long)nHeadKv * headDim;
    for (int tile = 0; tile <= last; tile += kAttentionTile) {
        int n = min(kAttentionTile, last - tile + 1);
        float local_max = -CUDART_INF_F;
        for (int j = threadIdx.x; j < n; j += blockDim.x) {
            const float* kv = k + (long long)(tile + j) * kv_stride + (long long)kvh * headDim;
            float dot = 0.0f;
            for (int d = 0; d < headDim; d++) dot += sq[d] * kv[d];
            scores[j] = dot * scale;
            local_max = fmaxf(local_max, scores[j]);
        }
        float tile_max = block_max(local_max);
        float new_max = fmaxf(running_max, tile_max);
        float correction = expf(running_max - new_max);
        float local_sum = 0.0f;
        for (int j = threadIdx.x; j < n; j += blockDim.x) {
            scores[j] = expf(scores[j] - new_max);
            local_sum += scores[j];
        }
        float tile_sum = block_sum(local_sum);
        running_sum = running_sum * correction + tile_sum;
        for (int d = threadIdx.x; d < headDim; d += blockDim.x) {
            float a = acc[d] * correction;
            const float* vv = v + (long long)tile * kv_stride + (long long)kvh * headDim + d;
            for (int j = 0; j < n; j++) a += scores[j] * vv[(long long)j * kv_stride];
            acc[d] = a;
        }
        running_max = new_max;
        __syncthreads();
    }
    float* o = out + ((long long)t * nHead + h) * headDim;
    for (int d = threadIdx.x; d < headDim; d += blockDim.x) o[d] = acc[d] / running_sum;
}

// out[i] = silu(gate[i]) * up[i].
extern "C" __global__ void ferry_swiglu_f32(const float* gate, const float* up, float* out, long long n) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        float g = gate[i];
        out[i] = g / (1.0f + expf(-g)) * up[i];
    }
}

// out[i] = a[i] + b[i]; out may alias a or b.
extern "C" __global__ void ferry_add_f32(const float* a, const float* b, float* out, long long n) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = a[i] + b[i];
}

// y[i] = a * x[i]; y may alias x.
extern "C" __global__ void ferry_scale_f32(const float* x, float* y, float a, long long n) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = a * x[i];
}

// y[i] += a * x[i], fused (one rounding), as the CPU path's vectorised axpy.
extern "C" __global__ void ferry_axpy_f32(const float* x, float* y, float a, long long n) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = fmaf(a, x[i], y[i]);
}

// Per token (one block each, thread 0 works): softmax over the experts, the k most probable
// (ties to the lower index) in descending order, weights renormalised to sum 1 when asked.
extern "C" __global__ void ferry_router_topk_f32(const float* logits, int* ids, float* weights, int tokens, int experts,
                                                 int k, int renormalize) {
    int t = blockIdx.x;
    if (t >= tokens || threadIdx.x != 0) return;
    const float* l = logits + (long long)t * experts;
    int* id = ids + (long long)t * k;
    float* w = weights + (long long)t * k;
    float mx = -CUDART_INF_F;
    for (int e = 0; e < experts; e++) mx = fmaxf(mx, l[e]);
    float sum = 0.0f;
    for (int e = 0; e < experts; e++) sum += expf(l[e] - mx);
    float picked = 0.0f;
    for (int j = 0; j < k; j++) {
        int best = -1;
        float best_p = 0.0f;
        for (int e = 0; e < experts; e++) {
            bool taken = false;
            for (int u = 0; u < j; u++) taken |= id[u] == e;
            if (taken) continue;
            float p = expf(l[e] - mx) / sum;
            if (best < 0 || p > best_p) {
                best = e;
                best_p = p;
            }
        }
        id[j] = best;
        w[j] = best_p;
        picked += best_p;
    }
    if (renormalize) {
        for (int j = 0; j < k; j++) w[j] = w[j] / picked;
    }
}

// y[i] = (half) x[i], round to nearest even.
extern "C" __global__ void ferry_f32_to_f16(const float* x, __half* y, long long n) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = __float2half_rn(x[i]);
}
