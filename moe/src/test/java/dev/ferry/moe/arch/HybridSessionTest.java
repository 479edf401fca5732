package dev.ferry.moe.arch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import dev.ferry.cuda.DeviceChoice;
import dev.ferry.cuda.DeviceOptions;
import dev.ferry.cuda.HostMemoryKind;
import dev.ferry.cuda.sim.SimulatedLink;
import dev.ferry.moe.LlamaReference;
import dev.ferry.moe.hybrid.HybridStats;
import dev.ferry.moe.hybrid.HybridStats.Phase;
import dev.ferry.moe.kernel.Precision;
import dev.ferry.moe.placement.PlacementOptions;
import dev.ferry.moe.plan.PinnedCache;
import dev.ferry.moe.plan.TensorOverrides;
import dev.ferry.moe.runtime.DeviceRequest;
import dev.ferry.moe.runtime.InferenceEngine;
import dev.ferry.moe.runtime.KvCacheType;
import dev.ferry.moe.runtime.LoadedModel;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/**
 * Hybrid execution on the simulated device: layers on the "GPU", routed experts in host RAM run
 * on the CPU or are streamed up, and the results agree with the CPU-only path and with llama.cpp.
 */
class HybridSessionTest {

    private static final int MICRO_BATCH = 32;

    private static DeviceRequest request(String gpuLayers, List<String> overrides, PinnedCache pinned, OptionalInt offloadBatch,
                                         boolean noOffload, SimulatedLink link) {
        return new DeviceRequest(DeviceChoice.SIM, DeviceOptions.defaults().withSimulatedLink(link),
                gpuLayers == null ? OptionalInt.empty() : dev.ferry.moe.plan.PlanOptions.parseGpuLayers(gpuLayers),
                TensorOverrides.parse("-ot", overrides), pinned, offloadBatch, noOffload, 0, Optional.empty());
    }

    private static DeviceRequest hostExperts(PinnedCache pinned, int offloadBatch) {
        return request(null, List.of("exps=CPU"), pinned, OptionalInt.of(offloadBatch), false, SimulatedLink.pcie4x16());
    }

    private static InferenceEngine engine(Precision precision, Optional<DeviceRequest> device, PrintStream log) {
        return new InferenceEngine(PlacementOptions.threads(2), null, 128, MICRO_BATCH, KvCacheType.F32, KvCacheType.F32, precision,
                log, device);
    }

    private static PrintStream quiet() {
        return new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
    }

    private static float[][] logits(InferenceEngine engine, LoadedModel model, int[] ids, int batch) {
        return dev.ferry.moe.SessionLogits.of(engine, model, ids, batch);
    }

    private static float[][] run(String model, Precision precision, Optional<DeviceRequest> device, int[] ids, int batch) {
        try (LoadedModel loaded = LoadedModel.open(LlamaReference.fixture(model));
             InferenceEngine engine = engine(precision, device, quiet())) {
            return logits(engine, loaded, ids, batch);
        }
    }

    private static void assertClose(float[][] expected, float[][] actual, double tolerance, String what) {
        double worst = 0;
        for (int p = 0; p < expected.length; p++) {
            for (int i = 0; i < expected[p].length; i++) {
                worst = Math.max(worst, Math.abs(expected[p][i] - actual[p][i]));
            }
        }
        assertTrue(worst <= tolerance, what + ": largest logit difference " + worst + " > " + tolerance);
    }

    @Test
    void everyLayerOnTheSimulatedDeviceComputesWhatTheCpuComputes() {
        for (String model : List.of("tiny-qwen3moe-F32.gguf", "tiny-qwen3-F32.gguf")) {
            LlamaReference ref = LlamaReference.load(model + ".ref.json", "ids");
            float[][] cpu = run(model, Precision.EXACT, Optional.empty(), ref.ids(), 20);
            float[][] gpu = run(model, Precision.EXACT,
                    Optional.of(request(null, List.of(), PinnedCache.none(), OptionalInt.empty(), false, SimulatedLink.pcie4x16())),
                    ref.ids(), 20);
            assertClose(cpu, gpu, 1e-4, model);
            LogitsAgreement agreement = LogitsAgreement.compare(ref, gpu, 1e-2);
            assertTrue(agreement.exactPasses(), model + " on the device vs llama.cpp: " + agreement);
        }
    }

