package dev.ferry.cuda.pcie;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** NUMA node count from sysfs (1 when sysfs has no node directory). */
final class SysfsNodes {

    private SysfsNodes() {
    }

    static int count() {
        Path nodes = Path.of("/sys/devices/system/node");
        if (!Files.isDirectory(nodes)) {
            return 1;
        }
        try (var list = Files.list(nodes)) {
            long n = list.filter(p -> p.getFileName().toString().matches("node\\d+")).count();
            return (int) Math.max(1, n);
        } catch (IOException e) {
            return 1;
        }
    }
}
