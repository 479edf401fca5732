package dev.ferry.moe.placement;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.hostmemory.numa.NumaPlan;
import dev.ferry.hostmemory.numa.NumaPolicy;
import dev.ferry.moe.kernel.Precision;
import dev.ferry.moe.runtime.InferenceEngine;
import dev.ferry.moe.runtime.LoadedModel;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * On a fake two-socket machine (both pools run on this machine's CPUs): {@code shard} gives each
 * node half the experts and computes every (token, expert) pair on the expert's home node,
 * {@code mirror} makes one replica per node and each node reads only its own, and both give the
 * single-pool logits with the same routing.
 */
class TwoSocketExpertRoutingTest {

    private static final String MODEL = "tiny-qwen3moe-Q8_0.gguf";
    private static LoadedModel model;
    private static int[] ids;
    private static float[][] plain;
    private static long[][] plainPairs;

    @TempDir
    static Path sysfs;

    @BeforeAll
    static void plainPath() {
        model = LoadedModel.open(Runs.fixture(MODEL));
        ids = Runs.tokens(10, model.config().vocabSize(), 11);
        try (InferenceEngine engine = Runs.engine(Runs.twoThreads(), null, Precision.EXACT, System.err)) {
            plain = Runs.logits(engine, model, ids, 6);
            plainPairs = pairsByExpert(engine, 0);
        }
    }

    @AfterAll
    static void close() {
        model.close();
    }

    private static long[][] pairsByExpert(InferenceEngine engine, int node) {
        int layers = model.config().layerCount();
        int experts = model.config().expertCount();
        long[][] out = new long[layers][experts];
        for (int l = 0; l < layers; l++) {
            for (int e = 0; e < experts; e++) {
                out[l][e] = engine.counters().expertPairs(node, l, e);
            }
        }
        return out;
    }

    @Test
    void shardComputesEachExpertOnItsHomeNode() {
        HostContext host = FakeTwoSocketMachine.create(sysfs);
        Runs.Log log = new Runs.Log();
        try (InferenceEngine engine = Runs.engine(Runs.numa(NumaPolicy.SHARD), host, Precision.EXACT, log.stream)) {
            float[][] placed = Runs.logits(engine, model, ids, 6);
            Runs.assertSameLogits(plain, placed, "--numa shard on two nodes");

            PlacedExperts experts = engine.placement(model).experts().orElseThrow();
            NumaPlan plan = experts.plan();
            assertEquals(java.util.List.of(0, 1), plan.nodes());
            Map<String, Integer> homes = plan.expertGroupNodes();
            assertEquals(Set.of(0, 1), new HashSet<>(homes.values()), "experts on both nodes: " + homes);
            long onZero = homes.values().stream().filter(n -> n == 0).count();
            assertTrue(Math.abs(2 * onZero - homes.size()) <= experts.layers().size(), "balanced: " + onZero + " of " + homes.size());

            NodeWorkCounters counters = engine.counters();
            long[][] zero = pairsByExpert(engine, 0);
            long[][] one = pairsByExpert(engine, 1);
            for (int l : experts.layers()) {
                for (int e = 0; e < model.config().expertCount(); e++) {
                    int home = homes.get(ExpertPlacement.expertGroup(l, e));
                    long away = home == 0 ? one[l][e] : zero[l][e];
                    assertEquals(0, away, "layer " + l + " expert " + e + " (home node " + home + ") computed off its node");
                    assertEquals(plainPairs[l][e], zero[l][e] + one[l][e], "layer " + l + " expert " + e + ": same routing as one pool");
                    assertEquals(home, experts.homeNode(l, e));
                }
            }
            assertTrue(counters.pairs(0) > 0 && counters.pairs(1) > 0, counters.describe());
            assertEquals(0, counters.remotePairs(0) + counters.remotePairs(1), counters.describe());
            assertTrue(counters.expertRows(1) > 0, counters.describe());
            assertTrue(log.text().contains("--numa shard"), log.text());
            assertEquals(2, engine.threads(), "one worker per physical core, on both nodes");
            String report = engine.describe(model);
            assertTrue(report.contains("node 0 1 (CPUs 0), node 1 1 (CPUs 1)"), report);
            assertTrue(report.contains("Dense layers, attention and router: 1 workers of node 0"), report);
        }
    }

    @Test
    void mirrorGivesEachNodeItsOwnReplica() {
        HostContext host = FakeTwoSocketMachine.create(sysfs);
        try (InferenceEngine engine = Runs.engine(Runs.numa(NumaPolicy.MIRROR), host, Precision.EXACT, new Runs.Log().stream)) {
            float[][] placed = Runs.logits(engine, model, ids, 6);
            Runs.assertSameLogits(plain, placed, "--numa mirror on two nodes");

            PlacedExperts experts = engine.placement(model).experts().orElseThrow();
            int layer = experts.layers().get(0);
            PlacedExperts.NodeView v0 = experts.view(layer, 0);
            PlacedExperts.NodeView v1 = experts.view(layer, 1);
            assertTrue(v0.local() && v1.local());
            assertEquals(model.config().expertCount(), v0.experts().size());
            assertNotEquals(v0.gate().data().address(), v1.gate().data().address(), "separate replicas");
            assertEquals(v0.gate().data().byteSize(), v1.gate().data().byteSize());
            assertEquals(-1, v0.gate().data().mismatch(v1.gate().data()), "replicas hold the same bytes");

            NodeWorkCounters counters = engine.counters();
            assertTrue(counters.pairs(0) > 0 && counters.pairs(1) > 0, counters.describe());
            assertEquals(0, counters.remotePairs(0) + counters.remotePairs(1), counters.describe());
            long[][] zero = pairsByExpert(engine, 0);
            long[][] one = pairsByExpert(engine, 1);
            for (int l : experts.layers()) {
                for (int e = 0; e < model.config().expertCount(); e++) {
                    assertEquals(plainPairs[l][e], zero[l][e] + one[l][e], "layer " + l + " expert " + e);
                }
            }
            assertEquals(2L * experts.mapped(layer, ExpertProjection.GATE).data().byteSize() * 3 * experts.layers().size(),
                    experts.placedBytes());
        }
    }

    @Test
    void distributeSharesOneInterleavedCopyAndSaysItIsNotLocal() {
        HostContext host = FakeTwoSocketMachine.create(sysfs);
        try (InferenceEngine engine = Runs.engine(Runs.numa(NumaPolicy.DISTRIBUTE), host, Precision.EXACT, new Runs.Log().stream)) {
            float[][] placed = Runs.logits(engine, model, ids, 6);
            Runs.assertSameLogits(plain, placed, "--numa distribute on two nodes");
            PlacedExperts experts = engine.placement(model).experts().orElseThrow();
            int layer = experts.layers().get(0);
            assertEquals(experts.view(layer, 0).gate().data().address(), experts.view(layer, 1).gate().data().address());
            NodeWorkCounters counters = engine.counters();
            assertEquals(counters.totalPairs(), counters.remotePairs(0) + counters.remotePairs(1),
                    "interleaved pages are half remote for every node: " + counters.describe());
        }
    }

    @Test
    void isolateUsesOnlyTheStartNode() {
        HostContext host = FakeTwoSocketMachine.create(sysfs);
        try (InferenceEngine engine = Runs.engine(Runs.numa(NumaPolicy.ISOLATE), host, Precision.EXACT, new Runs.Log().stream)) {
            float[][] placed = Runs.logits(engine, model, ids, 6);
            Runs.assertSameLogits(plain, placed, "--numa isolate on two nodes");
            assertEquals(java.util.List.of(0), engine.counters().nodes());
            assertEquals(1, engine.threads(), "node 0 has one physical core");
        }
    }
}
