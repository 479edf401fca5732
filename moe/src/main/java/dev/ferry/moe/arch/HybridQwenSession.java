package dev.ferry.moe.arch;

import dev.ferry.cuda.Device;
import dev.ferry.cuda.DeviceBuffer;
import dev.ferry.cuda.PinnedHostBuffer;
import dev.ferry.cuda.Stream;
import dev.ferry.cuda.kernels.DeviceKernels;
import dev.ferry.moe.hybrid.DeviceLinear;
import dev.ferry.moe.hybrid.DeviceMatrix;
import dev.ferry.moe.hybrid.DeviceWeights;
import dev.ferry.moe.hybrid.ExpertUploader;
import dev.ferry.moe.hybrid.HybridExecution;
import dev.ferry.moe.hybrid.HybridStats;
import dev.ferry.moe.kernel.KernelWarmUp;
import dev.ferry.moe.model.InferenceSession;
import dev.ferry.moe.model.ModelConfig;
import dev.ferry.moe.model.SessionOptions;
import dev.ferry.moe.offload.ExpertWork;
import dev.ferry.moe.offload.OffloadDecision;
import dev.ferry.moe.placement.ExpertProjection;
import dev.ferry.moe.plan.Home;
import dev.ferry.moe.plan.PlacementPlan;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A qwen3 / qwen3moe session whose layers run where the placement plan puts them. Layers on the
 * GPU run attention, norms, router and dense or resident-expert feed-forward on the device; their
 * routed experts, when the plan keeps them in host RAM ({@code -ot exps=CPU}), run per micro-batch
 * either on the CPU workers next to them (only the normalised hidden states and the routing cross
 * PCIe) or, when the offload policy says the batch is worth it, on the device after streaming the
 * routed experts up through {@link ExpertUploader}. Layers on the CPU run as in
 * {@link QwenSession}, which this session uses for them, for the token embedding, for host
 * experts and for an output head kept on the CPU.
 */
final class HybridQwenSession implements InferenceSession {

    /** Most experts moved into a capped pinned cache after one prefill batch (each is one memcpy). */
    private static final int REBALANCE_SWAPS = 16;

    /** Rows of logits projected and copied back at a time. */
    private static final int LOGIT_ROWS = 8;

    private final QwenModel model;
    private final ModelConfig c;
    private final QwenSession cpu;
    private final HybridExecution exec;
    private final Device device;
    private final HybridStats stats;
    private final int microBatch;
    private final int contextLength;
    private final int used;
    private final List<AutoCloseable> owned = new ArrayList<>();
    private final DeviceLayer[] layers;
    private final boolean outputOnGpu;
    private final Stream compute;
    private final DeviceLinear linear;
    private final ExpertUploader uploader;
    private final DeviceBuffer outputNorm;
    private final DeviceMatrix outputHead;

    private final DeviceBuffer dx;
    private final DeviceBuffer dxb;
    private final DeviceBuffer dq;
    private final DeviceBuffer dk;
    private final DeviceBuffer dv;
    private final DeviceBuffer dattn;
    private final DeviceBuffer dpos;
    private final DeviceBuffer dffnA;
    private final DeviceBuffer dffnB;
    private final DeviceBuffer drouter;
    private final DeviceBuffer dids;
    private final DeviceBuffer dweights;
    private final DeviceBuffer dgather;
    private final DeviceBuffer dgate;
    private final DeviceBuffer dup;
    private final DeviceBuffer ddown;
    private final DeviceBuffer dmoe;
    private final DeviceBuffer dlogits;
    private final PinnedHostBuffer hostHidden;
    private final PinnedHostBuffer hostInts;
    private final PinnedHostBuffer hostPositions;
    private final PinnedHostBuffer hostFloats;
    private final PinnedHostBuffer hostLogits;

    private final int[] ids;
    private final float[] weights;
    private final int[] pairOrder;
    private final int[] pairOfSlot;
    private final int[] expertTokens;
    /** Per expert, its first row in the expert-ordered pair buffers (set by {@link #prepareSlots}). */
    private final int[] firstRow;
    private final int[] nextRow;

