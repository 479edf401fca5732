package dev.ferry.cli;

import dev.ferry.cuda.DeviceChoice;
import dev.ferry.cuda.Devices;
import dev.ferry.cuda.OpenedDevice;
import dev.ferry.loader.GgufFile;
import dev.ferry.loader.GgufFormatException;
import dev.ferry.loader.ModelSummary;
import dev.ferry.moe.placement.HostContext;
import dev.ferry.moe.plan.ByteSize;
import dev.ferry.moe.plan.GpuTarget;
import dev.ferry.moe.plan.PlacementPlan;
import dev.ferry.moe.plan.PlacementPlanner;
import dev.ferry.moe.plan.PlanOptions;
import dev.ferry.moe.plan.PlanReport;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code ferry inspect FILE [placement flags]}: architecture, hyper-parameters, tokenizer, tensor
 * table and totals of a GGUF model, read from its header only (instant on a file of any size).
 * With any placement flag it also prints the placement plan (every tensor's home, bytes on the
 * GPU and per NUMA node, pinned bytes, KV cache, fit verdict); a plan that does not fit gives
 * exit code 1 and one line on stderr with the numbers. A file that is not valid GGUF gives one
 * line on stderr naming the file and the problem, and exit code 1.
 */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = {"Show a GGUF model's architecture, hyper-parameters, tokenizer, tensors and totals (reads the header only).",
                "With any placement flag (-ngl, -ot, --cpu-moe, --n-cpu-moe, --numa, --pinned-expert-cache, --pin-in-place, "
                        + "--pinned-cache-size, --no-mmap, -c, -ctk, -ctv, -ub, --gpu-memory, --device) it also prints where every "
                        + "tensor would live and whether that fits the GPU and RAM, without loading anything."})
public final class InspectCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "FILE", description = "GGUF model file.")
    Path file;

    @Option(names = "--json", description = "Write the summary (and the plan) as JSON.")
    boolean json;

    @Mixin
    GpuOptions gpu;

    @Option(names = "--numa", paramLabel = "POLICY",
            description = "Place host tensors per NUMA node: distribute, isolate, numactl, mirror, shard (default: none, the file mapping).")
    String numa;

    @Option(names = "--no-mmap", description = "Host weights copied into anonymous memory instead of read from the file mapping.")
    boolean noMmap;

    @Option(names = {"-c", "--ctx-size"}, paramLabel = "N",
            description = "Context length for the KV cache; 0 = the model's trained context (default: " + PlanOptions.DEFAULT_CONTEXT + ").")
    Integer contextLength;

    @Option(names = {"-ub", "--ubatch-size"}, paramLabel = "N",
            description = "Micro-batch size, for the compute-buffer estimate (default: " + PlanOptions.DEFAULT_MICRO_BATCH + ").")
    Integer microBatch;

    @Option(names = {"-ctk", "--cache-type-k"}, paramLabel = "TYPE", description = "KV cache type for K: f32, f16 (default: f16).")
    String cacheTypeK;

    @Option(names = {"-ctv", "--cache-type-v"}, paramLabel = "TYPE", description = "KV cache type for V: f32, f16 (default: f16).")
    String cacheTypeV;

    @Option(names = "--gpu-memory", paramLabel = "SIZE",
            description = "Plan for a GPU with SIZE of memory (e.g. 24G) instead of probing one; works without a GPU.")
    String gpuMemory;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        ModelSummary summary;
        Optional<PlacementPlan> plan;
        HostContext host = null;
        try (GgufFile gguf = GgufFile.open(file)) {
            summary = ModelSummary.of(gguf);
            if (placementRequested()) {
                host = HostContext.system();
                plan = Optional.of(PlacementPlanner.plan(gguf, planOptions(), gpuTarget(host), host.topology(), host.process()));
            } else {
                plan = Optional.empty();
            }
        } catch (GgufFormatException | UncheckedIOException | IllegalArgumentException e) {
            err.println("ferry inspect: " + oneLine(e.getMessage()));
            err.flush();
            return 1;
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(InspectJson.render(summary, plan));
        } else {
            out.print(InspectText.render(summary));
            if (plan.isPresent()) {
                out.append('\n').print(PlanReport.text(plan.get(), host.topology()));
            }
        }
        out.flush();
        if (plan.isPresent() && !plan.get().fits()) {
            err.println("ferry inspect: " + oneLine(plan.get().refusal()));
            err.flush();
            return 1;
        }
        return 0;
    }

    /** True when any flag that shapes the plan was given. */
    boolean placementRequested() {
        return gpu.any() || numa != null || noMmap || contextLength != null || microBatch != null || cacheTypeK != null
                || cacheTypeV != null || gpuMemory != null;
    }

    PlanOptions planOptions() {
        return PlanOptions.parse(gpu.gpuLayers, gpu.overrides, gpu.cpuMoe, gpu.nCpuMoe, numa, gpu.pinnedExpertCache, gpu.pinInPlace,
                gpu.pinnedCacheSize, noMmap, contextLength, microBatch, cacheTypeK, cacheTypeV);
    }

    /** {@code --gpu-memory} as given, else the device {@code --device} opens (auto: a real GPU or none). */
    private GpuTarget gpuTarget(HostContext host) {
        DeviceChoice choice = gpu.choice();
        if (gpuMemory != null) {
            return GpuTarget.planned(ByteSize.parse("--gpu-memory", gpuMemory));
        }
        try (OpenedDevice opened = Devices.open(choice, gpu.deviceOptions())) {
            return GpuTarget.of(opened, host.topology());
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("--device " + choice.name().toLowerCase(java.util.Locale.ROOT) + ": " + e.getMessage(), e);
        }
    }

    private static String oneLine(String message) {
        return message.replace("\r", "\\r").replace("\n", "\\n");
    }
}
