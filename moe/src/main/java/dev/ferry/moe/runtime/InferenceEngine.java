package dev.ferry.moe.runtime;

import dev.ferry.hostmemory.BufferOptions;
import dev.ferry.hostmemory.ByteSizes;
import dev.ferry.hostmemory.CpuAssignment;
import dev.ferry.hostmemory.NodeWorkerPool;
import dev.ferry.hostmemory.ThreadWorkerPool;
import dev.ferry.hostmemory.WorkerPool;
import dev.ferry.hostmemory.WorkerPools;
import dev.ferry.hostmemory.linux.Errno;
import dev.ferry.hostmemory.linux.NativeCallException;
import dev.ferry.hostmemory.numa.NumaPlan;
import dev.ferry.hostmemory.numa.NumaPlanner;
import dev.ferry.hostmemory.numa.NumaPolicy;
import dev.ferry.loader.GgufFile;
import dev.ferry.moe.kernel.Precision;
import dev.ferry.moe.model.InferenceSession;
import dev.ferry.moe.model.SessionOptions;
import dev.ferry.hostmemory.PlacementPolicy;
import dev.ferry.moe.placement.CpuPlacement;
import dev.ferry.moe.placement.DenseCopies;
import dev.ferry.moe.placement.ExpertProjection;
import dev.ferry.moe.placement.ExpertPlacement;
import dev.ferry.moe.placement.HostContext;
import dev.ferry.moe.placement.NodeWorkCounters;
import dev.ferry.moe.placement.PlacedExperts;
import dev.ferry.moe.placement.PlacementOptions;
import dev.ferry.moe.plan.PlanOptions;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Set;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The CPU side of a run: the worker pools the kernels use, where the expert weights live, and
 * the session settings from the command line ({@code -t -c -ub --cache-type-k/-v --numa ...}).
 * Owns the pools and the placed weight copies.
 *
 * <p>Without {@code --numa} there is one unpinned pool of {@code -t} threads (default: one per
 * physical core the process may use) and the weights are read from the file mapping, as
 * llama.cpp does without {@code --numa}. With {@code --numa POLICY} there is one pinned pool per
 * node in use ({@link dev.ferry.hostmemory.CpuSelection}); attention, dense layers and the router
 * run on the pool of the node the process started on (reading weights that are local to it),
 * and the expert layers run on every node's pool at once, each node reading only the expert
 * copies the plan put on it ({@code shard}: its own experts, {@code mirror}: its own replica).
 */
public final class InferenceEngine implements AutoCloseable {

    /** Pages of each placed buffer queried when verifying placement for reports. */
    private static final long VERIFY_PAGES_PER_BUFFER = 64;

    private final PlacementOptions options;
    private final HostContext host;
    private final PrintStream log;
    private final WorkerPool densePool;
    private final int denseNode;
    private final Optional<WorkerPools> nodePools;
    private final Optional<CpuAssignment> assignment;
    private final List<String> cpuNotes;
    private final NodeWorkCounters counters;
    private final Map<GgufFile, Placed> placements = new IdentityHashMap<>();
    private final int contextLength;
    private final int microBatch;
    private final KvCacheType keyType;
    private final KvCacheType valueType;
    private final Precision precision;
    private final Optional<DeviceRuntime> deviceRuntime;

    /** No placement and a plain pool of {@code threads} workers. */
    public InferenceEngine(int threads, int contextLength, int microBatch, KvCacheType keyType, KvCacheType valueType,
                           Precision precision) {
        this(checkedThreads(threads), null, contextLength, microBatch, keyType, valueType, precision, System.err);
    }

    /**
     * @param host the machine (null: only allowed without placement and with an explicit thread count)
     * @param log where placement summaries, notes and copy progress go (stderr)
     */
    public InferenceEngine(PlacementOptions options, HostContext host, int contextLength, int microBatch, KvCacheType keyType,
                           KvCacheType valueType, Precision precision, PrintStream log) {
        this(options, host, contextLength, microBatch, keyType, valueType, precision, log, Optional.empty());
    }

