package dev.ferry.moe.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.hostmemory.numa.NumaPolicy;
import dev.ferry.hostmemory.numa.ProcessNuma;
import dev.ferry.hostmemory.topology.Topology;
import dev.ferry.loader.GgufFile;
import dev.ferry.loader.TensorInfo;
import dev.ferry.moe.runtime.KvCache;
import dev.ferry.moe.runtime.KvCacheType;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PlacementPlannerTest {

    private static final long GIB = 1L << 30;
    private static GgufFile moe;

    @TempDir
    Path dir;

    @BeforeAll
    static void open() throws URISyntaxException {
        moe = GgufFile.open(Path.of(PlacementPlannerTest.class.getResource("/fixtures/models/tiny-qwen3moe-Q8_0.gguf").toURI()));
    }

    @AfterAll
    static void close() {
        moe.close();
    }

    private PlacementPlan plan(PlanOptions options, GpuTarget gpu) {
        return plan(options, gpu, FakeMachine.topology(dir, 2, 8L << 20));
    }

    private static PlacementPlan plan(PlanOptions options, GpuTarget gpu, Topology topology) {
        return PlacementPlanner.plan(moe, options, gpu, topology, ProcessNuma.unbound(topology, 0));
    }

    private static Set<String> gpuTensors(PlacementPlan p) {
        return PlacementPlanner.namesAt(p, Home.GPU);
    }

    private static long bytesOf(String regex) {
        return moe.tensors().stream().filter(t -> t.name().matches(regex)).mapToLong(TensorInfo::byteSize).sum();
    }

    /** The pinned copy's size: each expert at a 64 KiB-aligned address, plus one alignment per tensor. */
    private static long pinnedCopyBytes() {
        long kib64 = 64 << 10;
        return moe.tensors().stream().filter(t -> t.name().matches(".*_exps\\.weight")).mapToLong(t -> {
            long experts = t.shape()[2];
            return experts * ((t.byteSize() / experts + kib64 - 1) / kib64 * kib64) + kib64;
        }).sum();
    }

    private static long allBytes() {
        return moe.tensors().stream().mapToLong(TensorInfo::byteSize).sum();
    }

    @Test
    void withAGpuAndNoNglEveryLayerButTheEmbeddingGoesToTheGpu() {
        PlacementPlan p = plan(PlanOptions.defaults(), GpuTarget.planned(24 * GIB));
        assertEquals(5, p.gpuLayers());
        assertEquals(Home.HOST, p.tensor("token_embd.weight").home());
        assertEquals(moe.tensors().size() - 1, gpuTensors(p).size());
        assertEquals(Home.GPU, p.tensor("output.weight").home());
        assertEquals(Home.GPU, p.tensor("output_norm.weight").home());
        assertTrue(p.fits(), p.refusal());
    }

    @Test
    void nglCountsLayersFromTheLastAndTheOutputLayerNeedsMoreThanTheLayerCount() {
        PlacementPlan two = plan(PlanOptions.defaults().withGpuLayers(2), GpuTarget.planned(24 * GIB));
        Set<Integer> gpuLayers = two.tensors().stream().filter(t -> t.home() == Home.GPU).map(TensorPlacement::layer).collect(Collectors.toSet());
        assertEquals(Set.of(2, 3), gpuLayers);
        assertEquals(2, two.firstGpuLayer());
        assertEquals(Home.HOST, two.tensor("output.weight").home());
        assertEquals(Home.HOST, two.tensor("blk.1.attn_q.weight").home());

        PlacementPlan four = plan(PlanOptions.defaults().withGpuLayers(4), GpuTarget.planned(24 * GIB));
        assertEquals(Home.HOST, four.tensor("output.weight").home());
        assertEquals(Home.GPU, four.tensor("blk.0.attn_q.weight").home());
        PlacementPlan five = plan(PlanOptions.defaults().withGpuLayers(99), GpuTarget.planned(24 * GIB));
        assertEquals(5, five.gpuLayers());
        assertEquals(Home.GPU, five.tensor("output.weight").home());
        assertEquals(Home.HOST, five.tensor("token_embd.weight").home());
    }

    @Test
    void cpuMoeKeepsEveryRoutedExpertOnTheHostAndTheRestOnTheGpu() {
        PlacementPlan p = plan(PlanOptions.defaults().withOverrides(TensorOverrides.none().withCpuMoe()), GpuTarget.planned(24 * GIB));
        for (TensorPlacement t : p.tensors()) {
            boolean host = t.name().contains("_exps") || t.name().startsWith("token_embd");
            assertEquals(host ? Home.HOST : Home.GPU, t.home(), t.name());
        }
        assertEquals("--cpu-moe \\.ffn_(up|down|gate)_exps=CPU", p.tensor("blk.3.ffn_up_exps.weight").reason());
    }

    @Test
    void nCpuMoeKeepsTheExpertsOfTheFirstLayersOnTheHost() {
        PlacementPlan p = plan(PlanOptions.defaults().withOverrides(TensorOverrides.none().withCpuMoeLayers(3)), GpuTarget.planned(24 * GIB));
        Set<String> hostExperts = p.tensors().stream().filter(t -> t.home() == Home.HOST && t.routedExperts())
                .map(TensorPlacement::name).collect(Collectors.toSet());
        assertEquals(9, hostExperts.size());
        assertTrue(hostExperts.stream().allMatch(n -> n.matches("blk\\.[012]\\..*")), hostExperts.toString());
        assertEquals(Home.GPU, p.tensor("blk.3.ffn_gate_exps.weight").home());
        assertEquals(Home.GPU, p.tensor("blk.0.attn_k.weight").home());
    }

    @Test
    void anOverrideCanPullAnEmbeddingOrACpuLayerOntoTheGpu() {
        PlanOptions o = PlanOptions.defaults().withGpuLayers(0)
                .withOverrides(TensorOverrides.parse("-ot", List.of("token_embd=CUDA0,blk\\.0\\.attn=CUDA0")));
        PlacementPlan p = plan(o, GpuTarget.planned(24 * GIB));
        assertEquals(Set.of("token_embd.weight", "blk.0.attn_q.weight", "blk.0.attn_k.weight", "blk.0.attn_v.weight",
                "blk.0.attn_output.weight", "blk.0.attn_norm.weight", "blk.0.attn_q_norm.weight", "blk.0.attn_k_norm.weight"), gpuTensors(p));
        assertEquals(0, p.kvBytesGpu(), "the KV cache follows -ngl, not the overrides");
    }

    @Test
    void everyTensorHasOneHomeAndTheHomesAddUpToTheFile() {
        PlacementPlan p = plan(PlanOptions.defaults().withGpuLayers(2).withOverrides(TensorOverrides.none().withCpuMoe()),
                GpuTarget.planned(24 * GIB));
        assertEquals(moe.tensors().size(), p.tensors().size());
        assertEquals(moe.tensors().stream().map(TensorInfo::name).toList(), p.tensors().stream().map(TensorPlacement::name).toList());
        assertEquals(allBytes(), p.tensorBytes());
        assertEquals(allBytes(), p.bytesAt(Home.GPU) + p.bytesAt(Home.HOST));
        assertEquals(p.bytesAt(Home.GPU), p.gpuBudget().weightBytes());
        assertEquals(p.bytesAt(Home.HOST), p.readInPlaceBytes(), "without --numa or --no-mmap the host weights are read from the mapping");
        assertEquals(moe.fileSize(), p.mappedFileBytes());
    }

    @Test
    void withoutAGpuTheDefaultIsTheCpuAndGpuHomesAreAnErrorThatSaysWhatToDo() {
        PlacementPlan cpu = plan(PlanOptions.defaults().withOverrides(TensorOverrides.none().withCpuMoe()), GpuTarget.none("no GPU: test"));
        assertEquals(0, cpu.gpuLayers());
        assertTrue(gpuTensors(cpu).isEmpty());
        assertEquals(0, cpu.gpuBudget().totalBytes());
        assertTrue(cpu.notes().contains("no GPU: test: every layer on the CPU (-ngl 0)"), cpu.notes().toString());

        PlacementPlan pinned = plan(PlanOptions.defaults().withOverrides(TensorOverrides.none().withCpuMoe())
                .withPinned(PinnedCache.of(true, false, null)), GpuTarget.none("no GPU: test"));
        assertEquals(0, pinned.pinned().copiedBytes());
        assertEquals(0, pinned.copyBytes(ExtraCopy.Kind.PINNED));
        assertTrue(PlanReport.text(pinned, FakeMachine.topology(dir, 2, 8L << 20)).contains("  pinned        none planned (see the notes)\n"));

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> plan(PlanOptions.defaults().withGpuLayers(2), GpuTarget.none("no GPU: test")));
        assertTrue(e.getMessage().contains("there is no GPU (no GPU: test)"), e.getMessage());
        assertTrue(e.getMessage().contains("-ngl 0"), e.getMessage());
        assertTrue(e.getMessage().contains("--device sim"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> plan(PlanOptions.defaults().withGpuLayers(0)
                .withOverrides(TensorOverrides.parse("-ot", List.of("output=CUDA0"))), GpuTarget.none("no GPU: test")));
    }

    @Test
    void thePinnedCopyHoldsEveryHostExpertTensorOnTheGpuNode() {
        PlanOptions o = PlanOptions.defaults().withOverrides(TensorOverrides.parse("-ot", List.of("exps=CPU")))
                .withPinned(PinnedCache.of(true, false, null));
        PlacementPlan p = plan(o, new GpuTarget(java.util.Optional.of(24 * GIB), "test GPU", java.util.OptionalInt.of(1)));
        long experts = bytesOf(".*_exps\\.weight");
        assertTrue(experts > 0);
        assertEquals(experts, p.copyBytes(ExtraCopy.Kind.PINNED));
        assertTrue(pinnedCopyBytes() > experts, "alignment padding");
        assertEquals(pinnedCopyBytes(), p.pinned().copiedBytes());
        assertEquals(java.util.OptionalInt.of(1), p.pinned().node());
        assertEquals(pinnedCopyBytes(), p.hostNodeBytes().get(1));
        assertEquals(pinnedCopyBytes(), p.hostBudget().pinnedBytes());
        assertEquals(List.of(new ExtraCopy(ExtraCopy.Kind.PINNED, 1, moe.tensor("blk.2.ffn_down_exps.weight").byteSize())),
                p.tensor("blk.2.ffn_down_exps.weight").copies());
        assertTrue(p.tensor("blk.2.attn_q.weight").copies().isEmpty());
        assertEquals(2 * bytesOf("blk\\.0\\.ffn_.*_exps\\.weight"), p.gpuBudget().expertUploadBytes(), "two buffers of one layer's experts");
    }

    @Test
    void pinInPlaceRegistersWithoutCopyingAndTheCacheSizeCapsThePinnedCopy() {
        PlanOptions base = PlanOptions.defaults().withOverrides(TensorOverrides.none().withCpuMoe());
        long experts = bytesOf(".*_exps\\.weight");
        PlacementPlan inPlace = plan(base.withPinned(PinnedCache.of(false, true, null)), GpuTarget.planned(24 * GIB));
        assertEquals(0, inPlace.pinned().copiedBytes());
        assertEquals(experts, inPlace.pinned().registeredBytes());
        assertEquals(0, inPlace.copyBytes(ExtraCopy.Kind.PINNED));

        PlacementPlan capped = plan(base.withPinned(PinnedCache.of(true, false, "100K")), GpuTarget.planned(24 * GIB));
        assertEquals(100 * 1024, capped.pinned().copiedBytes());
        assertTrue(capped.pinned().stagingBytes() > 0);
        assertEquals(capped.pinned().copiedBytes() + capped.pinned().stagingBytes(), capped.hostBudget().pinnedBytes());
        PlacementPlan roomy = plan(base.withPinned(PinnedCache.of(false, false, "1G")), GpuTarget.planned(24 * GIB));
        assertEquals(experts, roomy.pinned().copiedBytes(), "never more than the experts");
        assertEquals(0, roomy.pinned().stagingBytes());
        assertThrows(IllegalArgumentException.class, () -> PinnedCache.of(false, true, "1G"));
    }

    @Test
    void mirrorGivesEveryHostTensorAReplicaOnTheOtherNode() {
        PlanOptions o = PlanOptions.defaults().withOverrides(TensorOverrides.none().withCpuMoe()).withNuma(NumaPolicy.MIRROR);
        PlacementPlan p = plan(o, GpuTarget.planned(24 * GIB));
        long host = p.bytesAt(Home.HOST);
        assertEquals(host, p.copyBytes(ExtraCopy.Kind.NUMA_MIRROR));
        assertEquals(2 * host, p.hostBudget().placedBytes());
        assertEquals(host, p.hostNodeBytes().get(1));
        assertEquals(host + p.kvBytesHost(), p.hostNodeBytes().get(0));
        TensorPlacement up = p.tensor("blk.1.ffn_up_exps.weight");
        assertEquals(java.util.Map.of(0, up.bytes()), up.homeNodes());
        assertEquals(List.of(new ExtraCopy(ExtraCopy.Kind.NUMA_MIRROR, 1, up.bytes())), up.copies());
        assertTrue(p.tensor("blk.1.attn_q.weight").homeNodes().isEmpty(), "GPU tensors are not in the NUMA plan");
        assertEquals(0, p.readInPlaceBytes());
    }

    @Test
    void theKvCacheFollowsTheLayersDevice() {
        PlanOptions o = PlanOptions.defaults().withGpuLayers(1).withContext(256);
        PlacementPlan p = plan(o, GpuTarget.planned(24 * GIB));
        assertEquals(KvCache.bytesFor(1, 256, 64, 64, KvCacheType.F32, KvCacheType.F32), p.kvBytesGpu(), "the device cache is F32");
        assertEquals(KvCache.bytesFor(3, 256, 64, 64, KvCacheType.F16, KvCacheType.F16), p.kvBytesHost());
        assertEquals(1L * 256 * (64 * 4 + 64 * 4) + 3L * 256 * (64 * 2 + 64 * 2), p.kvBytes());
        PlacementPlan trained = plan(PlanOptions.defaults().withContext(0), GpuTarget.planned(24 * GIB));
        assertEquals(256, trained.contextLength());
    }

    @Test
    void aPlanThatDoesNotFitTheGpuIsRefusedWithTheNumbers() {
        PlacementPlan p = plan(PlanOptions.defaults(), GpuTarget.planned(1L << 20));
        assertFalse(p.fits());
        PlacementPlan.GpuBudget g = p.gpuBudget();
        assertEquals("the plan needs " + ByteSize.format(g.totalBytes()) + " of VRAM: weights " + ByteSize.format(g.weightBytes())
                + " + KV cache " + ByteSize.format(g.kvBytes()) + " + compute " + ByteSize.format(g.computeBytes())
                + ", the device has 1.0 MiB (lower -ngl, keep experts on the CPU with --cpu-moe / -ot exps=CPU, or lower -c)", p.refusal());
        assertEquals(g.weightBytes() + g.kvBytes() + g.computeBytes(), g.totalBytes());
        assertTrue(g.computeBytes() > 256L << 20);
    }

    @Test
    void aPlanThatDoesNotFitHostRamIsRefusedWithTheNumbers() {
        Topology small = FakeMachine.topology(dir, 1, 256);
        PlacementPlan p = plan(PlanOptions.defaults().withGpuLayers(0).withMmap(false), GpuTarget.none("no GPU: test"), small);
        assertFalse(p.fits());
        assertEquals(allBytes(), p.hostBudget().placedBytes());
        assertTrue(p.refusal().startsWith("the plan needs " + ByteSize.format(p.hostBudget().totalBytes()) + " of host RAM: placed weights "
                + ByteSize.format(allBytes())), p.refusal());
        assertTrue(p.refusal().endsWith("the machine has 256.0 KiB (MemTotal)"), p.refusal());

        PlacementPlan mapped = plan(PlanOptions.defaults().withGpuLayers(0).withContext(16), GpuTarget.none("no GPU: test"), small);
        assertTrue(mapped.fits(), "a mapping larger than RAM pages from disk: " + mapped.refusal());
        assertEquals(1, mapped.warnings().size(), mapped.warnings().toString());
    }

    @Test
    void theReportShowsHomesTotalsAndVerdict() {
        PlacementPlan p = plan(PlanOptions.defaults().withOverrides(TensorOverrides.none().withCpuMoe())
                .withPinned(PinnedCache.of(true, false, null)), GpuTarget.planned(24 * GIB));
        String text = PlanReport.text(p, FakeMachine.topology(dir, 2, 8L << 20));
        assertTrue(text.contains("placement plan\n"), text);
        assertTrue(text.matches("(?s).*\\n  blk\\.0\\.ffn_up_exps\\.weight +68\\.0 KiB +HOST +mapping +pinned n0 +--cpu-moe .*"), text);
        assertTrue(text.contains("  verdict: fits\n"), text);
        assertTrue(text.contains("pinned        " + ByteSize.format(pinnedCopyBytes()) + " copied on node 0"), text);
    }
}
