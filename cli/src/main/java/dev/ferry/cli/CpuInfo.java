package dev.ferry.cli;

import dev.ferry.moe.ops.VectorOps;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * What a benchmark ran on, as llama-bench's {@code cpu_info}: the processor's model name (from
 * {@code /proc/cpuinfo} where it exists, else the JVM's architecture), the logical CPUs the JVM
 * sees, and the vector width the kernels use.
 */
record CpuInfo(String model, int logicalCpus, int vectorBits) {

    static CpuInfo current() {
        return new CpuInfo(modelName(Path.of("/proc/cpuinfo")), Runtime.getRuntime().availableProcessors(),
                VectorOps.vectorBits());
    }

    /** The first {@code model name} of a cpuinfo file, or {@code os.arch} when there is none. */
    static String modelName(Path cpuinfo) {
        if (Files.isReadable(cpuinfo)) {
            try (Stream<String> lines = Files.lines(cpuinfo)) {
                var model = lines.filter(l -> l.startsWith("model name")).findFirst()
                        .map(l -> l.substring(l.indexOf(':') + 1).trim().replaceAll("\\s+", " "));
                if (model.isPresent() && !model.get().isEmpty()) {
                    return model.get();
                }
            } catch (IOException | UncheckedIOException e) {
                // an unreadable cpuinfo leaves the architecture as the description
            }
        }
        return System.getProperty("os.arch");
    }

    String describe() {
        return model + ", " + logicalCpus + " logical CPUs, " + vectorBits + "-bit vectors";
    }
}