    /**
     * With the GPU flags in {@code device}: opens the device they ask for (or says why there is
     * none); sessions then run the layers the plan puts on it there.
     */
    public InferenceEngine(PlacementOptions options, HostContext host, int contextLength, int microBatch, KvCacheType keyType,
                           KvCacheType valueType, Precision precision, PrintStream log, Optional<DeviceRequest> device) {
        this.options = options;
        this.log = log;
        this.contextLength = contextLength;
        this.microBatch = microBatch;
        this.keyType = keyType;
        this.valueType = valueType;
        this.precision = precision;
        boolean needsHost = options.placesWeights() || options.cpus().threads() == 0 || options.cpus().cpuMask().isPresent()
                || options.cpus().cpuRange().isPresent() || options.mlock();
        this.host = host == null && needsHost ? HostContext.system() : host;
        List<String> notes = new ArrayList<>();
        if (options.numa().isPresent()) {
            NumaPolicy policy = options.numa().get();
            List<Integer> nodes = NumaPlanner.nodesInUse(policy, this.host.topology(), this.host.process());
            CpuAssignment a = options.cpus().select(this.host.topology(), nodes, this.host.process().affinity());
            WorkerPools pools = WorkerPools.create(a, this.host.pinner(), "ferry-cpu");
            int start = this.host.process().startNode();
            this.denseNode = pools.hasPool(start) ? start : pools.nodes().get(0);
            this.densePool = pools.pool(denseNode);
            this.nodePools = Optional.of(pools);
            this.assignment = Optional.of(a);
            this.counters = new NodeWorkCounters(pools.nodes());
            notes.addAll(pools.notes());
        } else {
            boolean chooseCpus = options.cpus().cpuMask().isPresent() || options.cpus().cpuRange().isPresent();
            if (chooseCpus) {
                // llama.cpp pins to --cpu-mask/--cpu-range even without --numa: one pinned pool over the chosen CPUs.
                List<Integer> nodes = this.host.process().affinityNodes(this.host.topology());
                CpuAssignment a = options.cpus().select(this.host.topology(), nodes, this.host.process().affinity());
                NodeWorkerPool pool = new NodeWorkerPool(this.host.process().startNode(), a.allCpus().toList(), "ferry-cpu", this.host.pinner());
                this.densePool = pool;
                this.assignment = Optional.of(a);
                notes.addAll(a.notes());
                notes.add(pool.pinningNote());
            } else {
                int threads = options.cpus().threads() > 0 ? options.cpus().threads() : this.host.physicalCoresAllowed();
                this.densePool = new ThreadWorkerPool(threads, "ferry-cpu");
                this.assignment = Optional.empty();
                notes.add(threads + " threads, not pinned (no --numa)");
            }
            this.denseNode = this.host == null ? 0 : this.host.process().startNode();
            this.nodePools = Optional.empty();
            this.counters = new NodeWorkCounters(List.of(denseNode));
        }
        this.cpuNotes = List.copyOf(notes);
        this.deviceRuntime = device.map(request -> DeviceRuntime.open(request, log));
    }

    /** The device side, when GPU flags were given (it may still have no device: see its status). */
    public Optional<DeviceRuntime> deviceRuntime() {
        return deviceRuntime;
    }

