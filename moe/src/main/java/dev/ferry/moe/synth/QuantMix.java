package dev.ferry.moe.synth;

import dev.ferry.loader.GgmlType;

/**
 * Picks each tensor's type the way llama-quantize's {@code llama_tensor_get_type} does for the
 * file types ferry can write:
 * <ul>
 * <li>norms (1-D) and the router {@code ffn_gate_inp} stay F32;</li>
 * <li>the output head ({@code token_embd} when embeddings are tied) is Q6_K unless the file type
 *     is Q8_0 or a float type;</li>
 * <li>with exactly 8 experts, {@code attn_k} and {@code attn_v} are Q8_0;</li>
 * <li>Q4_K_M and Q5_K_M: {@code attn_v} and {@code ffn_down(_exps)} of the layers llama.cpp's
 *     {@code use_more_bits} picks (first and last eighth, every third in between) are Q6_K;
 *     Q4_K_M's {@code attn_output} of an 8-expert model is Q5_K;</li>
 * <li>rows that are not a whole number of blocks fall back to Q8_0 (llama.cpp: Q5_0 for Q4_K,
 *     Q5_1 for Q5_K, Q8_0 for Q6_K), then to F32 (llama.cpp: F16).</li>
 * </ul>
 */
public final class QuantMix {

    private final SynthSpec spec;
    private final SynthType type;

    public QuantMix(SynthSpec spec, SynthType type) {
        this.spec = spec;
        this.type = type;
    }

    /** llama.cpp's rule for giving a layer's attn_v / ffn_down more bits. */
    public static boolean useMoreBits(int layer, int layers) {
        return layer < layers / 8 || layer >= 7 * layers / 8 || (layer - layers / 8) % 3 == 2;
    }

    /**
     * The type of tensor {@code role} ("attn_v", "ffn_down_exps", "output", ...) of {@code layer}
     * (-1 outside the blocks), with {@code dims} dimensions and rows of {@code rowLength} values.
     */
    public GgmlType typeOf(String role, int layer, int dims, long rowLength) {
        if (dims == 1 || role.equals("ffn_gate_inp") || type == SynthType.F32) {
            return GgmlType.F32;
        }
        GgmlType base = type.base();
        if (type == SynthType.F16) {
            return fit(base, rowLength);
        }
        boolean outputHead = role.equals("output") || (spec.tiedEmbeddings() && role.equals("token_embd"));
        GgmlType chosen = base;
        boolean mediumMix = type == SynthType.Q4_K_M || type == SynthType.Q5_K_M;
        if (outputHead) {
            chosen = base == GgmlType.Q8_0 || rowLength % base.blockSize() != 0 ? GgmlType.Q8_0 : GgmlType.Q6_K;
        } else if (role.equals("attn_v") || role.equals("attn_k")) {
            if (mediumMix && role.equals("attn_v") && useMoreBits(layer, spec.layers())) {
                chosen = GgmlType.Q6_K;
            }
            if (spec.expertCount() == 8) {
                chosen = GgmlType.Q8_0;
            }
        } else if (role.startsWith("ffn_down")) {
            if (mediumMix && useMoreBits(layer, spec.layers())) {
                chosen = GgmlType.Q6_K;
            }
        } else if (role.equals("attn_output") && type == SynthType.Q4_K_M && spec.expertCount() == 8) {
            chosen = GgmlType.Q5_K;
        }
        return fit(chosen, rowLength);
    }

    /** {@code wanted}, or the fallback when a row is not a whole number of its blocks. */
    private static GgmlType fit(GgmlType wanted, long rowLength) {
        if (rowLength % wanted.blockSize() == 0) {
            return wanted;
        }
        return rowLength % GgmlType.Q8_0.blockSize() == 0 ? GgmlType.Q8_0 : GgmlType.F32;
    }
}
