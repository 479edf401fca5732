package dev.ferry.cuda.kernels;

import java.util.ArrayList;
import java.util.List;

/** Names of the kernels in {@code native/src/*.cu} that are not per quant type. */
public final class KernelNames {

    public static final String RMSNORM = "ferry_rmsnorm_f32";
    public static final String ROPE_NEOX = "ferry_rope_neox_f32";
    public static final String ATTENTION = "ferry_attention_f32";
    public static final String SWIGLU = "ferry_swiglu_f32";
    public static final String ADD = "ferry_add_f32";
    public static final String ROUTER_TOPK = "ferry_router_topk_f32";
    public static final String F32_TO_F16 = "ferry_f32_to_f16";
    public static final String SCALE = "ferry_scale_f32";
    public static final String AXPY = "ferry_axpy_f32";

    private KernelNames() {
    }

    /** Every kernel the native module defines: the names above, then each quant type's two kernels. */
    public static List<String> all() {
        List<String> names = new ArrayList<>(List.of(RMSNORM, ROPE_NEOX, ATTENTION, SWIGLU, ADD, ROUTER_TOPK, F32_TO_F16,
                SCALE, AXPY));
        for (QuantFormat f : QuantFormat.values()) {
            names.add(f.dequantKernel());
            names.add(f.matvecKernel());
        }
        return List.copyOf(names);
    }
}