    private int position;
    private boolean hiddenOnDevice;
    private ExpertUploader.Chunk prefetched;
    private int prefetchedLayer = -1;
    private final MicroBatches.Steps steps = new MicroBatches.Steps() {
        @Override
        public void forward(int[] tokens, int offset, int n) {
            HybridQwenSession.this.forward(tokens, offset, n);
        }

        @Override
        public void project(int from, int n, MemorySegment logits, long logitsOffset) {
            projectLogits(from, n, logits, logitsOffset);
        }
    };
    private HybridStats.Phase phase = HybridStats.Phase.PREFILL;

    /** The device copies of one GPU layer. */
    private record DeviceLayer(DeviceBuffer attnNorm, DeviceMatrix wq, DeviceMatrix wk, DeviceMatrix wv, DeviceMatrix wo,
                               DeviceBuffer qNorm, DeviceBuffer kNorm, DeviceBuffer ffnNorm, DeviceMatrix ffnGate,
                               DeviceMatrix ffnUp, DeviceMatrix ffnDown, DeviceMatrix router, DeviceMatrix[][] experts,
                               boolean hostExperts, DeviceMatrix.Layout[] expertLayouts, DeviceBuffer keys, DeviceBuffer values) {
    }

    HybridQwenSession(QwenModel model, SessionOptions options, HybridExecution exec) {
        this.model = model;
        this.c = model.config();
        this.exec = exec;
        this.device = exec.device();
        this.stats = exec.stats();
        this.microBatch = options.microBatch();
        this.contextLength = options.contextLength();
        this.used = c.isMixtureOfExperts() ? c.expertUsedCount() : 0;
        if (c.keyLength() != c.valueLength()) {
            throw new IllegalArgumentException("the device attention kernel needs key_length == value_length, the model has "
                    + c.keyLength() + " and " + c.valueLength() + ": run with -ngl 0");
        }
        PlacementPlan plan = exec.plan();
        this.cpu = new QwenSession(model, options);
        owned.add(cpu);
        try {
            this.compute = device.createStream();
            owned.add(compute);
            DeviceWeights up = exec.weights();
            this.layers = new DeviceLayer[c.layerCount()];
            long maxExpertFootprint = 0;
            long largestLayerExperts = 0;
            for (int l = 0; l < layers.length; l++) {
                layers[l] = uploadLayer(plan, up, l);
                if (layers[l] != null && layers[l].hostExperts()) {
                    long footprint = 0;
                    for (DeviceMatrix.Layout m : layers[l].expertLayouts()) {
                        footprint += ExpertUploader.slotBytes(m.bytes());
                    }
                    maxExpertFootprint = Math.max(maxExpertFootprint, footprint);
                    largestLayerExperts = Math.max(largestLayerExperts, footprint * c.expertCount());
                }
            }
            this.outputOnGpu = home(plan, "output_norm.weight") == Home.GPU;
            if (outputOnGpu && model.output() != model.tokenEmbedding() && home(plan, "output.weight") != Home.GPU) {
                throw new IllegalArgumentException("output.weight is on the CPU but output_norm.weight on the GPU: keep the output layer together");
            }
            this.outputNorm = outputOnGpu ? up.vector("output_norm.weight", model.outputNorm()) : null;
            this.outputHead = outputOnGpu ? up.matrix(model.output() == model.tokenEmbedding() ? "token_embd.weight" : "output.weight",
                    model.output()) : null;
            long embd = c.embeddingLength();
            long ub = microBatch;
            long slots = ub * Math.max(used, 1);
            long ff = Math.max(c.feedForwardLength(), c.expertFeedForwardLength());
            long attnWidth = (long) c.headCount() * c.valueLength();
            this.dx = floats(ub * embd);
            this.dxb = floats(ub * embd);
            this.dq = floats(ub * c.queryWidth());
            this.dk = floats(ub * c.keyWidth());
            this.dv = floats(ub * c.valueWidth());
            this.dattn = floats(ub * attnWidth);
            this.dpos = floats(ub);
            this.dffnA = floats(ub * Math.max(c.feedForwardLength(), 1));
            this.dffnB = floats(ub * Math.max(c.feedForwardLength(), 1));
            this.drouter = floats(ub * Math.max(c.expertCount(), 1));
            this.dids = floats(slots);
            this.dweights = floats(slots);
            this.dgather = floats(slots * embd);
            this.dgate = floats(slots * Math.max(c.expertFeedForwardLength(), 1));
            this.dup = floats(slots * Math.max(c.expertFeedForwardLength(), 1));
            this.ddown = floats(slots * embd);
            this.dmoe = floats(ub * embd);
            this.dlogits = outputOnGpu ? floats((long) LOGIT_ROWS * c.vocabSize()) : null;
            this.hostHidden = pinned(ub * embd * Float.BYTES);
            this.hostInts = pinned(slots * Integer.BYTES);
            this.hostPositions = pinned(ub * Integer.BYTES);
            this.hostFloats = pinned(slots * Float.BYTES);
            this.hostLogits = outputOnGpu ? pinned((long) LOGIT_ROWS * c.vocabSize() * Float.BYTES) : null;
            long maxIn = Math.max(slots * Math.max(embd, ff), ub * Math.max(attnWidth, embd));
            long maxWeights = largestDenseMatrix();
            this.linear = own(new DeviceLinear(device, maxIn, maxWeights));
            if (maxExpertFootprint > 0 && exec.cache() != null) {
                // Default: each of the two buffers holds a whole layer (the plan budgets two), so the next layer can go up ahead.
                long chunk = exec.uploadChunkBytes() > 0 ? Math.max(exec.uploadChunkBytes(), maxExpertFootprint)
                        : Math.max(maxExpertFootprint, largestLayerExperts);
                this.uploader = own(new ExpertUploader(device, exec.cache(), chunk, stats));
            } else {
                this.uploader = null;
            }
            int maxSlots = (int) slots;
            this.ids = new int[maxSlots];
            this.weights = new float[maxSlots];
            this.pairOrder = new int[maxSlots];
            this.pairOfSlot = new int[maxSlots];
            this.expertTokens = new int[Math.max(c.expertCount(), 1)];
            this.firstRow = new int[expertTokens.length];
            this.nextRow = new int[expertTokens.length];
            this.hiddenOnDevice = false;
        } catch (RuntimeException | Error e) {
            closeAll();
            throw e;
        }
    }

