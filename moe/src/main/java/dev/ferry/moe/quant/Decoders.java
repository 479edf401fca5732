package dev.ferry.moe.quant;

import dev.ferry.loader.GgmlType;
import java.lang.foreign.MemorySegment;
import java.util.Collections;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/** The bit-exact decoder for each ggml type ferry supports, and a clear refusal for the rest. */
public final class Decoders {
    private static final Map<GgmlType, BlockDecoder> DECODERS = buildDecoders();
    private static final Set<GgmlType> SUPPORTED = Collections.unmodifiableSet(EnumSet.copyOf(DECODERS.keySet()));

    private Decoders() {
    }

    private static Map<GgmlType, BlockDecoder> buildDecoders() {
        Map<GgmlType, BlockDecoder> map = new EnumMap<>(GgmlType.class);
        for (BlockDecoder d : new BlockDecoder[] {
                new FloatDecoders.F32(), new FloatDecoders.F16(), new FloatDecoders.BF16(),
                new LegacyDecoders.Q4_0(), new LegacyDecoders.Q4_1(), new LegacyDecoders.Q5_0(),
                new LegacyDecoders.Q5_1(), new LegacyDecoders.Q8_0(),
                new KQuantDecoders.Q2_K(), new KQuantDecoders.Q3_K(), new KQuantDecoders.Q4_K(),
                new KQuantDecoders.Q5_K(), new KQuantDecoders.Q6_K(),
                new LookupDecoders.IQ4_NL(), new LookupDecoders.IQ4_XS(), new LookupDecoders.MXFP4(),
                new LookupDecoders.NVFP4(), new LookupDecoders.TQ1_0(), new LookupDecoders.TQ2_0()}) {
            map.put(d.type(), d);
        }
        return Collections.unmodifiableMap(map);
    }

    /** True when {@link #of} returns a decoder for this type. */
    public static boolean isSupported(GgmlType type) {
        return SUPPORTED.contains(type);
    }

    /** Every type with a decoder, in ggml id order. */
    public static Set<GgmlType> supported() {
        return SUPPORTED;
    }

    /**
     * The decoder for {@code type}.
     *
     * @throws UnsupportedTensorTypeException naming the type (and the supported ones) when ferry
     *     cannot decode it
     */
    public static BlockDecoder of(GgmlType type) {
        BlockDecoder decoder = DECODERS.get(type);
        if (decoder == null) {
            throw unsupported(type);
        }
        return decoder;
    }

    /** The exception {@link #of} throws for an unsupported type, for callers that check first. */
    public static UnsupportedTensorTypeException unsupported(GgmlType type) {
        String supportedNames = SUPPORTED.stream().map(GgmlType::name).collect(Collectors.joining(", "));
        String reason = type.isRemoved()
                ? "tensor type " + type + " (id " + type.id() + ") was removed from llama.cpp and no current tool writes or reads it"
                : "tensor type " + type + " (id " + type.id() + ") is not supported yet by ferry's CPU kernels";
        return new UnsupportedTensorTypeException(type, reason + "; supported: " + supportedNames);
    }

    /**
     * Decodes {@code dst.length} values of {@code type} stored at the start of {@code src}, a
     * convenience for tests and small tensors.
     */
    public static void dequantize(GgmlType type, MemorySegment src, float[] dst) {
        of(type).decodeRow(src, 0, MemorySegment.ofArray(dst), 0, dst.length);
    }

    /** Decodes {@code n} values of {@code type} at byte offset {@code srcByteOffset} into a new array. */
    public static float[] dequantize(GgmlType type, MemorySegment src, long srcByteOffset, int n) {
        float[] out = new float[n];
        of(type).decodeRow(src, srcByteOffset, MemorySegment.ofArray(out), 0, n);
        return out;
    }
}
