package dev.ferry.hostmemory.topology;

/**
 * One online logical CPU.
 *
 * @param id the kernel's CPU number
 * @param coreId {@code core_id} from sysfs (unique only within a package), -1 when unknown
 * @param packageId {@code physical_package_id} (the socket), -1 when unknown
 * @param node the NUMA node the CPU belongs to
 * @param siblings the hardware threads of the same physical core, this CPU included
 */
public record Cpu(int id, int coreId, int packageId, int node, CpuSet siblings) {

    /** The first (lowest-numbered) hardware thread of its core: the one used when SMT siblings are excluded. */
    public boolean isPrimaryThread() {
        return siblings.first() == id;
    }
}