    private static Home home(PlacementPlan plan, String tensor) {
        return plan.tensor(tensor).home();
    }

    /** Uploads layer {@code l}'s tensors when the plan puts its attention on the GPU; null for a CPU layer. */
    private DeviceLayer uploadLayer(PlacementPlan plan, DeviceWeights up, int l) {
        String p = "blk." + l + ".";
        Home attention = home(plan, p + "attn_q.weight");
        List<String> dense = new ArrayList<>(List.of("attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "attn_q_norm",
                "attn_k_norm", "ffn_norm"));
        dense.addAll(c.isMixtureOfExperts() ? List.of("ffn_gate_inp") : List.of("ffn_gate", "ffn_up", "ffn_down"));
        for (String t : dense) {
            if (home(plan, p + t + ".weight") != attention) {
                throw new IllegalArgumentException("layer " + l + ": " + p + t + ".weight is on the " + home(plan, p + t + ".weight")
                        + " but the layer's attention is on the " + attention + "; hybrid execution places whole layers "
                        + "(only the routed experts, *_exps, may stay on the CPU of a GPU layer)");
            }
        }
        if (attention == Home.HOST) {
            if (c.isMixtureOfExperts()) {
                for (ExpertProjection proj : ExpertProjection.values()) {
                    if (home(plan, proj.tensorName(l)) == Home.GPU) {
                        throw new IllegalArgumentException(proj.tensorName(l) + " is on the GPU but layer " + l
                                + " runs on the CPU; put the layer on the GPU (-ngl) or its experts on the CPU");
                    }
                }
            }
            return null;
        }
        QwenLayer layer = model.layer(l);
        DeviceMatrix[][] experts = null;
        DeviceMatrix.Layout[] shapes = null;
        boolean hostExperts = false;
        if (layer.isMixtureOfExperts()) {
            Home gate = home(plan, ExpertProjection.GATE.tensorName(l));
            for (ExpertProjection proj : ExpertProjection.values()) {
                if (home(plan, proj.tensorName(l)) != gate) {
                    throw new IllegalArgumentException("layer " + l + ": the three *_exps tensors must share one home; "
                            + proj.tensorName(l) + " differs (check the -ot rules)");
                }
            }
            var tensors = List.of(layer.gateExperts(), layer.upExperts(), layer.downExperts());
            if (gate == Home.GPU) {
                experts = new DeviceMatrix[3][];
                for (ExpertProjection proj : ExpertProjection.values()) {
                    experts[proj.ordinal()] = up.experts(proj.tensorName(l), tensors.get(proj.ordinal()));
                }
            } else {
                hostExperts = true;
                shapes = new DeviceMatrix.Layout[3];
                for (int i = 0; i < 3; i++) {
                    var w = tensors.get(i);
                    if (DeviceWeights.keepsBytes(w.type())) {
                        shapes[i] = DeviceWeights.layoutOf(w.type(), w.rows(), w.cols());
                    } else {
                        shapes = null;
                        break;
                    }
                }
            }
        }
        long kvBytes = (long) contextLength * c.keyWidth() * Float.BYTES;
        return new DeviceLayer(up.vector(p + "attn_norm.weight", layer.attnNorm()), up.matrix(p + "attn_q.weight", layer.wq()),
                up.matrix(p + "attn_k.weight", layer.wk()), up.matrix(p + "attn_v.weight", layer.wv()),
                up.matrix(p + "attn_output.weight", layer.wo()), up.vector(p + "attn_q_norm.weight", layer.qNorm()),
                up.vector(p + "attn_k_norm.weight", layer.kNorm()), up.vector(p + "ffn_norm.weight", layer.ffnNorm()),
                layer.ffnGate() == null ? null : up.matrix(p + "ffn_gate.weight", layer.ffnGate()),
                layer.ffnUp() == null ? null : up.matrix(p + "ffn_up.weight", layer.ffnUp()),
                layer.ffnDown() == null ? null : up.matrix(p + "ffn_down.weight", layer.ffnDown()),
                layer.router() == null ? null : up.matrix(p + "ffn_gate_inp.weight", layer.router()),
                experts, hostExperts && shapes != null, shapes, own(device.allocate(kvBytes)),
                own(device.allocate((long) contextLength * c.valueWidth() * Float.BYTES)));
    }

