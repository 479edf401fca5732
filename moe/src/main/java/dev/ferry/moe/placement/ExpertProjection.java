package dev.ferry.moe.placement;

/** The three routed-expert tensors of a block; the three of one expert are placed together. */
public enum ExpertProjection {
    GATE("ffn_gate_exps"),
    UP("ffn_up_exps"),
    DOWN("ffn_down_exps");

    private final String tensorStem;

    ExpertProjection(String tensorStem) {
        this.tensorStem = tensorStem;
    }

    /** The GGUF tensor of this projection in {@code layer}, e.g. {@code blk.3.ffn_up_exps.weight}. */
    public String tensorName(int layer) {
        return "blk." + layer + "." + tensorStem + ".weight";
    }
}