    @Test
    void hostExpertsOnCpuOrUploadedGiveTheSameLogitsAsTheCpuPath() {
        String model = "tiny-qwen3moe-F32.gguf";
        LlamaReference ref = LlamaReference.load(model + ".ref.json", "ids");
        float[][] cpu = run(model, Precision.EXACT, Optional.empty(), ref.ids(), 20);
        var configs = List.of(
                hostExperts(PinnedCache.of(true, false, null), 4),
                hostExperts(PinnedCache.none(), 4),
                request(null, List.of("exps=CPU"), PinnedCache.none(), OptionalInt.empty(), true, SimulatedLink.pcie4x16()),
                request("2", List.of(), PinnedCache.none(), OptionalInt.of(2), false, SimulatedLink.pcie4x16()),
                request("3", List.of("blk\\.3\\.ffn_.*_exps=CPU"), PinnedCache.of(false, false, "64K"), OptionalInt.of(2), false,
                        SimulatedLink.pcie4x16()));
        for (DeviceRequest config : configs) {
            float[][] hybrid = run(model, Precision.EXACT, Optional.of(config), ref.ids(), 20);
            assertClose(cpu, hybrid, 1e-4, config.toString());
            assertTrue(LogitsAgreement.compare(ref, hybrid, 1e-2).exactPasses(), config.toString());
        }
    }

    @Test
    void quantizedModelsWithHostExpertsAgreeWithLlamaCppLikeTheCpuPath() {
        for (String model : List.of("tiny-qwen3moe-Q8_0.gguf", "small-qwen3moe-k-Q4_K_M.gguf")) {
            LlamaReference ref = LlamaReference.load(model + ".ref.json", "ids");
            float[][] hybrid = run(model, Precision.QUANTIZED, Optional.of(hostExperts(PinnedCache.of(true, false, null), 4)),
                    ref.ids(), 20);
            LogitsAgreement agreement = LogitsAgreement.compare(ref, hybrid, 0.1);
            assertTrue(agreement.quantPasses(), model + " hybrid vs llama.cpp: " + agreement);
        }
    }

    /** Runs {@code prompt} then {@code decode} single tokens and returns the statistics. */
    private static HybridStats accounting(DeviceRequest request, int prompt, int decode) {
        return accounting(request, prompt, decode, stats -> { });
    }

    private static HybridStats accounting(DeviceRequest request, int prompt, int decode,
                                          java.util.function.Consumer<dev.ferry.moe.runtime.DeviceRuntime> check) {
        String model = "tiny-qwen3moe-Q8_0.gguf";
        LlamaReference ref = LlamaReference.load(model + ".ref.json", "text");
        int[] ids = java.util.Arrays.copyOf(ref.ids(), prompt + decode);
        try (LoadedModel loaded = LoadedModel.open(LlamaReference.fixture(model));
             InferenceEngine engine = engine(Precision.QUANTIZED, Optional.of(request), quiet())) {
            logits(engine, loaded, ids, prompt);
            check.accept(engine.deviceRuntime().orElseThrow());
            return engine.deviceRuntime().orElseThrow().stats();
        }
    }

    private static long routedBytesSentToGpu(HybridStats stats, Phase phase) {
        return stats.decisions().stream().filter(d -> d.phase() == phase && d.decision().onGpu())
                .mapToLong(d -> (long) d.work().routedExperts() * d.work().bytesPerExpert()).sum();
    }