    private long largestDenseMatrix() {
        long max = 1;
        for (int l = 0; l < layers.length; l++) {
            if (layers[l] == null) {
                continue;
            }
            for (DeviceMatrix m : new DeviceMatrix[] {layers[l].wq(), layers[l].wk(), layers[l].wv(), layers[l].wo(), layers[l].ffnGate(),
                    layers[l].ffnUp(), layers[l].ffnDown(), layers[l].router()}) {
                if (m != null) {
                    max = Math.max(max, m.rows() * m.cols());
                }
            }
            DeviceMatrix.Layout[] shapes = layers[l].expertLayouts();
            if (shapes != null) {
                for (DeviceMatrix.Layout m : shapes) {
                    max = Math.max(max, m.rows() * m.cols());
                }
            }
            if (layers[l].experts() != null) {
                for (DeviceMatrix[] per : layers[l].experts()) {
                    max = Math.max(max, per[0].rows() * per[0].cols());
                }
            }
        }
        return max;
    }

    private DeviceBuffer floats(long n) {
        return own(device.allocate(Math.max(n, 1) * Float.BYTES));
    }

    private PinnedHostBuffer pinned(long bytes) {
        return own(device.allocatePinned(Math.max(bytes, 4)));
    }

    private <T extends AutoCloseable> T own(T resource) {
        owned.add(resource);
        return resource;
    }

    @Override
    public ModelConfig config() {
        return c;
    }

    @Override
    public int position() {
        return position;
    }

    @Override
    public int contextLength() {
        return contextLength;
    }

    @Override
    public KernelWarmUp.Report warmUp() {
        // only what the plan keeps in host memory is multiplied on the CPU
        return cpu.warmUp(name -> home(exec.plan(), name) == Home.HOST, QwenSession.WARM_UP_MIN_BYTES_PER_TOKEN,
                QwenSession.WARM_UP_STEP_NANOS);
    }

    @Override
    public void rewind(int newPosition) {
        cpu.rewind(newPosition);
        position = newPosition;
    }

    @Override
    public void evaluate(int[] tokens, int offset, int count, boolean allLogits, MemorySegment logits) {
        MicroBatches.evaluate(c, position, contextLength, microBatch, tokens, offset, count, allLogits, logits, steps);
        if (uploader != null) {
            uploader.settle();
            if (phase == HybridStats.Phase.PREFILL && exec.cache().stagesMisses()) {
                // Between batches: the experts the router picked most move into the capped pinned cache.
                exec.cache().rebalance(REBALANCE_SWAPS);
            }
        }
    }

