package dev.ferry.cli;

import dev.ferry.moe.runtime.DeviceRuntime;
import java.io.PrintStream;

/** The end-of-run lines about the device side: plan, pinned cache, offload, uploads per phase. */
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
    }
}
