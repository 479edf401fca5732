package dev.ferry.cuda.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Locale;
import java.util.Optional;

/**
 * The GGUF block formats the device kernels decode, with a per-value decoder that mirrors the
 * CUDA device functions in {@code native/src/quants.cuh} line for line, so the CPU twins give
 * the same numbers as the kernels. Layouts follow ggml's block structs.
 */
public enum QuantFormat {
    Q4_0(2, 32, 18),
    Q4_1(3, 32, 20),
    Q5_0(6, 32, 22),
    Q5_1(7, 32, 24),
    Q8_0(8, 32, 34),
    Q2_K(10, 256, 84),
    Q3_K(11, 256, 110),
    Q4_K(12, 256, 144),
    Q5_K(13, 256, 176),
    Q6_K(14, 256, 210),
    IQ4_NL(20, 32, 18),
    IQ4_XS(23, 256, 136),
    MXFP4(39, 32, 17);

    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final int[] IQ4NL_VALUES = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};
    private static final int[] MXFP4_VALUES = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

    private final int ggmlId;
    private final int blockValues;
    private final int blockBytes;

    QuantFormat(int ggmlId, int blockValues, int blockBytes) {
        this.ggmlId = ggmlId;
        this.blockValues = blockValues;
        this.blockBytes = blockBytes;
    }

    public int ggmlId() {
        return ggmlId;
    }

    public int blockValues() {
        return blockValues;
    }

    public int blockBytes() {
        return blockBytes;
    }

    /** Lower-case name used in kernel names, e.g. {@code q4_k}. */
    public String kernelSuffix() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Name of the dequantize-to-F16 kernel. */
    public String dequantKernel() {
        return "ferry_dequant_" + kernelSuffix() + "_f16";
    }

    /** Name of the matrix x vector kernel (F32 vector, F32 result). */
    public String matvecKernel() {
        return "ferry_matvec_" + kernelSuffix() + "_f32";
    }

    /** Bytes of {@code values} values (a multiple of the block size). */
    public long bytesFor(long values) {
        if (values % blockValues != 0) {
            throw new IllegalArgumentException(name() + " holds values in blocks of " + blockValues + "; "
                    + values + " is not a multiple");
        }
        return values / blockValues * blockBytes;
    }

    public static Optional<QuantFormat> byGgmlId(int id) {
        for (QuantFormat f : values()) {
            if (f.ggmlId == id) {
                return Optional.of(f);
            }
        }
        return Optional.empty();
    }

    /** Value {@code i} (0 .. blockValues-1) of the block starting at byte {@code block} of {@code s}. */
    public float value(MemorySegment s, long block, int i) {
        return switch (this) {
            case Q4_0 -> half(s, block) * (nibble(s, block + 2, i) - 8);
            case Q4_1 -> half(s, block) * nibble(s, block + 4, i) + half(s, block + 2);
            case Q5_0 -> half(s, block) * ((nibble(s, block + 6, i) | (qh5(s, block + 2, i) << 4)) - 16);
            case Q5_1 -> half(s, block) * (nibble(s, block + 8, i) | (qh5(s, block + 4, i) << 4)) + half(s, block + 2);
            case Q8_0 -> half(s, block) * s.get(ValueLayout.JAVA_BYTE, block + 2 + i);
            case Q2_K -> q2k(s, block, i);
            case Q3_K -> q3k(s, block, i);
            case Q4_K -> q4k(s, block, i);
            case Q5_K -> q5k(s, block, i);
            case Q6_K -> q6k(s, block, i);
            case IQ4_NL -> half(s, block) * IQ4NL_VALUES[nibble(s, block + 2, i)];
            case IQ4_XS -> iq4xs(s, block, i);
            case MXFP4 -> e8m0Half(u8(s, block)) * MXFP4_VALUES[nibble(s, block + 1, i)];
        };
    }

    private static float half(MemorySegment s, long at) {
        return Float.float16ToFloat(s.get(SHORT, at));
    }

    private static int u8(MemorySegment s, long at) {
        return s.get(ValueLayout.JAVA_BYTE, at) & 0xFF;
    }

    /** 32-value blocks: value i < 16 is the low nibble of byte i, value i >= 16 the high nibble of byte i - 16. */
    private static int nibble(MemorySegment s, long qs, int i) {
        int b = u8(s, qs + (i & 15));
        return i < 16 ? b & 0xF : b >> 4;
    }

    /** Fifth bit of value i of a Q5_0/Q5_1 block: bit i of the little-endian 32-bit qh. */
    private static int qh5(MemorySegment s, long qh, int i) {
        return (u8(s, qh + (i >> 3)) >> (i & 7)) & 1;
    }

    /** 6-bit scale and min j (0..7) packed in the 12 scale bytes of Q4_K/Q5_K. */
    private static int scaleK4(MemorySegment s, long scales, int j) {
        return j < 4 ? u8(s, scales + j) & 63
                : (u8(s, scales + j + 4) & 0xF) | ((u8(s, scales + j - 4) >> 6) << 4);
    }

    private static int minK4(MemorySegment s, long scales, int j) {
        return j < 4 ? u8(s, scales + j + 4) & 63
                : (u8(s, scales + j + 4) >> 4) | ((u8(s, scales + j) >> 6) << 4);
    }

    private static float q4k(MemorySegment s, long b, int i) {
        int chunk = i >> 6;
        int within = i & 63;
        int hi = within >> 5;
        int l = within & 31;
        int sub = 2 * chunk + hi;
        int q = u8(s, b + 16 + 32 * chunk + l);
        int nib = hi == 0 ? q & 0xF : q >> 4;
        float d = half(s, b);
        float dmin = half(s, b + 2);
        return d * scaleK4(s, b + 4, sub) * nib - dmin * minK4(s, b + 4, sub);
    }

    private static float q5k(MemorySegment s, long b, int i) {
        int chunk = i >> 6;
        int within = i & 63;
        int hi = within >> 5;
        int l = within & 31;
        int sub = 2 * chunk + hi;
        int q = u8(s, b + 48 + 32 * chunk + l);
        int nib = hi == 0 ? q & 0xF : q >> 4;
        int high = (u8(s, b + 16 + l) >> sub) & 1;
        float d = half(s, b);
        float dmin = half(s, b + 2);
        return d * scaleK4(s, b + 4, sub) * (nib + 16 * high) - dmin * minK4(s, b + 4, sub);
    }

    private static float q6k(MemorySegment s, long b, int i) {
        int n = i >> 7;
        int r = i & 127;
        int g = r >> 5;
        int l = r & 31;
        int ql = u8(s, b + 64 * n + l + 32 * (g & 1));
        int low = g >= 2 ? ql >> 4 : ql & 0xF;
        int high = (u8(s, b + 128 + 32 * n + l) >> (2 * g)) & 3;
        int scale = s.get(ValueLayout.JAVA_BYTE, b + 192 + 8 * n + (l >> 4) + 2 * g);
        return half(s, b + 208) * scale * ((low | (high << 4)) - 32);
    }

    private static float q2k(MemorySegment s, long b, int i) {
        int n = i >> 7;
        int r = i & 127;
        int j = r >> 5;
        int w = r & 31;
        int part = w >> 4;
        int l = w & 15;
        int sc = u8(s, b + 8 * n + 2 * j + part);
        int q = (u8(s, b + 16 + 32 * n + 16 * part + l) >> (2 * j)) & 3;
        return half(s, b + 80) * (sc & 0xF) * q - half(s, b + 82) * (sc >> 4);
    }

    private static float q3k(MemorySegment s, long b, int i) {
        int n = i >> 7;
        int r = i & 127;
        int j = r >> 5;
        int w = r & 31;
        int part = w >> 4;
        int l = w & 15;
        int is = 8 * n + 2 * j + part;
        long scales = b + 96;
        int low = is < 8 ? u8(s, scales + is) & 0xF : u8(s, scales + is - 8) >> 4;
        int high = (u8(s, scales + 8 + (is & 3)) >> (2 * (is >> 2))) & 3;
        int scale = (low | (high << 4)) - 32;
        int q = (u8(s, b + 32 + 32 * n + 16 * part + l) >> (2 * j)) & 3;
        int hbit = (u8(s, b + 16 * part + l) >> (4 * n + j)) & 1;
        return half(s, b + 108) * scale * (q - (hbit != 0 ? 0 : 4));
    }

    private static float iq4xs(MemorySegment s, long b, int i) {
        int ib = i >> 5;
        int w = i & 31;
        int scalesH = s.get(SHORT, b + 2) & 0xFFFF;
        int ls = ((u8(s, b + 4 + (ib >> 1)) >> (4 * (ib & 1))) & 0xF) | (((scalesH >> (2 * ib)) & 3) << 4);
        int q = u8(s, b + 8 + 16 * ib + (w & 15));
        int nib = w < 16 ? q & 0xF : q >> 4;
        return half(s, b) * (ls - 32) * IQ4NL_VALUES[nib];
    }

    /** ggml's E8M0 scale halved (the MXFP4 value table is doubled). */
    private static float e8m0Half(int e) {
        int bits = e < 2 ? 0x00200000 << e : (e - 1) << 23;
        return Float.intBitsToFloat(bits);
    }
}