    private void forward(int[] tokens, int offset, int n) {
        phase = n > 1 ? HybridStats.Phase.PREFILL : HybridStats.Phase.DECODE;
        cpu.embed(tokens, offset, n);
        hiddenOnDevice = false;
        for (int i = 0; i < n; i++) {
            hostPositions.segment().setAtIndex(ValueLayout.JAVA_INT, i, position + i);
        }
        compute.copyToDeviceAsync(hostPositions, 0, dpos, 0, (long) n * Integer.BYTES);
        for (int l = 0; l < c.layerCount(); l++) {
            if (layers[l] == null) {
                hiddenToHost(n);
                cpu.layer(l, n);
            } else {
                hiddenToDevice(n);
                deviceLayer(l, layers[l], n);
            }
        }
        dropPrefetch();
        cpu.advance(n);
        position += n;
        stats.addBatch(phase, n);
    }

    private void hiddenToDevice(int n) {
        if (hiddenOnDevice) {
            return;
        }
        long bytes = (long) n * c.embeddingLength() * Float.BYTES;
        MemorySegment.copy(cpu.hidden(), 0, hostHidden.segment(), 0, bytes);
        compute.copyToDeviceAsync(hostHidden, 0, dx, 0, bytes);
        stats.addHiddenTraffic(phase, bytes, 0);
        hiddenOnDevice = true;
    }

    private void hiddenToHost(int n) {
        if (!hiddenOnDevice) {
            return;
        }
        long bytes = (long) n * c.embeddingLength() * Float.BYTES;
        compute.copyToHostAsync(dx, 0, hostHidden, 0, bytes);
        compute.synchronize();
        MemorySegment.copy(hostHidden.segment(), 0, cpu.hidden(), 0, bytes);
        stats.addHiddenTraffic(phase, 0, bytes);
        hiddenOnDevice = false;
    }

    private void deviceLayer(int l, DeviceLayer d, int n) {
        int embd = Math.toIntExact(c.embeddingLength());
        int hd = c.keyLength();
        float eps = c.rmsEpsilon();
        DeviceKernels.rmsNorm(compute, dx, d.attnNorm(), dxb, n, embd, eps);
        linear.apply(compute, d.wq(), dxb, n, dq);
        linear.apply(compute, d.wk(), dxb, n, dk);
        linear.apply(compute, d.wv(), dxb, n, dv);
        DeviceKernels.rmsNorm(compute, dq, d.qNorm(), dq, n * c.headCount(), hd, eps);
        DeviceKernels.rmsNorm(compute, dk, d.kNorm(), dk, n * c.headCountKv(), hd, eps);
        DeviceKernels.ropeNeox(compute, dq, dpos, n, c.headCount(), hd, c.ropeDimensions(), c.ropeFreqBase(), 1f);
        DeviceKernels.ropeNeox(compute, dk, dpos, n, c.headCountKv(), hd, c.ropeDimensions(), c.ropeFreqBase(), 1f);
        long kRow = (long) c.keyWidth() * Float.BYTES;
        long vRow = (long) c.valueWidth() * Float.BYTES;
        compute.copyOnDevice(dk, 0, d.keys(), position * kRow, n * kRow);
        compute.copyOnDevice(dv, 0, d.values(), position * vRow, n * vRow);
        DeviceKernels.attention(compute, dq, d.keys(), d.values(), dattn, n, c.headCount(), c.headCountKv(), hd, position,
                (float) (1.0 / Math.sqrt(hd)));
        linear.apply(compute, d.wo(), dattn, n, dxb);
        DeviceKernels.add(compute, dx, dxb, dx, (long) n * embd);
        DeviceKernels.rmsNorm(compute, dx, d.ffnNorm(), dxb, n, embd, eps);
        if (d.router() == null) {
            linear.apply(compute, d.ffnGate(), dxb, n, dffnA);
            linear.apply(compute, d.ffnUp(), dxb, n, dffnB);
            DeviceKernels.swiglu(compute, dffnA, dffnB, dffnA, (long) n * c.feedForwardLength());
            linear.apply(compute, d.ffnDown(), dffnA, n, dxb);
            DeviceKernels.add(compute, dx, dxb, dx, (long) n * embd);
            return;
        }
        linear.apply(compute, d.router(), dxb, n, drouter);
        DeviceKernels.routerTopK(compute, drouter, dids, dweights, n, c.expertCount(), used, c.normalizeExpertWeights());
        int slots = n * used;
        compute.copyToHostAsync(dids, 0, hostInts, 0, (long) slots * Integer.BYTES);
        compute.copyToHostAsync(dweights, 0, hostFloats, 0, (long) slots * Float.BYTES);
        compute.synchronize();
        MemorySegment.copy(hostInts.segment(), ValueLayout.JAVA_INT, 0, ids, 0, slots);
        MemorySegment.copy(hostFloats.segment(), ValueLayout.JAVA_FLOAT, 0, weights, 0, slots);
        int[] routed = routedExperts(slots);
        if (d.experts() != null) {
            stats.addExpertBatch(phase, true, slots);
            prepareSlots(n);
            computeExperts(d.experts(), routed);
            combineExperts(n);
        } else {
            for (int e : routed) {
                if (exec.cache() != null) {
                    exec.cache().recordRouting(l, e, expertTokens[e]);
                }
            }
            ExpertWork work = work(d, n, routed);
            OffloadDecision decision = decide(d, work);
            stats.addExpertBatch(phase, decision.onGpu(), slots);
            stats.addDecision(new HybridStats.ExpertDecision(phase, l, work, decision));
            if (decision.onGpu()) {
                if (prefetchedLayer == l) {
                    prefetchedExperts(d, n, routed);
                } else {
                    offloadedExperts(l, d, n, routed);
                }
                prefetchNext(l, n);
            } else {
                dropPrefetch();
                long t0 = System.nanoTime();
                cpuExperts(l, n);
                exec.policy().observeCpu(work, (System.nanoTime() - t0) / 1e9);
                return;
            }
        }
        DeviceKernels.add(compute, dx, dmoe, dx, (long) n * embd);
    }

