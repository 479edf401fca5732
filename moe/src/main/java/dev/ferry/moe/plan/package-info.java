/**
 * The placement plan: from llama.cpp-compatible flags ({@code -ngl}, {@code -ot/--override-tensor},
 * {@code --cpu-moe}, {@code --n-cpu-moe}, {@code --numa}, {@code --no-mmap}, {@code -c},
 * {@code -ctk/-ctv}) and the pinned-cache flags, every tensor of a GGUF file gets exactly one
 * {@link dev.ferry.moe.plan.Home} plus explicit {@link dev.ferry.moe.plan.ExtraCopy extra copies}
 * (NUMA mirrors, the pinned GPU-node copy of the experts), with the bytes it costs on the GPU
 * and per NUMA node and a fit verdict. {@link dev.ferry.moe.plan.PlacementPlanner} makes it from
 * the header alone; {@link dev.ferry.moe.plan.PlanReport} prints it for {@code ferry inspect}.
 */
package dev.ferry.moe.plan;
