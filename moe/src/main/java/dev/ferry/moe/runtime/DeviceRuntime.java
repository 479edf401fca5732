package dev.ferry.moe.runtime;

import dev.ferry.cuda.Device;
import dev.ferry.cuda.Devices;
import dev.ferry.cuda.OpenedDevice;
import dev.ferry.hostmemory.WorkerPool;
import dev.ferry.loader.GgufFile;
import dev.ferry.moe.hybrid.DeviceWeights;
import dev.ferry.moe.hybrid.HybridExecution;
import dev.ferry.moe.hybrid.HybridStats;
import dev.ferry.moe.kernel.ExpertWeights;
import dev.ferry.moe.kernel.Precision;
import dev.ferry.moe.offload.HostExpertTensor;
import dev.ferry.moe.offload.OffloadCalibration;
import dev.ferry.moe.offload.OffloadCosts;
import dev.ferry.moe.offload.OffloadPolicy;
import dev.ferry.moe.offload.PinnedExpertCache;
import dev.ferry.moe.placement.CpuPlacement;
import dev.ferry.moe.placement.ExpertPlacement;
import dev.ferry.moe.placement.ExpertProjection;
import dev.ferry.moe.placement.HostContext;
import dev.ferry.moe.placement.PlacedExperts;
import dev.ferry.moe.plan.GpuTarget;
import dev.ferry.moe.plan.Home;
import dev.ferry.moe.plan.PlacementPlan;
import dev.ferry.moe.plan.PlacementPlanner;
import dev.ferry.moe.plan.PlanOptions;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The GPU side of an engine: the device {@code --device} opened (or why there is none), and per
 * model file the placement plan, the pinned expert cache (built at load time) and the offload
 * policy, measured once. Owns the device and the caches.
 */
public final class DeviceRuntime implements AutoCloseable {

    private final DeviceRequest request;
    private final OpenedDevice opened;
    private final PrintStream log;
    private final HybridStats stats = new HybridStats();
    private final Map<GgufFile, Prepared> prepared = new IdentityHashMap<>();

    private record Prepared(Optional<HybridExecution> execution, Optional<PinnedExpertCache> cache, Optional<DeviceWeights> weights,
                            List<String> report) {
    }

    private DeviceRuntime(DeviceRequest request, OpenedDevice opened, PrintStream log) {
        this.request = request;
        this.opened = opened;
        this.log = log;
    }

    /** Opens the requested device; without one, says so (and that GPU flags are ignored) on {@code log}. */
    public static DeviceRuntime open(DeviceRequest request, PrintStream log) {
        OpenedDevice opened = Devices.open(request.choice(), request.options());
        if (opened.present()) {
            log.println("ferry: device: " + opened.status());
        } else if (request.asksForDevice()) {
            log.println("ferry: " + opened.status() + ": the GPU flags are ignored and every layer runs on the CPU "
                    + "(--device sim runs them on the simulated device)");
        }
        return new DeviceRuntime(request, opened, log);
    }

    public boolean hasDevice() {
        return opened.present();
    }

    /** The device, when there is one. */
    public Optional<Device> device() {
        return opened.device();
    }

    /** The line that says which device runs, or why none does. */
    public String status() {
        return opened.status();
    }

    public HybridStats stats() {
        return stats;
    }

    /** Bytes of host memory pinned for expert uploads (copies and slots; registered memory not counted). */
    public synchronized long pinnedBytes() {
        return prepared.values().stream().flatMap(p -> p.cache().stream()).mapToLong(PinnedExpertCache::pinnedBytes).sum();
    }

    /**
     * llama-bench's backend column: CUDA or SIM (the simulated device) once a model was prepared
     * whose plan puts something on the device, else CPU (no device, or {@code -ngl 0}).
     */
    public synchronized String backend() {
        boolean used = prepared.values().stream().anyMatch(p -> p.execution().isPresent());
        return opened.device().filter(d -> used).map(d -> d.info().simulated() ? "SIM" : "CUDA").orElse("CPU");
    }