    @Test
    void withThePinnedCacheEveryExpertUploadComesFromPinnedMemoryAndOnlyRoutedExpertsGoUp() {
        HybridStats stats = accounting(hostExperts(PinnedCache.of(true, false, null), 2), 3, 4);
        long uploaded = stats.uploadedBytes(Phase.PREFILL);
        assertTrue(uploaded > 0, "the 3-token prompt was offloaded");
        assertEquals(uploaded, stats.uploadedBytes(Phase.PREFILL, HostMemoryKind.PINNED), "all prefill uploads from pinned memory");
        assertTrue(stats.uploads(Phase.PREFILL).stream().allMatch(u -> u.node().isPresent()), "pinned memory has a known node");
        assertEquals(routedBytesSentToGpu(stats, Phase.PREFILL), uploaded - stats.uploadPadding(Phase.PREFILL),
                "exactly the routed experts' bytes, besides the alignment padding between neighbours copied in one go");
        int layers = 4;
        int experts = 8;
        int routed = stats.decisions().stream().filter(d -> d.phase() == Phase.PREFILL).mapToInt(d -> d.work().routedExperts()).sum();
        assertTrue(routed < layers * experts, "3 tokens x 2 experts cannot route all 8 experts of a layer: " + routed);
        assertEquals(0, stats.uploadedBytes(Phase.DECODE), "decode uploads no weights");
        assertEquals(0, stats.gpuPairs(Phase.DECODE));
        assertEquals(4L * layers * 2, stats.cpuPairs(Phase.DECODE), "4 tokens x 4 layers x 2 experts on the CPU");
        assertTrue(stats.hiddenBytes(Phase.DECODE) > 0, "decode moves hidden states only");
    }

    @Test
    void aBatchThatRoutesEveryExpertUploadsTheNextLayerDuringThisOne() {
        HybridStats stats = accounting(hostExperts(PinnedCache.of(true, false, null), 2), 20, 1);
        assertEquals(3, stats.prefetchedLayers(Phase.PREFILL), "layers 1..3 went up while the layer before computed");
        long expertBytes = stats.decisions().get(0).work().bytesPerExpert();
        long firstLayer = (long) stats.decisions().get(0).work().routedExperts() * expertBytes;
        assertEquals(firstLayer + 3 * 8 * expertBytes, stats.uploadedBytes(Phase.PREFILL) - stats.uploadPadding(Phase.PREFILL),
                "layer 0's routed experts, then whole layers");
        long copies = stats.uploads(Phase.PREFILL).stream().mapToLong(HybridStats.Uploads::copies).sum();
        assertTrue(copies <= 3 * 3 + 3 * 8, "a prefetched layer is three copies (one per projection), not one per expert: " + copies);
        assertEquals(0, stats.uploadedBytes(Phase.DECODE));
    }

    @Test
    void withoutThePinnedCacheExpertUploadsComeFromPageableMemory() {
        HybridStats stats = accounting(hostExperts(PinnedCache.none(), 2), 3, 1);
        long uploaded = stats.uploadedBytes(Phase.PREFILL);
        assertTrue(uploaded > 0);
        assertEquals(uploaded, stats.uploadedBytes(Phase.PREFILL, HostMemoryKind.PAGEABLE));
        assertEquals(routedBytesSentToGpu(stats, Phase.PREFILL), uploaded);
        assertEquals(0, stats.uploadPadding(Phase.PREFILL), "the compute copy has no padding between experts");
    }

    @Test
    void noOpOffloadKeepsEveryExpertOnTheCpu() {
        HybridStats stats = accounting(request(null, List.of("exps=CPU"), PinnedCache.of(true, false, null), OptionalInt.empty(), true,
                SimulatedLink.pcie4x16()), 20, 2);
        assertEquals(0, stats.uploadedBytes(Phase.PREFILL));
        assertEquals(0, stats.gpuPairs(Phase.PREFILL));
        assertEquals(20L * 4 * 2, stats.cpuPairs(Phase.PREFILL));
    }

    /**
     * With given CPU and GPU rates, a link of {@code gbps}: the decision for every layer and batch
     * is the model's verdict for the work the session saw, and the first batch that goes to the
     * GPU is the first whose modelled GPU time is below its CPU time.
     */
    @Test
    void theOffloadDecisionFlipsWhereTheCostModelPredictsAndEarlierOnAFasterLink() {
        int slow = flipPoint(0.1);
        int fast = flipPoint(0.5);
        assertTrue(fast < slow, "a faster link flips at a smaller batch: " + fast + " vs " + slow);
        assertTrue(slow < Integer.MAX_VALUE, "even the slow link wins for a big enough batch");
    }

