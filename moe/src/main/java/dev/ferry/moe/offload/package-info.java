/**
 * Prefill offload of the routed experts: the pinned expert cache the uploads read from
 * ({@link dev.ferry.moe.offload.PinnedExpertCache}), the cost model that decides per layer and
 * micro-batch whether the experts run on the CPU or are streamed to the GPU
 * ({@link dev.ferry.moe.offload.OffloadPolicy}), and the load-time measurement of its rates
 * ({@link dev.ferry.moe.offload.OffloadCalibration}).
 */
package dev.ferry.moe.offload;
