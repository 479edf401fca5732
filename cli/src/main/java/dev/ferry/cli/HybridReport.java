package dev.ferry.cli;

import dev.ferry.moe.runtime.DeviceRuntime;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;

/**
 * The end-of-run lines about the device side: per phase where the experts ran and what was
 * uploaded from which memory at what rate, then the memory the run holds (device, pinned, RSS).
 */
final class HybridReport {

    private HybridReport() {
    }

    static void print(PrintStream err, DeviceRuntime runtime) {
        if (!runtime.hasDevice()) {
            return;
        }
        for (String line : runtime.stats().describe()) {
            err.println("ferry: " + line);
        }
        long device = runtime.device().map(d -> d.allocatedBytes()).orElse(0L);
        err.printf(Locale.ROOT, "ferry: memory: device %s allocated, host %s pinned for expert uploads, process RSS %s%n",
                mib(device), mib(runtime.pinnedBytes()), residentBytes().map(HybridReport::mib).orElse("unknown"));
    }

    /** VmRSS of this process from /proc/self/status, when there is one. */
    private static Optional<Long> residentBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Optional.of(Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024);
                }
            }
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }

    private static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024.0));
    }
}