    /** The smallest of the prompt sizes 2..32 whose experts the session sent to the GPU, checked against the model. */
    private static int flipPoint(double gbps) {
        SimulatedLink link = SimulatedLink.pcie4x16().withPinnedGBps(gbps);
        dev.ferry.moe.offload.OffloadCosts costs = new dev.ferry.moe.offload.OffloadCosts(1e9, 1e9, gbps * 1e9, 100e12, 20e-6);
        DeviceRequest request = request(null, List.of("exps=CPU"), PinnedCache.of(true, false, null), OptionalInt.empty(), false, link)
                .withOffloadCosts(costs);
        String model = "tiny-qwen3moe-Q8_0.gguf";
        LlamaReference ref = LlamaReference.load(model + ".ref.json", "text");
        int flip = Integer.MAX_VALUE;
        int predicted = Integer.MAX_VALUE;
        try (LoadedModel loaded = LoadedModel.open(LlamaReference.fixture(model));
             InferenceEngine engine = engine(Precision.QUANTIZED, Optional.of(request), quiet())) {
            for (int n : new int[] {2, 4, 8, 16, 32}) {
                logits(engine, loaded, java.util.Arrays.copyOf(ref.ids(), n), n);
                HybridStats stats = engine.deviceRuntime().orElseThrow().stats();
                for (HybridStats.ExpertDecision d : stats.decisions()) {
                    boolean modelSaysGpu = costs.gpuSeconds(d.work()) < costs.cpuSeconds(d.work());
                    assertEquals(modelSaysGpu, d.decision().onGpu(), d.toString());
                    if (modelSaysGpu) {
                        predicted = Math.min(predicted, d.work().tokens());
                    }
                    if (d.decision().onGpu()) {
                        flip = Math.min(flip, n);
                    }
                }
                stats.clear();
            }
        }
        assertEquals(predicted, flip, "the flip is where the model predicts");
        return flip;
    }

    @Test
    void aCappedPinnedCacheNeverPinsMoreThanAsked() {
        for (String cap : List.of("1K", "200K", "1M")) {
            long capBytes = dev.ferry.moe.plan.ByteSize.parse("--pinned-cache-size", cap);
            long[] pinned = new long[1];
            HybridStats stats = accounting(hostExperts(PinnedCache.of(false, false, cap), 2), 4, 1, d -> pinned[0] = d.pinnedBytes());
            assertTrue(pinned[0] <= capBytes, cap + ": pinned " + pinned[0]);
            assertTrue(capBytes < (1 << 20) || pinned[0] > 0, "1M holds some experts");
            long uploaded = stats.uploadedBytes(Phase.PREFILL);
            assertEquals(routedBytesSentToGpu(stats, Phase.PREFILL), uploaded - stats.uploadPadding(Phase.PREFILL), cap);
            assertEquals(uploaded, stats.uploadedBytes(Phase.PREFILL, HostMemoryKind.PINNED), "cached or staged: pinned either way");
        }
    }

    @Test
    void withoutADeviceTheGpuFlagsAreIgnoredAndSaidSo() {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        DeviceRequest auto = new DeviceRequest(DeviceChoice.AUTO, DeviceOptions.defaults(), OptionalInt.empty(),
                TensorOverrides.parse("-ot", List.of("exps=CPU")), PinnedCache.of(true, false, null), OptionalInt.empty(), false, 0,
                Optional.empty());
        try (InferenceEngine engine = engine(Precision.EXACT, Optional.of(auto), new PrintStream(log, true, StandardCharsets.UTF_8))) {
            assumeFalse(engine.deviceRuntime().orElseThrow().hasDevice(), "a real GPU: nothing to fall back from");
        }
        assertTrue(log.toString(StandardCharsets.UTF_8).contains("GPU flags are ignored"), log.toString(StandardCharsets.UTF_8));
    }
}
