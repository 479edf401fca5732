package dev.ferry.hostmemory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.hostmemory.topology.CpuSet;
import dev.ferry.hostmemory.topology.Topology;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class CpuSelectionTest {

    private static final Topology XEON = Topology.read(FakeSysfs.xeon2Socket56Cores());
    private static final Topology EPYC = Topology.read(FakeSysfs.epyc2SocketNps2());
    private static final Topology NO_SMT = Topology.read(FakeSysfs.noSmt2Nodes());
    private static final Topology VM = Topology.read(FakeSysfs.vmWithoutNuma());

    private static CpuAssignment select(Topology t, CpuSelection s) {
        return s.select(t, t.nodesWithCpus(), t.onlineCpus());
    }

    private static List<Integer> range(int lo, int hi) {
        return IntStream.rangeClosed(lo, hi).boxed().toList();
    }

    @Test
    void defaultIsOneWorkerPerPhysicalCoreOnEveryNode() {
        CpuAssignment a = select(XEON, CpuSelection.defaults());
        assertEquals(56, a.threads());
        assertEquals(range(0, 27), a.cpus(0));
        assertEquals(range(28, 55), a.cpus(1));
        assertEquals(List.of(), a.notes());
    }

    @Test
    void threadCountIsSplitEvenlyOverTheNodes() {
        CpuAssignment ten = select(XEON, CpuSelection.threads(10));
        assertEquals(range(0, 4), ten.cpus(0));
        assertEquals(range(28, 32), ten.cpus(1));
        CpuAssignment seven = select(XEON, CpuSelection.threads(7));
        assertEquals(4, seven.cpus(0).size());
        assertEquals(3, seven.cpus(1).size());
        CpuAssignment epyc = select(EPYC, CpuSelection.threads(10));
        assertEquals(List.of(3, 3, 2, 2), epyc.nodes().stream().map(n -> epyc.cpus(n).size()).toList());
        assertEquals(List.of(32, 34, 36), epyc.cpus(1), "interleaved siblings: every other CPU is a core");
    }

    @Test
    void epycUsesOnlyTheFirstThreadOfEachCoreByDefault() {
        CpuAssignment a = select(EPYC, CpuSelection.defaults());
        assertEquals(64, a.threads());
        assertTrue(a.allCpus().stream().allMatch(c -> c % 2 == 0), a.describe());
        assertEquals(16, a.cpus(3).size());
    }

    @Test
    void hyperthreadingAddsSiblingsAfterThePhysicalCores() {
        CpuAssignment all = select(XEON, new CpuSelection(0, true, java.util.Optional.empty(), java.util.Optional.empty()));
        assertEquals(112, all.threads());
        assertEquals(56, all.cpus(0).get(28), "siblings follow the 28 cores of node 0");
        CpuAssignment sixty = select(XEON, new CpuSelection(60, true, java.util.Optional.empty(), java.util.Optional.empty()));
        assertEquals(30, sixty.cpus(0).size());
        assertEquals(List.of(56, 57), sixty.cpus(0).subList(28, 30));
    }

    @Test
    void tooManyThreadsAreCappedAtThePhysicalCoresWithANote() {
        CpuAssignment a = select(XEON, CpuSelection.threads(60));
        assertEquals(56, a.threads());
        assertEquals("-t 60 asks for more than the 56 physical cores of nodes [0, 1]: using 56 (add --cpu-use-hyperthreading to use SMT siblings)",
                a.notes().get(0));
    }

    @Test
    void cpuRangeKeepsOnlyTheNodesItTouches() {
        CpuAssignment a = select(EPYC, CpuSelection.parse(0, false, null, "0-15"));
        assertEquals(List.of(0), a.nodes());
        assertEquals(List.of(0, 2, 4, 6, 8, 10, 12, 14), a.cpus(0));
        assertTrue(a.notes().contains("node 1 has no selected CPUs: no workers there"), a.notes().toString());
    }

    @Test
    void cpuMaskAndRangeAddUpAndOfflineCpusAreReported() {
        CpuAssignment a = select(NO_SMT, CpuSelection.parse(0, false, "0xff00", "0-1"));
        assertEquals(List.of(0, 1), a.cpus(0));
        assertEquals(range(8, 14), a.cpus(1));
        assertTrue(a.notes().get(0).startsWith("CPUs 15 from --cpu-mask/--cpu-range are offline"), a.notes().toString());
    }

    @Test
    void processAffinityLimitsTheChoice() {
        CpuAssignment a = new CpuSelection(0, false, java.util.Optional.empty(), java.util.Optional.empty())
                .select(XEON, XEON.nodesWithCpus(), CpuSet.range(0, 13));
        assertEquals(List.of(0), a.nodes());
        assertEquals(range(0, 13), a.cpus(0));
    }

    @Test
    void onlyTheNodesInUseGetWorkers() {
        CpuAssignment a = CpuSelection.defaults().select(XEON, List.of(1), XEON.onlineCpus());
        assertEquals(List.of(1), a.nodes());
        assertEquals(range(28, 55), a.cpus(1));
    }

    @Test
    void vmWithoutNumaRunsEverythingOnNodeZero() {
        CpuAssignment a = select(VM, CpuSelection.threads(2));
        assertEquals(List.of(0, 1), a.cpus(0));
        assertEquals("2 threads: node 0 2 (CPUs 0-1)", a.describe());
    }

    @Test
    void badFlagValuesNameTheFlag() {
        IllegalArgumentException range = assertThrows(IllegalArgumentException.class, () -> CpuSelection.parse(0, false, null, "8"));
        assertEquals("--cpu-range: expected lo-hi, got '8'", range.getMessage());
        IllegalArgumentException mask = assertThrows(IllegalArgumentException.class, () -> CpuSelection.parse(0, false, "zz", null));
        assertTrue(mask.getMessage().startsWith("--cpu-mask: bad CPU mask 'zz'"), mask.getMessage());
        IllegalArgumentException none = assertThrows(IllegalArgumentException.class,
                () -> select(VM, CpuSelection.parse(0, false, null, "100-120")));
        assertTrue(none.getMessage().contains("none of which is online and allowed (0-3)"), none.getMessage());
        assertThrows(IllegalArgumentException.class, () -> CpuSelection.threads(-1));
    }
}
