package dev.ferry.moe.kernel;

import dev.ferry.loader.GgmlType;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;
import jdk.incubator.vector.FloatVector;

/** Facts shared by the kernel classes: supported types and the vector width in use. */
final class Kernels {

    /** Weight types the CPU kernels multiply with. */
    static final Set<GgmlType> SUPPORTED = Collections.unmodifiableSet(EnumSet.of(
            GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_1,
            GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K,
            GgmlType.Q6_K, GgmlType.IQ4_NL, GgmlType.IQ4_XS, GgmlType.MXFP4));

    /**
     * True when the preferred float species has 8 or 16 lanes (AVX2 or AVX-512), which the vector
     * block decoders need (they split 16 packed quants into 8- or 16-lane pieces); otherwise the
     * scalar decoders run and the species-generic dot loops still use what vectors there are.
     */
    static final boolean WIDE = FloatVector.SPECIES_PREFERRED.length() == 8
            || FloatVector.SPECIES_PREFERRED.length() == 16;

    private Kernels() {
    }

    static boolean isSupported(GgmlType type) {
        return SUPPORTED.contains(type);
    }
}