    /** The distinct experts of the current routing, ascending, with their token counts in {@link #expertTokens}. */
    private int[] routedExperts(int slots) {
        Arrays.fill(expertTokens, 0);
        int distinct = 0;
        for (int s = 0; s < slots; s++) {
            if (expertTokens[ids[s]]++ == 0) {
                distinct++;
            }
        }
        int[] out = new int[distinct];
        int i = 0;
        for (int e = 0; e < expertTokens.length; e++) {
            if (expertTokens[e] > 0) {
                out[i++] = e;
            }
        }
        return out;
    }

    /** What the host experts of this layer and micro-batch cost: the question for the offload policy. */
    private ExpertWork work(DeviceLayer d, int n, int[] routed) {
        long bytesPerExpert = 0;
        long params = 0;
        for (DeviceMatrix.Layout m : d.expertLayouts() == null ? new DeviceMatrix.Layout[0] : d.expertLayouts()) {
            bytesPerExpert += m.bytes();
            params += m.rows() * m.cols();
        }
        return new ExpertWork(n, n * used, routed.length, Math.max(bytesPerExpert, 1), Math.max(2 * params, 1));
    }

    /**
     * Decode never uploads weights: a single token's experts are read once and thrown away, so
     * they run next to their memory and only the hidden state crosses PCIe. Larger batches ask
     * the policy.
     */
    private OffloadDecision decide(DeviceLayer d, ExpertWork work) {
        if (uploader == null || !d.hostExperts()) {
            return new OffloadDecision(false, Double.NaN, Double.NaN, uploader == null ? "no upload path" : "expert type has no device kernel");
        }
        if (work.tokens() == 1) {
            return new OffloadDecision(false, Double.NaN, Double.NaN, "decode: one token's experts run on the CPU next to their memory");
        }
        return exec.policy().decide(work);
    }

    /** Host experts on the CPU workers: the normalised hidden states go down, the expert sum comes back up. */
    private void cpuExperts(int l, int n) {
        long bytes = (long) n * c.embeddingLength() * Float.BYTES;
        compute.copyToHostAsync(dxb, 0, hostHidden, 0, bytes);
        compute.synchronize();
        MemorySegment in = cpu.scratch();
        MemorySegment.copy(hostHidden.segment(), 0, in, 0, bytes);
        cpu.routedExperts(l, in, n, ids, weights, in);
        MemorySegment.copy(in, 0, hostHidden.segment(), 0, bytes);
        compute.copyToDeviceAsync(hostHidden, 0, dmoe, 0, bytes);
        DeviceKernels.add(compute, dx, dmoe, dx, n * c.embeddingLength());
        stats.addHiddenTraffic(phase, bytes, bytes);
    }

