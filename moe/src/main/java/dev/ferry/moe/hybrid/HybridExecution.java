package dev.ferry.moe.hybrid;

import dev.ferry.cuda.Device;
import dev.ferry.moe.offload.OffloadPolicy;
import dev.ferry.moe.offload.PinnedExpertCache;
import dev.ferry.moe.plan.PlacementPlan;
import java.util.Objects;

/**
 * What a session needs to run layers on a device: the device, the placement plan that says which
 * tensors live there, their device copies, the pinned expert cache the uploads read from, the policy that decides per
 * layer and micro-batch where host experts run, and the statistics to add to. The engine owns
 * all of them; sessions only use them.
 *
 * @param uploadChunkBytes size of each of the two expert upload buffers; 0 = a quarter of the
 *     largest layer's host experts (at least one expert)
 */
public record HybridExecution(Device device, PlacementPlan plan, DeviceWeights weights, PinnedExpertCache cache,
                              OffloadPolicy policy, HybridStats stats, long uploadChunkBytes) {

    public HybridExecution {
        Objects.requireNonNull(device, "device");
        Objects.requireNonNull(plan, "plan");
        Objects.requireNonNull(weights, "weights");
        Objects.requireNonNull(cache, "cache");
        Objects.requireNonNull(policy, "policy");
        Objects.requireNonNull(stats, "stats");
        if (uploadChunkBytes < 0) {
            throw new IllegalArgumentException("upload chunk size must not be negative: " + uploadChunkBytes);
        }
    }
}
