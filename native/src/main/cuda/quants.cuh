// Per-value decoders of the GGUF block formats, one struct per type. Each mirrors
// dev.ferry.cuda.kernels.QuantFormat#value line for line (same operation order, no fused
// multiply-add) so the CUDA kernels and their CPU twins produce the same floats.
// The decoders also compile for the host (FERRY_HD), so native/test-quants.sh can check them
// against llama.cpp's reference values without a GPU.
#pragma once
#include <cuda_fp16.h>
#include <stdint.h>
#include <string.h>

#define FERRY_HD __host__ __device__ __forceinline__

namespace ferry {

FERRY_HD float ld_half(const uint8_t* p) {
    return __half2float(__ushort_as_half((unsigned short)(p[0] | (p[1] << 8))));
}

#ifdef __CUDA_ARCH__
FERRY_HD float mul(float a, float b) { return __fmul_rn(a, b); }
FERRY_HD float add(float a, float b) { return __fadd_rn(a, b); }
FERRY_HD float sub(float a, float b) { return __fsub_rn(a, b); }
FERRY_HD float bits_to_float(unsigned int bits) { return __uint_as_float(bits); }
#else
// Host code is compiled without contraction (-fno-fast-math defaults), so plain operators round each step.
FERRY_HD float mul(float a, float b) { return a * b; }
FERRY_HD float add(float a, float b) { return a + b; }
FERRY_HD float sub(float a, float b) { return a - b; }
inline float bits_to_float(unsigned int bits) {
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}
#endif

// 32-value blocks: value i < 16 is the low nibble of byte i, i >= 16 the high nibble of byte i - 16.
FERRY_HD int nibble(const uint8_t* qs, int i) {
    int b = qs[i & 15];
    return i < 16 ? (b & 0xF) : (b >> 4);
}

FERRY_HD int qh5(const uint8_t* qh, int i) { return (qh[i >> 3] >> (i & 7)) & 1; }

FERRY_HD int scale_k4(const uint8_t* s, int j) {
    return j < 4 ? (s[j] & 63) : ((s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4));
}

FERRY_HD int min_k4(const uint8_t* s, int j) {
    return j < 4 ? (s[j + 4] & 63) : ((s[j + 4] >> 4) | ((s[j] >> 6) << 4));
}

__constant__ int kIq4nlDevice[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};
__constant__ int kMxfp4Device[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};
static const int kIq4nlHost[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};
static const int kMxfp4Host[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

FERRY_HD int iq4nl(int i) {
#ifdef __CUDA_ARCH__
    return kIq4nlDevice[i];
#else
    return kIq4nlHost[i];
#endif
}

FERRY_HD int mxfp4(int i) {
#ifdef __CUDA_ARCH__
    return kMxfp4Device[i];
#else
    return kMxfp4Host[i];
#endif
}

struct Q4_0 { static constexpr int VALUES = 32, BYTES = 18;
    FERRY_HD static float value(const uint8_t* b, int i) { return mul(ld_half(b), (float)(nibble(b + 2, i) - 8)); } };

struct Q4_1 { static constexpr int VALUES = 32, BYTES = 20;
    FERRY_HD static float value(const uint8_t* b, int i) {
        return add(mul(ld_half(b), (float)nibble(b + 4, i)), ld_half(b + 2)); } };

struct Q5_0 { static constexpr int VALUES = 32, BYTES = 22;
    FERRY_HD static float value(const uint8_t* b, int i) {
        return mul(ld_half(b), (float)((nibble(b + 6, i) | (qh5(b + 2, i) << 4)) - 16)); } };

struct Q5_1 { static constexpr int VALUES = 32, BYTES = 24;
    FERRY_HD static float value(const uint8_t* b, int i) {
        return add(mul(ld_half(b), (float)(nibble(b + 8, i) | (qh5(b + 4, i) << 4))), ld_half(b + 2)); } };

struct Q8_0 { static constexpr int VALUES = 32, BYTES = 34;
    FERRY_HD static float value(const uint8_t* b, int i) { return mul(ld_half(b), (float)(int8_t)b[2 + i]); } };

struct Q2_K { static constexpr int VALUES = 256, BYTES = 84;
    FERRY_HD static float value(const uint8_t* b, int i) {
        int n = i >> 7, r = i & 127, j = r >> 5, w = r & 31, part = w >> 4, l = w & 15;
        int sc = b[8 * n + 2 * j + part];
        int q = (b[16 + 32 * n + 16 * part + l] >> (2 * j)) & 3;
        return sub(mul(mul(ld_half(b + 80), (float)(sc & 0xF)), (float)q), mul(ld_half(b + 82), (float)(sc >> 4))); } };

struct Q3_K { static constexpr int VALUES = 256, BYTES = 110;
    FERRY_HD static float value(const uint8_t* b, int i) {
        int n = i >> 7, r = i & 127, j = r >> 5, w = r & 31, part = w >> 4, l = w & 15;
        int is = 8 * n + 2 * j + part;
        const uint8_t* scales = b + 96;
        int low = is < 8 ? (scales[is] & 0xF) : (scales[is - 8] >> 4);
        int high = (scales[8 + (is & 3)] >> (2 * (is >> 2))) & 3;
        int scale = (low | (high << 4)) - 32;
        int q = (b[32 + 32 * n + 16 * part + l] >> (2 * j)) & 3;
        int hbit = (b[16 * part + l] >> (4 * n + j)) & 1;
        return mul(mul(ld_half(b + 108), (float)scale), (float)(q - (hbit ? 0 : 4))); } };

struct Q4_K { static constexpr int VALUES = 256, BYTES = 144;
    FERRY_HD static float value(const uint8_t* b, int i) {
        int chunk = i >> 6, within = i & 63, hi = within >> 5, l = within & 31, s = 2 * chunk + hi;
        int q = b[16 + 32 * chunk + l];
        int nib = hi == 0 ? (q & 0xF) : (q >> 4);
        return sub(mul(mul(ld_half(b), (float)scale_k4(b + 4, s)), (float)nib),
                   mul(ld_half(b + 2), (float)min_k4(b + 4, s))); } };

struct Q5_K { static constexpr int VALUES = 256, BYTES = 176;
    FERRY_HD static float value(const uint8_t* b, int i) {
        int chunk = i >> 6, within = i & 63, hi = within >> 5, l = within & 31, s = 2 * chunk + hi;
        int q = b[48 + 32 * chunk + l];
        int nib = hi == 0 ? (q & 0xF) : (q >> 4);
        int high = (b[16 + l] >> s) & 1;
        return sub(mul(mul(ld_half(b), (float)scale_k4(b + 4, s)), (float)(nib + 16 * high)),
                   mul(ld_half(b + 2), (float)min_k4(b + 4, s))); } };

struct Q6_K { static constexpr int VALUES = 256, BYTES = 210;
    FERRY_HD static float value(const uint8_t* b, int i) {
        int n = i >> 7, r = i & 127, g = r >> 5, l = r & 31;
        int ql = b[64 * n + l + 32 * (g & 1)];
        int low = g >= 2 ? (ql >> 4) : (ql & 0xF);
        int high = (b[128 + 32 * n + l] >> (2 * g)) & 3;
        int scale = (int8_t)b[192 + 8 * n + (l >> 4) + 2 * g];
        return mul(mul(ld_half(b + 208), (float)scale), (float)((low | (high << 4)) - 32)); } };

struct IQ4_NL { static constexpr int VALUES = 32, BYTES = 18;
    FERRY_HD static float value(const uint8_t* b, int i) { return mul(ld_half(b), (float)iq4nl(nibble(b + 2, i))); } };

struct IQ4_XS { static constexpr int VALUES = 256, BYTES = 136;
    FERRY_HD static float value(const uint8_t* b, int i) {
        int ib = i >> 5, w = i & 31;
        int scales_h = b[2] | (b[3] << 8);
        int ls = ((b[4 + (ib >> 1)] >> (4 * (ib & 1))) & 0xF) | (((scales_h >> (2 * ib)) & 3) << 4);
        int q = b[8 + 16 * ib + (w & 15)];
        int nib = w < 16 ? (q & 0xF) : (q >> 4);
        return mul(mul(ld_half(b), (float)(ls - 32)), (float)iq4nl(nib)); } };

struct MXFP4 { static constexpr int VALUES = 32, BYTES = 17;
    // ggml's E8M0 scale halved: the value table holds doubled E2M1 values.
    FERRY_HD static float value(const uint8_t* b, int i) {
        int e = b[0];
        unsigned int bits = e < 2 ? (0x00200000u << e) : ((unsigned int)(e - 1) << 23);
        return mul(bits_to_float(bits), (float)mxfp4(nibble(b + 1, i))); } };

}  // namespace ferry
