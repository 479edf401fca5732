package dev.ferry.hostmemory.numa;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.hostmemory.ByteSizes;
import dev.ferry.hostmemory.FakeSysfs;
import dev.ferry.hostmemory.PlacementPolicy;
import dev.ferry.hostmemory.linux.MemPolicy;
import dev.ferry.hostmemory.linux.SystemCalls;
import dev.ferry.hostmemory.topology.CpuSet;
import dev.ferry.hostmemory.topology.Topology;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class NumaPlannerTest {

    private static final Topology XEON = Topology.read(FakeSysfs.xeon2Socket56Cores());
    private static final Topology EPYC = Topology.read(FakeSysfs.epyc2SocketNps2());
    private static final Topology VM = Topology.read(FakeSysfs.vmWithoutNuma());

    /** A MoE-like item list: per layer and expert a gate, up and down tensor of uneven sizes, plus shared weights. */
    private static List<PlanItem> experts(int layers, int experts, long seed) {
        Random r = new Random(seed);
        List<PlanItem> items = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            items.add(PlanItem.shared("blk." + l + ".ffn_gate_inp.weight", 4096L * experts));
            for (int e = 0; e < experts; e++) {
                String group = "blk." + l + ".expert." + e;
                long size = 100_000 + r.nextInt(900_000);
                items.add(PlanItem.expert(group + ".gate", size, group));
                items.add(PlanItem.expert(group + ".up", size, group));
                items.add(PlanItem.expert(group + ".down", size + r.nextInt(50_000), group));
            }
        }
        return items;
    }

    private static long total(List<PlanItem> items) {
        return items.stream().mapToLong(PlanItem::bytes).sum();
    }

    @Test
    void policiesParseFromTheirFlagValues() {
        assertEquals(NumaPolicy.DISTRIBUTE, NumaPolicy.parse("distribute"));
        assertEquals(NumaPolicy.ISOLATE, NumaPolicy.parse("isolate"));
        assertEquals(NumaPolicy.NUMACTL, NumaPolicy.parse("numactl"));
        assertEquals(NumaPolicy.MIRROR, NumaPolicy.parse("Mirror"));
        assertEquals(NumaPolicy.SHARD, NumaPolicy.parse(" shard "));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NumaPolicy.parse("spread"));
        assertEquals("--numa: unknown policy 'spread'; valid values: distribute, isolate, numactl, mirror, shard", e.getMessage());
    }

    @Test
    void distributeInterleavesEveryItemOverAllNodes() {
        List<PlanItem> items = List.of(PlanItem.shared("a", 1001), PlanItem.shared("b", 2000));
        NumaPlan plan = NumaPlanner.plan(NumaPolicy.DISTRIBUTE, XEON, ProcessNuma.unbound(XEON, 0), items);
        assertEquals(List.of(0, 1), plan.nodes());
        assertEquals(1501, plan.bytesOnNode(0));
        assertEquals(1500, plan.bytesOnNode(1));
        NumaPlan.Copy copy = plan.item("a").copyReadBy(1);
        assertEquals(PlacementPolicy.interleave(List.of(0, 1)), copy.placement());
        assertEquals(List.of(0, 1), plan.item("a").homeNodes());
    }

    @Test
    void isolateKeepsEverythingOnTheStartNode() {
        List<PlanItem> items = experts(2, 8, 1);
        NumaPlan plan = NumaPlanner.plan(NumaPolicy.ISOLATE, EPYC, ProcessNuma.unbound(EPYC, 2), items);
        assertEquals(List.of(2), plan.nodes());
        assertEquals(Map.of(2, total(items)), plan.bytesPerNode());
        assertEquals(PlacementPolicy.onNode(2), plan.items().get(5).copies().get(0).placement());
    }

    @Test
    void mirrorHoldsOneReplicaPerNodeReadLocally() {
        List<PlanItem> items = experts(2, 8, 2);
        NumaPlan plan = NumaPlanner.plan(NumaPolicy.MIRROR, EPYC, ProcessNuma.unbound(EPYC, 0), items);
        assertEquals(4 * total(items), plan.totalBytes());
        for (int node = 0; node < 4; node++) {
            assertEquals(total(items), plan.bytesOnNode(node));
            for (NumaPlan.ItemPlan ip : plan.items()) {
                assertEquals(PlacementPolicy.onNode(node), ip.copyReadBy(node).placement(), "node reads its own replica");
            }
        }
    }

    @Test
    void shardKeepsEachExpertWholeOnOneNodeAndBalancesBytes() {
        for (Topology t : List.of(XEON, EPYC)) {
            List<PlanItem> items = experts(6, 32, t.nodes().size());
            NumaPlan plan = NumaPlanner.plan(NumaPolicy.SHARD, t, ProcessNuma.unbound(t, 0), items);
            Map<String, List<Integer>> nodesOfGroup = plan.items().stream()
                    .filter(ip -> ip.item().expertGroup().isPresent())
                    .collect(Collectors.groupingBy(ip -> ip.item().expertGroup().get(),
                            Collectors.flatMapping(ip -> ip.homeNodes().stream(), Collectors.toList())));
            assertEquals(6 * 32, nodesOfGroup.size());
            nodesOfGroup.forEach((group, nodes) -> assertEquals(1, nodes.stream().distinct().count(), group + " is split over " + nodes));
            Map<Integer, Long> expertLoad = new java.util.TreeMap<>();
            long largestGroup = 0;
            Map<String, Long> groupBytes = new java.util.HashMap<>();
            for (NumaPlan.ItemPlan ip : plan.items()) {
                ip.item().expertGroup().ifPresent(g -> {
                    groupBytes.merge(g, ip.item().bytes(), Long::sum);
                    expertLoad.merge(ip.homeNodes().get(0), ip.item().bytes(), Long::sum);
                });
            }
            largestGroup = groupBytes.values().stream().mapToLong(Long::longValue).max().orElseThrow();
            long spread = expertLoad.values().stream().mapToLong(Long::longValue).max().orElseThrow()
                    - expertLoad.values().stream().mapToLong(Long::longValue).min().orElseThrow();
            assertEquals(t.nodes().size(), expertLoad.size(), "every node holds experts");
            assertTrue(spread <= largestGroup, "spread " + spread + " exceeds one expert " + largestGroup);
            long sharedBytes = items.stream().filter(i -> i.expertGroup().isEmpty()).mapToLong(PlanItem::bytes).sum();
            assertEquals(total(items) + (t.nodes().size() - 1) * sharedBytes, plan.totalBytes(), "shared weights mirrored");
            assertTrue(plan.notes().contains("6 items outside any expert group (" + ByteSizes.format(sharedBytes) + ") are mirrored on every node"),
                    plan.notes().toString());
            assertEquals(plan.expertGroupNodes().get("blk.0.expert.0"), plan.item("blk.0.expert.0.down").homeNodes().get(0));
        }
    }

    @Test
    void shardPacksLargestFirstOntoTheLeastLoadedNode() {
        List<PlanItem> items = List.of(PlanItem.expert("e1", 5, "g1"), PlanItem.expert("e2", 4, "g2"),
                PlanItem.expert("e3", 3, "g3"), PlanItem.expert("e4", 3, "g4"), PlanItem.expert("e5", 2, "g5"));
        NumaPlan plan = NumaPlanner.plan(NumaPolicy.SHARD, XEON, ProcessNuma.unbound(XEON, 0), items);
        // 5 -> n0, 4 -> n1, 3 -> n1 (7), 3 -> n0 (8), 2 -> n1 (9)
        assertEquals(Map.of(0, 8L, 1, 9L), plan.bytesPerNode());
        assertEquals(List.of(0), plan.item("e4").homeNodes());
    }

    @Test
    void numactlFollowsTheProcessBinding() {
        CpuSet node1 = XEON.node(1).cpus();
        ProcessNuma bound = new ProcessNuma(1, node1, new MemPolicy(MemPolicy.MPOL_BIND, List.of(1)), List.of());
        NumaPlan plan = NumaPlanner.plan(NumaPolicy.NUMACTL, XEON, bound, List.of(PlanItem.shared("w", 1000)));
        assertEquals(List.of(1), plan.nodes());
        assertEquals(Map.of(1, 1000L), plan.bytesPerNode());
        assertEquals(PlacementPolicy.kernelDefault(), plan.item("w").copies().get(0).placement(), "the process policy applies by itself");
        ProcessNuma interleaved = new ProcessNuma(0, XEON.onlineCpus(), new MemPolicy(MemPolicy.MPOL_INTERLEAVE, List.of(0, 1)), List.of());
        NumaPlan spread = NumaPlanner.plan(NumaPolicy.NUMACTL, XEON, interleaved, List.of(PlanItem.shared("w", 1000)));
        assertEquals(Map.of(0, 500L, 1, 500L), spread.bytesPerNode());
        assertTrue(spread.notes().get(0).startsWith("numactl: CPUs 0-111 (nodes [0, 1]), memory policy interleave over [0, 1]"), spread.notes().toString());
    }

    @Test
    void affinityLimitsTheNodesInUse() {
        ProcessNuma pinned = new ProcessNuma(0, CpuSet.range(0, 27), new MemPolicy(MemPolicy.MPOL_DEFAULT, List.of()), List.of());
        assertEquals(List.of(0), NumaPlanner.nodesInUse(NumaPolicy.MIRROR, XEON, pinned));
        assertEquals(List.of(0, 1, 2, 3), NumaPlanner.nodesInUse(NumaPolicy.SHARD, EPYC, ProcessNuma.unbound(EPYC, 0)));
    }

    @Test
    void oneNodeMachineDegradesEveryPolicyToThatNodeAndSaysSo() {
        List<PlanItem> items = experts(1, 4, 3);
        for (NumaPolicy p : List.of(NumaPolicy.DISTRIBUTE, NumaPolicy.MIRROR, NumaPolicy.SHARD)) {
            NumaPlan plan = NumaPlanner.plan(p, VM, ProcessNuma.unbound(VM, 0), items);
            assertEquals(Map.of(0, total(items)), plan.bytesPerNode(), p.flagValue());
            assertTrue(plan.notes().contains("one NUMA node: --numa " + p.flagValue() + " places everything on node 0"), plan.notes().toString());
            assertEquals(PlacementPolicy.onNode(0), plan.items().get(1).copyReadBy(0).placement());
        }
    }

    @Test
    void describeShowsBytesPerNodeAndWarnsWhenANodeIsTooSmall() {
        List<PlanItem> items = List.of(PlanItem.shared("huge", 200L * ByteSizes.GIB));
        NumaPlan plan = NumaPlanner.plan(NumaPolicy.MIRROR, XEON, ProcessNuma.unbound(XEON, 0), items);
        String s = plan.describe(XEON);
        assertTrue(s.startsWith("--numa mirror (one replica per node, each node reads its own) over nodes [0, 1]: 1 items, 200 GiB of weights, 400 GiB resident"), s);
        assertTrue(s.contains("node 1: 200 GiB of 187 GiB (107.0%)"), s);
        assertTrue(s.contains("warning: node 0 would hold 200 GiB but has 187 GiB in total"), s);
    }

    @Test
    void theRunningProcessBindingIsReadable() {
        Topology t = Topology.system();
        ProcessNuma p = ProcessNuma.current(t, SystemCalls.linux());
        assertTrue(t.hasNode(p.startNode()));
        assertTrue(!p.affinity().isEmpty() && t.onlineCpus().and(p.affinity()).equals(p.affinity()), p.toString());
        NumaPlan plan = NumaPlanner.plan(NumaPolicy.ISOLATE, t, p, List.of(PlanItem.shared("w", 4096)));
        assertEquals(List.of(p.startNode()), plan.nodes());
    }
}
