package dev.ferry.hostmemory.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.hostmemory.FakeSysfs;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class TopologyTest {

    private static Topology read(FakeSysfs fs) {
        return Topology.read(fs);
    }

    @Test
    void xeonNumbersPhysicalCoresFirstAndHyperthreadsAfter() {
        Topology t = read(FakeSysfs.xeon2Socket56Cores());
        assertEquals(112, t.onlineCpus().size());
        assertEquals(2, t.nodes().size());
        assertEquals(2, t.packageCount());
        assertEquals("0-55", t.physicalCores().toListString());
        assertEquals("56-111", t.smtSiblings().toListString());
        assertEquals("0-27", t.physicalCores(0).toListString());
        assertEquals("28-55", t.physicalCores(1).toListString());
        assertEquals(2, t.threadsPerCore());
        assertTrue(t.hasSmt());
        assertEquals(CpuSet.of(3, 59), t.cpu(59).siblings());
        assertFalse(t.cpu(59).isPrimaryThread());
        assertEquals(1, t.nodeOfCpu(90));
        assertEquals(21, t.distance(0, 1));
        assertEquals(10, t.distance(1, 1));
        assertEquals(196_000_000L * 1024, t.node(0).memTotalBytes());
        assertTrue(t.numaFromSysfs());
        assertEquals(List.of(), t.notes());
    }

    @Test
    void epycNps2HasFourNodesWithInterleavedSiblings() {
        Topology t = read(FakeSysfs.epyc2SocketNps2());
        assertEquals(List.of(0, 1, 2, 3), t.nodeIds());
        assertEquals(128, t.onlineCpus().size());
        assertEquals(64, t.physicalCores().size());
        assertEquals(CpuSet.parseList("32,34,36,38,40,42,44,46,48,50,52,54,56,58,60,62"), t.physicalCores(1));
        assertEquals(16, t.physicalCores(3).size());
        assertEquals(CpuSet.of(6, 7), t.cpu(7).siblings());
        assertEquals(12, t.distance(0, 1));
        assertEquals(32, t.distance(1, 2));
        assertEquals(2, t.packageCount());
    }

    @Test
    void machineWithoutSmtCountsEveryOnlineCpuAsACore() {
        Topology t = read(FakeSysfs.noSmt2Nodes());
        assertEquals(15, t.onlineCpus().size(), "CPU 15 is offline");
        assertEquals(t.onlineCpus(), t.physicalCores());
        assertTrue(t.smtSiblings().isEmpty());
        assertFalse(t.hasSmt());
        assertEquals("8-14", t.node(1).cpus().toListString());
        assertEquals(7, t.physicalCores(1).size());
    }

    @Test
    void vmWithoutNumaInformationHasOneImplicitNode() {
        Topology t = read(FakeSysfs.vmWithoutNuma());
        assertFalse(t.numaFromSysfs());
        assertEquals(1, t.nodes().size());
        assertEquals("0-3", t.node(0).cpus().toListString());
        assertEquals(16_000_000L * 1024, t.node(0).memTotalBytes(), "memory from /proc/meminfo");
        assertEquals(4, t.physicalCores().size(), "each CPU its own core without sibling lists");
        assertEquals(10, t.distance(0, 0));
        assertTrue(t.notes().get(0).startsWith("no NUMA information in sys/devices/system/node: one implicit node 0 with all 4 CPUs"), t.notes().toString());
        assertEquals(OptionalInt.of(0), t.nodeOfPciDevice("00:05.0"), "unknown device node on a one-node machine is that node");
        assertTrue(t.describe().contains("(implicit: no NUMA information)"), t.describe());
    }

    @Test
    void thisMachinesSnapshotHasOneNodeAndTwoCpus() {
        Topology t = Topology.read(SysfsReader.ofRoot(FakeSysfs.resourceRoot("sysfs/firecracker-2cpu")));
        assertEquals(1, t.nodes().size());
        assertEquals(CpuSet.of(0, 1), t.onlineCpus());
        assertEquals(CpuSet.of(0, 1), t.physicalCores());
        assertFalse(t.hasSmt());
        assertTrue(t.node(0).memTotalBytes() > 20L << 30, "one node gets the /proc/meminfo total");
        assertTrue(t.notes().stream().anyMatch(n -> n.contains("using /proc/meminfo for the only node")), t.notes().toString());
        assertEquals(OptionalInt.empty(), t.pciDevice("0000:00:03.0").orElseThrow().numaNode());
    }

    @Test
    void theRunningMachineIsReadable() {
        Topology t = Topology.system();
        assertTrue(t.onlineCpus().size() >= Runtime.getRuntime().availableProcessors());
        assertFalse(t.nodes().isEmpty());
        for (int cpu : t.onlineCpus().toList()) {
            assertTrue(t.node(t.nodeOfCpu(cpu)).cpus().contains(cpu));
        }
        assertTrue(t.describe().startsWith("CPU: " + t.onlineCpus().size() + " online CPUs"), t.describe());
    }

    @Test
    void gpuNodeAndLinkAreFoundByAnySpellingOfTheBusId() {
        Topology t = read(FakeSysfs.epyc2SocketNps2());
        PciDevice gpu = t.pciDevice("00000000:C1:00.0").orElseThrow();
        assertEquals("0000:c1:00.0", gpu.busId());
        assertEquals(OptionalInt.of(3), gpu.numaNode());
        PciLink link = gpu.link().orElseThrow();
        assertEquals(16.0, link.speedGts());
        assertEquals(16, link.width());
        assertEquals(32.0, link.maxSpeedGts());
        assertTrue(link.isDegraded());
        assertEquals(31.5e9, link.theoreticalBytesPerSecond(), 0.1e9);
        assertEquals(63.0e9, link.maxTheoreticalBytesPerSecond(), 0.1e9);
        assertEquals(Optional.empty(), t.pciDevice("c2:00.0"));
        String summary = t.describe(Optional.of("c1:00.0"));
        assertTrue(summary.contains("PCI 0000:c1:00.0: on node 3, link PCIe 4.0 x16 (16.0 GT/s), 31.5 GB/s per direction; below its maximum PCIe 5.0 x16"), summary);
        assertThrows(IllegalArgumentException.class, () -> t.pciDevice("gpu0"));
    }

    @Test
    void describeListsNodesCoresSiblingsMemoryAndDistances() {
        Topology t = read(FakeSysfs.xeon2Socket56Cores());
        String s = t.describe(Optional.of("0000:17:00.0"));
        assertTrue(s.contains("CPU: 112 online CPUs, 56 physical cores in 2 packages, SMT 2 threads/core (siblings 56-111)"), s);
        assertTrue(s.contains("node 0: CPUs 0-27,56-83 (28 cores + 28 SMT siblings), memory 187 GiB"), s);
        assertTrue(s.contains("distances: [10 21] [21 10]"), s);
        assertTrue(s.contains("PCI 0000:17:00.0: on node 0, link PCIe 4.0 x16 (16.0 GT/s)"), s);
    }

    @Test
    void memoryOnlyNodeIsListedButHasNoCores() {
        FakeSysfs fs = FakeSysfs.named("cxl").online("0-3").meminfo(96_000_000, 90_000_000);
        for (int c = 0; c < 4; c++) {
            fs.cpu(c, c % 2, c / 2, Integer.toString(c));
        }
        fs.node(0, "0-1", 32_000_000, 30_000_000, "10 21 30");
        fs.node(1, "2-3", 32_000_000, 30_000_000, "21 10 30");
        fs.node(2, "", 32_000_000, 32_000_000, "30 30 10");
        Topology t = read(fs);
        assertEquals(List.of(0, 1, 2), t.nodeIds());
        assertEquals(List.of(0, 1), t.nodesWithCpus());
        assertTrue(t.physicalCores(2).isEmpty());
        assertEquals(30, t.distance(2, 0));
        assertTrue(t.describe().contains("node 2: CPUs none (0 cores), memory 30.5 GiB"), t.describe());
    }
}
