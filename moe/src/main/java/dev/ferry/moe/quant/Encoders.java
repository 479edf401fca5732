package dev.ferry.moe.quant;

import dev.ferry.loader.GgmlType;
import java.lang.foreign.MemorySegment;
import java.util.Collections;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Quantizers from float32: the activation formats llama.cpp's CPU backend uses before integer dot
 * products (F16, Q8_0, Q8_1, Q8_K) and weight formats for synthetic models and tests (Q8_0, Q4_0,
 * Q4_K, Q5_K, Q6_K, plus F32/F16/BF16).
 */
public final class Encoders {
    private static final Map<GgmlType, BlockEncoder> REFERENCE = buildReference();
    private static final Set<GgmlType> SUPPORTED = Collections.unmodifiableSet(EnumSet.copyOf(REFERENCE.keySet()));
    private static final BlockEncoder Q8_0_X86 = new Q8Encoders.Q8_0(Q8Rounding.X86_SIMD);
    private static final BlockEncoder Q8_1_X86 = new Q8Encoders.Q8_1(Q8Rounding.X86_SIMD);

    /** Byte offset of the float32 scale in a Q8_K block. */
    public static final int Q8_K_D_OFFSET = Q8Encoders.Q8_K.D_OFFSET;
    /** Byte offset of the 256 int8 quants in a Q8_K block. */
    public static final int Q8_K_QS_OFFSET = Q8Encoders.Q8_K.QS_OFFSET;
    /** Byte offset of the 16 int16 sums (of 16 quants each) in a Q8_K block. */
    public static final int Q8_K_BSUMS_OFFSET = Q8Encoders.Q8_K.BSUMS_OFFSET;

    private Encoders() {
    }

    private static Map<GgmlType, BlockEncoder> buildReference() {
        Map<GgmlType, BlockEncoder> map = new EnumMap<>(GgmlType.class);
        for (BlockEncoder e : new BlockEncoder[] {
                new FloatEncoders.F32(), new FloatEncoders.F16(), new FloatEncoders.BF16(),
                new Q8Encoders.Q8_0(Q8Rounding.REFERENCE), new Q8Encoders.Q8_1(Q8Rounding.REFERENCE),
                new Q8Encoders.Q8_K(),
                new WeightEncoders.Q4_0(), new WeightEncoders.Q4_K(), new WeightEncoders.Q5_K(), new WeightEncoders.Q6_K()}) {
            map.put(e.type(), e);
        }
        return Collections.unmodifiableMap(map);
    }

    /** Every type {@link #of} can write. */
    public static Set<GgmlType> supported() {
        return SUPPORTED;
    }

    public static boolean isSupported(GgmlType type) {
        return SUPPORTED.contains(type);
    }

    /**
     * The encoder for {@code type}; Q8_0 and Q8_1 use ggml's portable reference rounding
     * ({@link Q8Rounding#REFERENCE}).
     *
     * @throws UnsupportedTensorTypeException when ferry cannot write {@code type}
     */
    public static BlockEncoder of(GgmlType type) {
        BlockEncoder encoder = REFERENCE.get(type);
        if (encoder == null) {
            String names = SUPPORTED.stream().map(GgmlType::name).collect(Collectors.joining(", "));
            throw new UnsupportedTensorTypeException(type,
                    "ferry cannot quantize to tensor type " + type + "; it can write: " + names);
        }
        return encoder;
    }

    /** A Q8_0 or Q8_1 encoder with the given rounding. */
    public static BlockEncoder q8(GgmlType type, Q8Rounding rounding) {
        return switch (type) {
            case Q8_0 -> rounding == Q8Rounding.REFERENCE ? REFERENCE.get(GgmlType.Q8_0) : Q8_0_X86;
            case Q8_1 -> rounding == Q8Rounding.REFERENCE ? REFERENCE.get(GgmlType.Q8_1) : Q8_1_X86;
            default -> throw new IllegalArgumentException("Q8 rounding applies to Q8_0 and Q8_1, not " + type);
        };
    }

    /**
     * The activation type llama.cpp's CPU backend converts the other operand to before a dot
     * product with weights of {@code weightType} (ggml's {@code vec_dot_type}).
     *
     * @throws UnsupportedTensorTypeException for weight types without a known CPU dot product
     */
    public static GgmlType dotType(GgmlType weightType) {
        return switch (weightType) {
            case F32 -> GgmlType.F32;
            case F16 -> GgmlType.F16;
            case BF16 -> GgmlType.BF16;
            case Q4_0, Q5_0, Q8_0, IQ4_NL, MXFP4 -> GgmlType.Q8_0;
            case Q4_1, Q5_1 -> GgmlType.Q8_1;
            case Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_XS, TQ1_0, TQ2_0 -> GgmlType.Q8_K;
            default -> throw Decoders.unsupported(weightType);
        };
    }

    /**
     * The encoder llama.cpp's x86-64 CPU backend applies to activations of dot type
     * {@code dotType}: the AVX rounding for Q8_0 and Q8_1, the reference for Q8_K and the floats.
     */
    public static BlockEncoder x86Activations(GgmlType dotType) {
        return switch (dotType) {
            case Q8_0, Q8_1 -> q8(dotType, Q8Rounding.X86_SIMD);
            default -> of(dotType);
        };
    }

    /** Quantizes {@code values} (a whole number of blocks) into a new byte array. */
    public static byte[] quantize(GgmlType type, float[] values) {
        long bytes = type.rowBytes(values.length);
        if (bytes < 0) {
            throw new IllegalArgumentException(type + " rows hold whole blocks of " + type.blockSize()
                    + " values, got " + values.length);
        }
        byte[] out = new byte[Math.toIntExact(bytes)];
        of(type).encodeRow(MemorySegment.ofArray(values), 0, MemorySegment.ofArray(out), 0, values.length);
        return out;
    }
}