    /**
     * The raw host-to-device rate of pinned memory right now: the median of {@code reps} copies of
     * {@code bytes} from a fresh pinned buffer, timed with events on the device clock (modelled on
     * the simulated device). The baseline the achieved expert upload rate is compared to.
     */
    public double pinnedUploadGigabytesPerSecond(long bytes, int reps) {
        Device device = opened.device().orElseThrow(() -> new IllegalStateException(opened.status()));
        double[] rates = new double[reps];
        try (var src = device.allocatePinned(bytes); var dst = device.allocate(bytes); var stream = device.createStream()) {
            src.segment().fill((byte) 1);
            for (int i = 0; i < reps; i++) {
                try (var start = stream.record()) {
                    stream.copyToDeviceAsync(src, 0, dst, 0, bytes);
                    try (var end = stream.record()) {
                        end.synchronize();
                        rates[i] = bytes / end.secondsSince(start) / 1e9;
                    }
                }
            }
        }
        java.util.Arrays.sort(rates);
        return rates[reps / 2];
    }

    /**
     * The hybrid execution for {@code model} (planned, pinned cache built and offload costs measured
     * on first use), or empty when there is no device or the plan puts nothing on it.
     *
     * @param base the engine's host-side settings ({@code --numa}, {@code --no-mmap}, {@code -c}, {@code -ub}, cache types)
     */
    public synchronized Optional<HybridExecution> execution(LoadedModel model, PlanOptions base, CpuPlacement placement,
                                                            HostContext host, WorkerPool pool, Precision precision) {
        Prepared p = prepared.get(model.file());
        if (p == null) {
            p = prepare(model, base, placement, host, pool, precision);
            prepared.put(model.file(), p);
            p.report().forEach(line -> log.println("ferry: " + line));
        }
        return p.execution();
    }

    /** Report lines of every prepared model: plan summary, pinned cache, offload policy. */
    public synchronized List<String> describe() {
        List<String> lines = new ArrayList<>();
        lines.add("device: " + opened.status());
        prepared.values().forEach(p -> {
            lines.addAll(p.report());
            p.cache().ifPresent(c -> lines.addAll(c.describe()));
        });
        return lines;
    }

    private Prepared prepare(LoadedModel model, PlanOptions base, CpuPlacement placement, HostContext host, WorkerPool pool,
                             Precision precision) {
        if (opened.device().isEmpty()) {
            return new Prepared(Optional.empty(), Optional.empty(), Optional.empty(), List.of());
        }
        Device device = opened.device().get();
        PlanOptions options = new PlanOptions(request.gpuLayers(), request.overrides(), base.numa(), request.pinned(), base.mmap(),
                base.contextLength(), base.microBatch(), base.cacheTypeK(), base.cacheTypeV());
        GpuTarget gpu = GpuTarget.of(opened, host.topology());
        PlacementPlan plan = PlacementPlanner.plan(model.file(), options, gpu, host.topology(), host.process());
        if (!plan.fits()) {
            throw new IllegalArgumentException(model.file().path() + ": " + plan.refusal());
        }
        List<String> report = new ArrayList<>();
        report.add(planLine(plan));
        if (plan.bytesAt(Home.GPU) == 0) {
            report.add("the plan puts nothing on the GPU: every layer runs on the CPU");
            return new Prepared(Optional.empty(), Optional.empty(), Optional.empty(), report);
        }
        List<HostExpertTensor> hostExperts = hostExpertsOfGpuLayers(model, plan, placement);
        PinnedExpertCache cache = PinnedExpertCache.create(device, hostExperts, request.pinned(), gpu.node(), Optional.of(host), log);
        try {
            // The cache printed its own lines while it was built.
            OffloadPolicy policy;
            if (request.noOpOffload()) {
                policy = OffloadPolicy.cpuOnly();
            } else if (request.offloadBatchSize().isPresent()) {
                policy = OffloadPolicy.fixedBatch(request.offloadBatchSize().getAsInt());
            } else if (hostExperts.isEmpty()) {
                policy = OffloadPolicy.cpuOnly();
            } else if (request.offloadCosts().isPresent()) {
                policy = OffloadPolicy.costModel(request.offloadCosts().get());
            } else {
                int layer = hostExperts.get(0).layer();
                List<HostExpertTensor> one = hostExperts.stream().filter(t -> t.layer() == layer).toList();
                OffloadCosts costs = OffloadCalibration.measure(device, cache, one, pool, precision);
                policy = OffloadPolicy.costModel(costs);
            }
            if (!hostExperts.isEmpty()) {
                report.add("prefill offload of host experts: " + policy.describe());
            }
            DeviceWeights weights = new DeviceWeights(device, stats);
            HybridExecution execution = new HybridExecution(device, plan, weights, cache, policy, stats, request.uploadChunkBytes());
            return new Prepared(Optional.of(execution), Optional.of(cache), Optional.of(weights), report);
        } catch (RuntimeException | Error e) {
            cache.close();
            throw e;
        }
    }

