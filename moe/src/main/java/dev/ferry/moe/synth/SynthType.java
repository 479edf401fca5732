package dev.ferry.moe.synth;

import dev.ferry.loader.GgmlType;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The {@code --type} of a synthesized model, named like llama-quantize's file types. Each has a
 * base tensor type; {@link QuantMix} decides every tensor's actual type from it the way
 * llama-quantize does. {@link #fileType()} is the {@code general.file_type} (llama_ftype) code.
 */
public enum SynthType {
    F32(GgmlType.F32, 0),
    F16(GgmlType.F16, 1),
    Q4_0(GgmlType.Q4_0, 2),
    Q8_0(GgmlType.Q8_0, 7),
    /** Q4_K everywhere but the output head; written as llama_ftype Q4_K_S, its nearest relative. */
    Q4_K(GgmlType.Q4_K, 14),
    Q4_K_M(GgmlType.Q4_K, 15),
    /** Q5_K everywhere but the output head; written as llama_ftype Q5_K_S. */
    Q5_K(GgmlType.Q5_K, 16),
    Q5_K_M(GgmlType.Q5_K, 17),
    Q6_K(GgmlType.Q6_K, 18);

    private final GgmlType base;
    private final int fileType;

    SynthType(GgmlType base, int fileType) {
        this.base = base;
        this.fileType = fileType;
    }

    /** The tensor type most weights get. */
    public GgmlType base() {
        return base;
    }

    public int fileType() {
        return fileType;
    }

    /** Parses a {@code --type} value (case-insensitive); the error lists the valid ones. */
    public static SynthType parse(String value) {
        String upper = value.toUpperCase(Locale.ROOT);
        for (SynthType t : values()) {
            if (t.name().equals(upper)) {
                return t;
            }
        }
        throw new IllegalArgumentException("--type: unknown type '" + value + "' (valid: " + names() + ")");
    }

    /** The type names, comma separated. */
    public static String names() {
        return Arrays.stream(values()).map(SynthType::name).collect(Collectors.joining(", "));
    }
}
