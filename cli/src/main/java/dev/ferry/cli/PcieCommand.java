package dev.ferry.cli;

import dev.ferry.cuda.DeviceChoice;
import dev.ferry.cuda.DeviceOptions;
import dev.ferry.cuda.DeviceUnavailableException;
import dev.ferry.cuda.pcie.NumaHostPlacement;
import dev.ferry.cuda.pcie.Pcie;
import dev.ferry.cuda.pcie.PcieOptions;
import dev.ferry.cuda.pcie.PcieReport;
import dev.ferry.cuda.sim.SimulatedLink;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code ferry pcie}: host-to-device and device-to-host copy bandwidth for pageable,
 * file-mapped, pinned and registered sources, per NUMA node, alignment and chunk size, as a
 * share of the GPU's PCIe link. Without a GPU it says so first and measures the host-side
 * staging copies; with {@code --device sim} every number is simulated and says so.
 */
@Command(name = "pcie", mixinStandardHelpOptions = true,
        description = "Measure host<->GPU copy bandwidth (pageable, file-mapped, pinned, registered; per NUMA node, "
                + "alignment and chunk size) against the PCIe link's theoretical rate.")
public final class PcieCommand implements Callable<Integer> {

    @Option(names = "--device", paramLabel = "auto|cuda|sim", defaultValue = "auto",
            description = "auto (GPU if present, else host staging copies only), cuda, or sim. Default: ${DEFAULT-VALUE}.")
    String device;

    @Option(names = "--sizes", paramLabel = "LIST",
            description = "Chunk sizes, comma-separated, in MiB unless suffixed K/M/G (default 1,4,16,64).")
    String sizes;

    @Option(names = "--reps", paramLabel = "N", description = "Repetitions per cell (default 5; median and min..max are reported).")
    Integer reps;

    @Option(names = "--quick", description = "Chunks of 1 and 16 MiB, 3 repetitions.")
    boolean quick;

    @Option(names = "--full", description = "Chunks of 1 MiB to 256 MiB.")
    boolean full;

    @Option(names = "--json", description = "Write the report as JSON.")
    boolean json;

    @Option(names = "--json-out", paramLabel = "FILE",
            description = "Also write the report as JSON to FILE (the table still goes to standard output).")
    Path jsonOut;

    @Option(names = "--file-dir", paramLabel = "DIR", description = "Directory for the file-mapped source (default: the temp dir).")
    Path fileDir;

    @Option(names = "--sim-pcie-gbps", paramLabel = "GB/s", description = "Simulated link rate for pinned sources (default 25).")
    Double simPinnedGbps;

    @Option(names = "--sim-pageable-gbps", paramLabel = "GB/s", description = "Simulated link rate for pageable sources (default 6).")
    Double simPageableGbps;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try {
            if (jsonOut != null && jsonOut.getParent() != null && !Files.isDirectory(jsonOut.getParent())) {
                throw new IllegalArgumentException("--json-out: the folder " + jsonOut.getParent() + " does not exist");
            }
            if (quick && full) {
                throw new IllegalArgumentException("--quick and --full exclude each other");
            }
            Path dir = fileDir != null ? fileDir : Path.of(System.getProperty("java.io.tmpdir"));
            if (!Files.isDirectory(dir)) {
                throw new IllegalArgumentException("--file-dir: " + dir + " is not a directory");
            }
            PcieOptions options = quick ? PcieOptions.quick(dir) : full ? PcieOptions.full(dir) : PcieOptions.defaults(dir);
            if (sizes != null) {
                options = options.withSizes(PcieOptions.parseSizes(sizes));
            }
            if (reps != null) {
                options = options.withReps(reps);
            }
            SimulatedLink link = SimulatedLink.pcie4x16();
            if (simPinnedGbps != null) {
                link = link.withPinnedGBps(simPinnedGbps);
            }
            if (simPageableGbps != null) {
                link = link.withPageableGBps(simPageableGbps);
            }
            PcieReport report = Pcie.measure(DeviceChoice.parse(device), DeviceOptions.defaults().withSimulatedLink(link),
                    NumaHostPlacement.system(), options);
            out.print(json ? report.toJson() : report.toMarkdown());
            out.flush();
            if (jsonOut != null) {
                Files.writeString(jsonOut, report.toJson());
            }
            return 0;
        } catch (IOException e) {
            err.println("ferry pcie: --json-out: cannot write " + jsonOut + ": " + e.getMessage());
            err.flush();
            return 1;
        } catch (IllegalArgumentException | DeviceUnavailableException | UncheckedIOException e) {
            err.println("ferry pcie: " + e.getMessage());
            err.flush();
            return e instanceof DeviceUnavailableException ? 2 : 1;
        }
    }
}
