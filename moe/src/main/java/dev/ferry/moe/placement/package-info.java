/**
 * NUMA placement of a model's weights and work, per {@code --numa}.
 *
 * <p>{@link dev.ferry.moe.placement.ExpertPlacement} plans the routed experts (one item per expert
 * and projection, grouped per expert so gate, up and down stay together) with the host-memory
 * planner and copies them into placed buffers ({@link dev.ferry.moe.placement.PlacedExperts});
 * {@link dev.ferry.moe.placement.DenseCopies} copies the other tensors onto the node that runs
 * attention and the dense layers. {@link dev.ferry.moe.placement.CpuPlacement} is what a session
 * receives: the dense pool, one pinned pool per node for the expert layers, the copies and the
 * per-node work counters.
 *
 * <p>Execution: attention, dense layers and the router run on the workers of the node the
 * process started on (so they read only that node's copies). The expert block runs on every
 * node at once, one {@code MatMul} per node: under {@code shard} each (token, expert) pair goes to
 * the node holding the expert; under {@code mirror} (and {@code distribute}, {@code numactl}) the
 * chosen experts are shared out by token count and each node reads the copy the plan gave it.
 * Each pair is computed once, with the same kernel calls as on one pool.
 */
package dev.ferry.moe.placement;
