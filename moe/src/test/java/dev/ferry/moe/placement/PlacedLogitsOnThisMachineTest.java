package dev.ferry.moe.placement;

import dev.ferry.moe.LlamaReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.hostmemory.PagePlacement;
import dev.ferry.hostmemory.numa.NumaPolicy;
import dev.ferry.moe.kernel.Precision;
import dev.ferry.moe.runtime.InferenceEngine;
import dev.ferry.moe.runtime.LoadedModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * On this machine (whatever its nodes), every {@code --numa} policy gives the logits of the plain
 * single-pool path (same kernel calls; see {@link Runs#assertSameLogits}), which agree with llama.cpp; the experts really are copied into
 * placed buffers whose pages sit on the planned node.
 */
class PlacedLogitsOnThisMachineTest {

    private static final String F32_MODEL = "tiny-qwen3moe-F32.gguf";
    private static LoadedModel model;
    private static LlamaReference reference;
    private static float[][] plain;

    @BeforeAll
    static void plainPath() {
        model = LoadedModel.open(Runs.fixture(F32_MODEL));
        reference = LlamaReference.load(F32_MODEL + ".ref.json", "ids");
        try (InferenceEngine engine = Runs.engine(Runs.twoThreads(), null, Precision.EXACT, System.err)) {
            plain = Runs.logits(engine, model, reference.ids(), reference.ids().length - 4);
        }
    }

    @AfterAll
    static void close() {
        model.close();
    }

    @ParameterizedTest(name = "--numa {0}")
    @EnumSource(NumaPolicy.class)
    void everyPolicyReproducesThePlainLogitsAndLlamaCpp(NumaPolicy policy) {
        Runs.Log log = new Runs.Log();
        HostContext host = HostContext.system();
        try (InferenceEngine engine = Runs.engine(Runs.numa(policy), host, Precision.EXACT, log.stream)) {
            float[][] placed = Runs.logits(engine, model, reference.ids(), reference.ids().length - 4);
            Runs.assertSameLogits(plain, placed, "--numa " + policy.flagValue());
            double err = reference.maxError(placed);
            assertTrue(err <= 2e-3, "--numa " + policy.flagValue() + ": largest difference from llama.cpp " + err);

            PlacedExperts experts = engine.placement(model).experts().orElseThrow();
            long expertBytes = 0;
            for (int layer : experts.layers()) {
                for (ExpertProjection p : ExpertProjection.values()) {
                    expertBytes += experts.mapped(layer, p).data().byteSize();
                }
            }
            int nodes = experts.nodes().size();
            long copies = policy == NumaPolicy.MIRROR ? nodes : 1;
            assertEquals(expertBytes * copies, experts.placedBytes(), "bytes copied into placed buffers");
            assertTrue(log.text().contains("--numa " + policy.flagValue() + ": "), log.text());
            long total = engine.counters().totalPairs();
            int used = model.config().expertUsedCount();
            assertEquals((long) reference.ids().length * used * experts.layers().size(), total, "every (token, expert) pair computed once");
            if (policy == NumaPolicy.SHARD || policy == NumaPolicy.MIRROR) {
                for (int node : experts.nodes()) {
                    assertEquals(0, engine.counters().remotePairs(node), "no expert read across nodes under " + policy);
                }
            }
        }
    }

    @Test
    void pagesOfPlacedExpertsLieOnTheOnlyNodeInUse() {
        HostContext host = HostContext.system();
        try (InferenceEngine engine = Runs.engine(Runs.numa(NumaPolicy.ISOLATE), host, Precision.EXACT, new Runs.Log().stream)) {
            PlacedExperts experts = engine.placement(model).experts().orElseThrow();
            int node = experts.nodes().get(0);
            PagePlacement pages = experts.verify(16);
            assertEquals(experts.placedBytes() > 0, pages.bytes() > 0);
            if (host.allocator().calls().isPresent() && pages.bytesUnknown() == 0) {
                assertTrue(pages.isEntirelyOn(node), pages.describe());
            }
            String report = engine.describe(model);
            assertTrue(report.contains("Verified placement of expert buffers"), report);
            assertTrue(report.contains("CPU workers:"), report);
        }
    }

    @Test
    void noMmapAloneCopiesExpertsAndKeepsTheLogits() {
        Runs.Log log = new Runs.Log();
        PlacementOptions noMmap = PlacementOptions.parse(null, 2, false, null, null, true, false);
        try (InferenceEngine engine = Runs.engine(noMmap, HostContext.system(), Precision.EXACT, log.stream)) {
            float[][] copied = Runs.logits(engine, model, reference.ids(), reference.ids().length - 4);
            Runs.assertSameLogits(plain, copied, "--no-mmap");
            CpuPlacement placement = engine.placement(model);
            assertTrue(placement.experts().isPresent());
            DenseCopies dense = placement.dense().orElseThrow();
            assertEquals(model.file().tensor("blk.0.attn_q.weight").byteSize(), dense.data("blk.0.attn_q.weight").orElseThrow().byteSize());
            assertTrue(dense.data("blk.0.ffn_up_exps.weight").isEmpty(), "expert tensors are placed separately");
            assertEquals(-1, dense.data("output_norm.weight").orElseThrow().mismatch(model.file().data(model.file().tensor("output_norm.weight"))));
        }
    }

    @Test
    void denseModelWithNoMmapAndShardReadsItsCopies() {
        try (LoadedModel dense = LoadedModel.open(Runs.fixture("tiny-qwen3-Q8_0.gguf"))) {
            int[] ids = Runs.tokens(8, dense.config().vocabSize(), 3);
            float[][] expected;
            try (InferenceEngine engine = Runs.engine(Runs.twoThreads(), null, Precision.EXACT, System.err)) {
                expected = Runs.logits(engine, dense, ids, 5);
            }
            PlacementOptions shardNoMmap = PlacementOptions.parse("shard", 2, false, null, null, true, false);
            Runs.Log log = new Runs.Log();
            try (InferenceEngine engine = Runs.engine(shardNoMmap, HostContext.system(), Precision.EXACT, log.stream)) {
                Runs.assertSameLogits(expected, Runs.logits(engine, dense, ids, 5), "dense model, --numa shard --no-mmap");
                CpuPlacement placement = engine.placement(dense);
                assertTrue(placement.experts().isEmpty(), "a dense model has no experts to place");
                assertTrue(placement.dense().orElseThrow().tensorCount() > 10);
                assertTrue(log.text().contains("no routed experts"), log.text());
            }
        }
    }

    @Test
    void quantizedModelUnderShardMatchesThePlainPath() {
        try (LoadedModel q = LoadedModel.open(Runs.fixture("tiny-qwen3moe-Q4_0.gguf"))) {
            int[] ids = Runs.tokens(12, q.config().vocabSize(), 7);
            float[][] expected;
            try (InferenceEngine engine = Runs.engine(Runs.twoThreads(), null, Precision.EXACT, System.err)) {
                expected = Runs.logits(engine, q, ids, 9);
            }
            try (InferenceEngine engine = Runs.engine(Runs.numa(NumaPolicy.SHARD), HostContext.system(), Precision.EXACT,
                    new Runs.Log().stream)) {
                float[][] placed = Runs.logits(engine, q, ids, 9);
                Runs.assertSameLogits(expected, placed, "--numa shard, Q4_0");
            }
        }
    }
}
