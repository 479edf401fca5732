package dev.ferry.moe.arch;

import dev.ferry.moe.kernel.ExpertWeights;
import dev.ferry.moe.kernel.WeightMatrix;
import java.lang.foreign.MemorySegment;

/**
 * The weights of one qwen3 / qwen3moe block. Norm weights are float32 rows; a dense block has
 * {@code ffnGate/ffnUp/ffnDown}, a mixture-of-experts block has the router and the three
 * expert tensors instead.
 */
public record QwenLayer(
        MemorySegment attnNorm,
        WeightMatrix wq,
        WeightMatrix wk,
        WeightMatrix wv,
        WeightMatrix wo,
        MemorySegment qNorm,
        MemorySegment kNorm,
        MemorySegment ffnNorm,
        WeightMatrix ffnGate,
        WeightMatrix ffnUp,
        WeightMatrix ffnDown,
        WeightMatrix router,
        ExpertWeights gateExperts,
        ExpertWeights upExperts,
        ExpertWeights downExperts) {

    public boolean isMixtureOfExperts() {
        return router != null;
    }
}