    /** Host experts streamed to the device chunk by chunk, double buffered, then computed there. */
    private void offloadedExperts(int l, DeviceLayer d, int n, int[] routed) {
        List<int[]> chunks = uploader.plan(l, routed);
        DeviceMatrix[][] views = new DeviceMatrix[3][c.expertCount()];
        ExpertUploader.Chunk current = uploader.upload(phase, l, chunks.get(0));
        prepareSlots(n);
        for (int i = 0; i < chunks.size(); i++) {
            ExpertUploader.Chunk following = i + 1 < chunks.size() ? uploader.upload(phase, l, chunks.get(i + 1)) : null;
            compute.waitFor(current.ready());
            viewUploaded(d, current, views);
            computeExperts(views, chunks.get(i));
            uploader.release(current, compute.record());
            current = following;
        }
        combineExperts(n);
    }

    /** The experts of layer {@code l} from the whole-layer upload queued during the previous layer. */
    private void prefetchedExperts(DeviceLayer d, int n, int[] routed) {
        DeviceMatrix[][] views = new DeviceMatrix[3][c.expertCount()];
        compute.waitFor(prefetched.ready());
        viewUploaded(d, prefetched, views);
        prepareSlots(n);
        computeExperts(views, routed);
        combineExperts(n);
        uploader.release(prefetched, compute.record());
        stats.addPrefetch(phase, true);
        prefetched = null;
        prefetchedLayer = -1;
    }

    /**
     * Queues the whole next host-expert layer on the copy stream while this layer computes, when
     * the batch is big enough that every expert is expected to be routed (so the whole layer is
     * the routed set), the policy expects that layer to go to the GPU, and it fits one buffer.
     */
    private void prefetchNext(int l, int n) {
        int next = l + 1;
        while (next < layers.length && (layers[next] == null || layers[next].experts() != null)) {
            next++;
        }
        if (next >= layers.length || !layers[next].hostExperts()) {
            return;
        }
        int experts = c.expertCount();
        ExpertWork all = work(layers[next], n, new int[0]);
        ExpertWork expected = ExpertWork.uniform(n, used, experts, all.bytesPerExpert(), all.flopsPerPair());
        if (expected.routedExperts() < experts || !exec.policy().decide(expected).onGpu()
                || uploader.expertFootprint(next) * experts > uploader.chunkBytes()) {
            return;
        }
        int[] every = new int[experts];
        for (int e = 0; e < experts; e++) {
            every[e] = e;
        }
        prefetched = uploader.upload(phase, next, every);
        prefetchedLayer = next;
    }

    /** Gives back a whole-layer upload that was not used (the layer's experts ran on the CPU, or the batch ended). */
    private void dropPrefetch() {
        if (prefetched != null) {
            uploader.release(prefetched, compute.record());
            stats.addPrefetch(phase, false);
            prefetched = null;
            prefetchedLayer = -1;
        }
    }

    /** The device matrices of each expert in {@code chunk}, by expert id and projection. */
    private static void viewUploaded(DeviceLayer d, ExpertUploader.Chunk chunk, DeviceMatrix[][] views) {
        for (ExpertUploader.ExpertSlot slot : chunk.slots()) {
            views[0][slot.expert()] = d.expertLayouts()[0].over(slot.gate());
            views[1][slot.expert()] = d.expertLayouts()[1].over(slot.up());
            views[2][slot.expert()] = d.expertLayouts()[2].over(slot.down());
        }
    }

    /**
     * Orders the (token, expert) pairs by expert so each expert's tokens are contiguous rows of the
     * gather, gate, up and down buffers; {@link #pairOfSlot} maps a slot back to its row.
     */
    private void prepareSlots(int n) {
        int slots = n * used;
        int row = 0;
        for (int e = 0; e < expertTokens.length; e++) {
            firstRow[e] = row;
            row += expertTokens[e];
        }
        int[] next = nextRow;
        System.arraycopy(firstRow, 0, next, 0, expertTokens.length);
        for (int s = 0; s < slots; s++) {
            int r = next[ids[s]]++;
            pairOrder[r] = s;
            pairOfSlot[s] = r;
        }
    }

