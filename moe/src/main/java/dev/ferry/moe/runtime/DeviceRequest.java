package dev.ferry.moe.runtime;

import dev.ferry.cuda.DeviceChoice;
import dev.ferry.cuda.DeviceOptions;
import dev.ferry.moe.plan.PinnedCache;
import dev.ferry.moe.plan.TensorOverrides;
import dev.ferry.moe.offload.OffloadCosts;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The GPU flags of {@code run}, {@code logits} and {@code bench}, named as in llama.cpp and
 * ik_llama.cpp: which device ({@code --device}), how many layers go there ({@code -ngl}), which
 * tensors stay on the CPU ({@code -ot}, {@code --cpu-moe}, {@code --n-cpu-moe}), the pinned expert
 * cache, and the prefill offload knobs ({@code --offload-batch-size}, {@code --no-op-offload}).
 *
 * @param offloadBatchSize a fixed token threshold for offloading host experts; empty = the cost model
 * @param uploadChunkBytes size of each expert upload buffer; 0 = automatic
 * @param offloadCosts rates for the cost model to use as they are instead of measuring them at
 *     load time (e.g. those an earlier run reported); empty = measure
 */
public record DeviceRequest(DeviceChoice choice, DeviceOptions options, OptionalInt gpuLayers, TensorOverrides overrides,
                            PinnedCache pinned, OptionalInt offloadBatchSize, boolean noOpOffload, long uploadChunkBytes,
                            Optional<OffloadCosts> offloadCosts) {

    public DeviceRequest {
        Objects.requireNonNull(choice, "choice");
        Objects.requireNonNull(options, "options");
        Objects.requireNonNull(gpuLayers, "gpuLayers");
        Objects.requireNonNull(overrides, "overrides");
        Objects.requireNonNull(pinned, "pinned");
        Objects.requireNonNull(offloadBatchSize, "offloadBatchSize");
        if (offloadBatchSize.isPresent() && offloadBatchSize.getAsInt() < 1) {
            throw new IllegalArgumentException("--offload-batch-size: must be at least 1, got " + offloadBatchSize.getAsInt());
        }
        Objects.requireNonNull(offloadCosts, "offloadCosts");
        if (uploadChunkBytes < 0) {
            throw new IllegalArgumentException("upload chunk size must not be negative: " + uploadChunkBytes);
        }
    }

    /** No GPU flags: a real GPU when there is one, llama.cpp's defaults otherwise. */
    public static DeviceRequest defaults() {
        return new DeviceRequest(DeviceChoice.AUTO, DeviceOptions.defaults(), OptionalInt.empty(), TensorOverrides.none(),
                PinnedCache.none(), OptionalInt.empty(), false, 0, Optional.empty());
    }

    /** True when a flag asks for something only a device can do. */
    public boolean asksForDevice() {
        return choice != DeviceChoice.AUTO || (gpuLayers.isPresent() && gpuLayers.getAsInt() > 0) || !overrides.rules().isEmpty()
                || pinned.mode() != PinnedCache.Mode.NONE || offloadBatchSize.isPresent() || noOpOffload;
    }

    /** The same request with the cost model's rates given instead of measured. */
    public DeviceRequest withOffloadCosts(OffloadCosts costs) {
        return new DeviceRequest(choice, options, gpuLayers, overrides, pinned, offloadBatchSize, noOpOffload, uploadChunkBytes,
                Optional.of(costs));
    }
}