    private static PlacementOptions checkedThreads(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("-t: thread count must be positive, got " + threads);
        }
        return PlacementOptions.threads(threads);
    }

    /** All CPU workers: the dense pool's, or every node's with {@code --numa}. */
    public int threads() {
        return nodePools.map(WorkerPools::totalWorkers).orElse(densePool.size());
    }

    /** The pool for attention, dense layers and the router. */
    public WorkerPool pool() {
        return densePool;
    }

    public PlacementOptions placementOptions() {
        return options;
    }

    /** Expert work per node since the engine started (or the last {@link NodeWorkCounters#reset()}). */
    public NodeWorkCounters counters() {
        return counters;
    }

    /** Context length for {@code model}: {@code -c}, or the trained context when {@code -c 0}. */
    public int contextLengthFor(LoadedModel model) {
        return contextLength > 0 ? contextLength : model.config().contextLengthTrained();
    }

    public InferenceSession newSession(LoadedModel model) {
        int ctx = contextLengthFor(model);
        CpuPlacement placement = placement(model);
        SessionOptions session = new SessionOptions(ctx, Math.min(microBatch, ctx), keyType, valueType, precision, placement);
        if (deviceRuntime.isPresent() && deviceRuntime.get().hasDevice()) {
            PlanOptions base = new PlanOptions(java.util.OptionalInt.empty(), dev.ferry.moe.plan.TensorOverrides.none(), options.numa(),
                    dev.ferry.moe.plan.PinnedCache.none(), !options.noMmap(), ctx, Math.min(microBatch, ctx), keyType, valueType);
            HostContext machine = host != null ? host : HostContext.system();
            Optional<dev.ferry.moe.hybrid.HybridExecution> hybrid = deviceRuntime.get().execution(model, base, placement, machine,
                    densePool, precision);
            if (hybrid.isPresent()) {
                session = session.withHybrid(hybrid.get());
            }
        }
        return model.model().newSession(session);
    }

    /**
     * Where sessions of {@code model} compute; places its experts on first use (copies them per
     * {@code --numa}, printing the bytes per node and the placement notes to the log).
     */
    public synchronized CpuPlacement placement(LoadedModel model) {
        Placed placed = placements.get(model.file());
        if (placed == null) {
            Optional<PlacedExperts> experts = placeExperts(model.file());
            try {
                placed = new Placed(experts, copyDense(model.file()));
            } catch (RuntimeException | Error e) {
                experts.ifPresent(PlacedExperts::close);
                throw e;
            }
            placements.put(model.file(), placed);
        }
        return new CpuPlacement(densePool, denseNode, nodePools, placed.experts(), placed.dense(), counters);
    }

    /** What was copied for one model file. */
    private record Placed(Optional<PlacedExperts> experts, Optional<DenseCopies> dense) {
        void close() {
            try {
                experts.ifPresent(PlacedExperts::close);
            } finally {
                dense.ifPresent(DenseCopies::close);
            }
        }
    }

    /**
     * The non-expert tensors are copied onto the dense node with {@code --no-mmap}, and always
     * under {@code shard} and {@code mirror}, whose point is that no weight is read across a socket.
     */
    private Optional<DenseCopies> copyDense(GgufFile file) {
        boolean localReads = options.numa().filter(p -> p == NumaPolicy.SHARD || p == NumaPolicy.MIRROR).isPresent();
        if (!options.noMmap() && !localReads) {
            return Optional.empty();
        }
        Set<String> experts = new HashSet<>();
        for (int layer : ExpertPlacement.expertLayers(file)) {
            for (ExpertProjection p : ExpertProjection.values()) {
                experts.add(p.tensorName(layer));
            }
        }
        PlacementPolicy where = options.numa().isPresent() ? PlacementPolicy.onNode(denseNode) : PlacementPolicy.kernelDefault();
        Optional<DenseCopies> copies = DenseCopies.materialise(file, experts, where, host, BufferOptions.defaults().withLock(options.mlock()), log);
        copies.ifPresent(c -> log.println("ferry: " + c.describe()));
        if (copies.isPresent() && nodePools.isPresent() && nodePools.get().nodes().size() > 1) {
            log.println("ferry: note: attention, dense layers and the router run on node " + denseNode
                    + "'s workers only, so their tensors get one copy there, not one per node");
        }
        return copies;
    }

    private Optional<PlacedExperts> placeExperts(GgufFile file) {
        if (!options.placesWeights()) {
            if (options.mlock()) {
                lockMapping(file);
            }
            return Optional.empty();
        }
        if (ExpertPlacement.expertLayers(file).isEmpty()) {
            log.println("ferry: " + file.path().getFileName() + " has no routed experts: no expert placement");
            return Optional.empty();
        }
        NumaPlan plan = options.numa().isPresent()
                ? ExpertPlacement.plan(file, options.numa().get(), host, nodePools.orElseThrow().nodes())
                // --no-mmap alone: anonymous copies with the process's own memory policy, read by the one pool.
                : ExpertPlacement.plan(file, NumaPolicy.NUMACTL, host, List.of(denseNode));
        BufferOptions buffers = BufferOptions.defaults().withLock(options.mlock());
        String label = options.numa().map(p -> "--numa " + p.flagValue()).orElse("--no-mmap");
        PlacedExperts placed = ExpertPlacement.materialise(file, plan, host, buffers, log, label);
        placed.summary().forEach(line -> log.println("ferry: " + line));
        return Optional.of(placed);
    }

    private void lockMapping(GgufFile file) {
        var calls = host.allocator().calls();
        if (calls.isEmpty()) {
            log.println("ferry: --mlock: no Linux system calls, the file mapping is not locked");
            return;
        }
        try {
            calls.get().mlock(file.segment().address(), file.segment().byteSize());
            log.println("ferry: --mlock: " + ByteSizes.format(file.segment().byteSize()) + " of the file mapping locked");
        } catch (NativeCallException e) {
            log.println("ferry: --mlock refused (" + Errno.describe(e.errno()) + "): pages may be swapped out (raise ulimit -l)");
        }
    }

    /**
     * The {@code run -v} report: topology, CPU assignment, the placement plan with bytes per node
     * and where the placed pages really are (sampled {@code move_pages}).
     */
    public synchronized String describe(LoadedModel model) {
        StringBuilder sb = new StringBuilder();
        String nl = System.lineSeparator();
        if (host != null) {
            sb.append(host.allocator().describe(Optional.empty()));
        }
        sb.append("Placement: ").append(options.describe()).append(nl);
        sb.append("CPU workers: ").append(assignment.map(CpuAssignment::describe).orElse(threads() + " threads")).append(nl);
        cpuNotes.forEach(n -> sb.append("  ").append(n).append(nl));
        sb.append("Dense layers, attention and router: ").append(densePool.size()).append(" workers")
                .append(nodePools.isPresent() ? " of node " + denseNode : "").append(nl);
        CpuPlacement placement = placement(model);
        Optional<PlacedExperts> experts = placement.experts();
        sb.append("Non-expert tensors: ").append(placement.dense().map(DenseCopies::describe).orElse("read from the file mapping")).append(nl);
        placement.dense().ifPresent(d -> sb.append("Verified placement of non-expert copies: ").append(d.verify(VERIFY_PAGES_PER_BUFFER).describe()).append(nl));
        if (experts.isEmpty()) {
            sb.append("Expert tensors: read from the file mapping").append(nl);
        } else {
            PlacedExperts p = experts.get();
            sb.append(p.plan().describe(host.topology()));
            sb.append("Placed: ").append(p.bytesLine()).append(nl);
            p.materialisationNotes().forEach(line -> sb.append("  note: ").append(line).append(nl));
            sb.append("Verified placement of expert buffers: ").append(p.verify(VERIFY_PAGES_PER_BUFFER).describe()).append(nl);
        }
        deviceRuntime.ifPresent(d -> d.describe().forEach(line -> sb.append(line).append(nl)));
        return sb.toString();
    }

    @Override
    public synchronized void close() {
        RuntimeException first = null;
        if (deviceRuntime.isPresent()) {
            try {
                deviceRuntime.get().close();
            } catch (RuntimeException e) {
                first = e;
            }
        }
        for (Placed p : placements.values()) {
            try {
                p.close();
            } catch (RuntimeException e) {
                first = first == null ? e : first;
            }
        }
        placements.clear();
        if (nodePools.isPresent()) {
            nodePools.get().close();
        } else {
            densePool.close();
        }
        if (first != null) {
            throw first;
        }
    }
}