    private static String planLine(PlacementPlan plan) {
        int layers = plan.layerCount();
        int onGpu = layers - plan.firstGpuLayer();
        StringBuilder sb = new StringBuilder("plan: -ngl ").append(plan.gpuLayers()).append(": ");
        if (plan.gpuLayers() == 0) {
            sb.append("no repeating layer on the GPU");
        } else {
            sb.append("layers ").append(plan.firstGpuLayer()).append("..").append(layers - 1).append(" (").append(onGpu)
                    .append(") on the GPU");
        }
        sb.append(", output layer on the ").append(plan.gpuLayers() > layers ? "GPU" : "CPU");
        sb.append("; ").append(dev.ferry.moe.plan.ByteSize.format(plan.bytesAt(Home.GPU))).append(" of weights on the GPU, ")
                .append(dev.ferry.moe.plan.ByteSize.format(plan.bytesAt(Home.HOST))).append(" in host RAM");
        return sb.toString();
    }

    /**
     * The routed-expert tensors the plan keeps in host RAM while their layer runs on the GPU: the
     * compute copy placed by {@code --numa} when it is one whole copy, else the file mapping.
     */
    private static List<HostExpertTensor> hostExpertsOfGpuLayers(LoadedModel model, PlacementPlan plan, CpuPlacement placement) {
        List<HostExpertTensor> out = new ArrayList<>();
        for (int layer : ExpertPlacement.expertLayers(model.file())) {
            boolean gpuLayer = plan.tensor("blk." + layer + ".attn_q.weight").home() == Home.GPU;
            if (!gpuLayer || plan.tensor(ExpertProjection.GATE.tensorName(layer)).home() != Home.HOST) {
                continue;
            }
            Optional<PlacedExperts> placed = placement.experts().filter(p -> p.hasLayer(layer));
            for (ExpertProjection p : ExpertProjection.values()) {
                ExpertWeights weights = null;
                OptionalInt node = OptionalInt.empty();
                if (placed.isPresent()) {
                    for (PlacedExperts.NodeView v : placed.get().views(layer)) {
                        int all = placed.get().mapped(layer, p).experts();
                        if (v.local() && v.experts().size() == all && v.weights(p).experts() == all) {
                            weights = v.weights(p);
                            node = OptionalInt.of(v.node());
                            break;
                        }
                    }
                    if (weights == null) {
                        weights = placed.get().mapped(layer, p);
                    }
                } else {
                    weights = mappedExperts(model, layer, p);
                }
                out.add(HostExpertTensor.of(layer, p, weights, node));
            }
        }
        return out;
    }

    private static ExpertWeights mappedExperts(LoadedModel model, int layer, ExpertProjection p) {
        var info = model.file().findTensor(p.tensorName(layer)).orElseThrow();
        long[] shape = info.shape();
        return new ExpertWeights(info.type(), model.file().data(info), (int) shape[2], shape[1], shape[0]);
    }

    @Override
    public synchronized void close() {
        try {
            for (Prepared p : prepared.values()) {
                p.weights().ifPresent(DeviceWeights::close);
                p.cache().ifPresent(PinnedExpertCache::close);
            }
            prepared.clear();
        } finally {
            opened.close();
        }
    }
}
