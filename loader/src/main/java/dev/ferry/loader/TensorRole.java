package dev.ferry.loader;

/**
 * What a tensor does in a transformer, judged from its llama.cpp name. Placement and reports group
 * tensors by role: routed experts stay in host RAM, the rest usually goes to the GPU.
 */
public enum TensorRole {
    /** token_embd (and position embeddings). */
    EMBEDDING("embeddings"),
    /** output.weight, the LM head. */
    OUTPUT("output"),
    /** Every *_norm tensor (attention, FFN, Q/K, output norms). */
    NORM("norms"),
    /** attn_q, attn_k, attn_v, attn_output, MLA projections. */
    ATTENTION("attention"),
    /** ffn_gate_inp (the router) and the expert score bias exp_probs_b. */
    ROUTER("router"),
    /** ffn_*_exps: the per-expert weights, stacked on the third dimension. */
    ROUTED_EXPERTS("routed experts"),
    /** ffn_*_shexp: the shared expert every token passes through. */
    SHARED_EXPERTS("shared experts"),
    /** ffn_up, ffn_gate, ffn_down of dense layers. */
    DENSE_FFN("dense FFN"),
    OTHER("other");

    private final String label;

    TensorRole(String label) {
        this.label = label;
    }

    /** Human-readable plural, e.g. "routed experts". */
    public String label() {
        return label;
    }

    /** The role of the tensor with this llama.cpp name. */
    public static TensorRole of(String name) {
        String base = name;
        if (base.startsWith("blk.")) {
            int dot = base.indexOf('.', 4);
            base = dot < 0 ? base : base.substring(dot + 1);
        }
        if (base.startsWith("token_embd.") || base.startsWith("pos_embd.") || base.equals("token_embd")) {
            return EMBEDDING;
        }
        if (base.startsWith("output.") || base.equals("output")) {
            return OUTPUT;
        }
        if (base.contains("_norm") || base.startsWith("norm.")) {
            return NORM;
        }
        if (base.contains("_shexp")) {
            return SHARED_EXPERTS;
        }
        if (base.contains("_exps")) {
            return ROUTED_EXPERTS;
        }
        if (base.startsWith("ffn_gate_inp") || base.startsWith("exp_probs_b")) {
            return ROUTER;
        }
        if (base.startsWith("attn_")) {
            return ATTENTION;
        }
        if (base.startsWith("ffn_up") || base.startsWith("ffn_down") || base.startsWith("ffn_gate")) {
            return DENSE_FFN;
        }
        return OTHER;
    }
}
