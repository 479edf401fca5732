/**
 * Host memory and CPU placement for ferry.
 *
 * <p>Typical use: {@link dev.ferry.hostmemory.HostAllocator#system()} reads the machine
 * ({@link dev.ferry.hostmemory.topology.Topology}) and makes
 * {@link dev.ferry.hostmemory.PlacedBuffer}s with a {@link dev.ferry.hostmemory.PlacementPolicy};
 * {@link dev.ferry.hostmemory.numa.NumaPlanner} turns {@code --numa} plus the tensor list into a
 * plan of copies and bytes per node; {@link dev.ferry.hostmemory.CpuSelection} turns {@code -t},
 * {@code --cpu-use-hyperthreading}, {@code --cpu-mask}, {@code --cpu-range} into a
 * {@link dev.ferry.hostmemory.CpuAssignment} for the plan's nodes, and
 * {@link dev.ferry.hostmemory.WorkerPools} starts one pinned pool per node. Every fallback (one
 * node, mbind refused, no huge pages, pinning refused, not Linux) leaves a working path and one
 * line of text saying which path was taken.
 */
package dev.ferry.hostmemory;