    /** Gate, up, SwiGLU and down of the given experts for their pairs; rows in {@link #ddown}. */
    private void computeExperts(DeviceMatrix[][] experts, int[] which) {
        long embdBytes = c.embeddingLength() * Float.BYTES;
        long ff = c.expertFeedForwardLength();
        long ffBytes = ff * Float.BYTES;
        for (int e : which) {
            int first = firstRow[e];
            int count = expertTokens[e];
            if (count == 0) {
                continue;
            }
            DeviceBuffer gateRows = dgate.slice(first * ffBytes, count * ffBytes);
            DeviceBuffer upRows = dup.slice(first * ffBytes, count * ffBytes);
            DeviceBuffer downRows = ddown.slice(first * embdBytes, count * embdBytes);
            DeviceBuffer input;
            if (count >= DeviceLinear.GEMM_MIN_TOKENS) {
                for (int r = 0; r < count; r++) {
                    int token = pairOrder[first + r] / used;
                    compute.copyOnDevice(dxb, token * embdBytes, dgather, (first + r) * embdBytes, embdBytes);
                }
                input = dgather.slice(first * embdBytes, count * embdBytes);
                linear.apply(compute, experts[0][e], input, count, gateRows);
                linear.apply(compute, experts[1][e], input, count, upRows);
            } else {
                for (int r = 0; r < count; r++) {
                    int token = pairOrder[first + r] / used;
                    DeviceBuffer row = dxb.slice(token * embdBytes, embdBytes);
                    linear.apply(compute, experts[0][e], row, 1, gateRows.slice(r * ffBytes, ffBytes));
                    linear.apply(compute, experts[1][e], row, 1, upRows.slice(r * ffBytes, ffBytes));
                }
            }
            DeviceKernels.swiglu(compute, gateRows, upRows, gateRows, count * ff);
            linear.apply(compute, experts[2][e], gateRows, count, downRows);
        }
    }

    /** {@code dmoe[t] = sum_j w[t][j] * down[t][j]}, in selection order as on the CPU. */
    private void combineExperts(int n) {
        long embd = c.embeddingLength();
        long embdBytes = embd * Float.BYTES;
        for (int t = 0; t < n; t++) {
            DeviceBuffer out = dmoe.slice(t * embdBytes, embdBytes);
            for (int j = 0; j < used; j++) {
                int s = t * used + j;
                DeviceBuffer row = ddown.slice(pairOfSlot[s] * embdBytes, embdBytes);
                if (j == 0) {
                    DeviceKernels.scale(compute, row, out, weights[s], embd);
                } else {
                    DeviceKernels.axpy(compute, row, out, weights[s], embd);
                }
            }
        }
    }

    /** Final norm and output head for rows {@code [from, from+n)}. */
    private void projectLogits(int from, int n, MemorySegment logits, long logitsOffset) {
        if (!outputOnGpu) {
            hiddenToHost(from + n);
            cpu.projectLogits(from, n, logits, logitsOffset);
            return;
        }
        long embdBytes = c.embeddingLength() * Float.BYTES;
        long vocab = c.vocabSize();
        // A few rows at a time: a whole micro-batch of logits would need ub x vocab floats on both sides.
        for (int done = 0; done < n; done += LOGIT_ROWS) {
            int rowsNow = Math.min(LOGIT_ROWS, n - done);
            DeviceBuffer rows = dx.slice((from + done) * embdBytes, rowsNow * embdBytes);
            DeviceBuffer normed = dxb.slice(0, rowsNow * embdBytes);
            DeviceKernels.rmsNorm(compute, rows, outputNorm, normed, rowsNow, Math.toIntExact(c.embeddingLength()), c.rmsEpsilon());
            linear.apply(compute, outputHead, normed, rowsNow, dlogits);
            long bytes = rowsNow * vocab * Float.BYTES;
            compute.copyToHostAsync(dlogits, 0, hostLogits, 0, bytes);
            compute.synchronize();
            MemorySegment.copy(hostLogits.segment(), 0, logits, (logitsOffset + done * vocab) * Float.BYTES, bytes);
        }
    }

    @Override
    public void close() {
        closeAll();
    }

    private void closeAll() {
        RuntimeException first = null;
        for (int i = owned.size() - 1; i >= 0; i--) {
            try {
                owned.get(i).close();
            } catch (Exception e) {
                if (first == null) {
                    first = e instanceof RuntimeException r ? r : new IllegalStateException(e);
                }
            }
        }
        owned.clear();
        if (first != null) {
            throw first;
        }
    }

}
