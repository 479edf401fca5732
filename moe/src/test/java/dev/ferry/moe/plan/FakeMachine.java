package dev.ferry.moe.plan;

import dev.ferry.hostmemory.topology.SysfsReader;
import dev.ferry.hostmemory.topology.Topology;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A sysfs tree of a machine with {@code nodes} NUMA nodes of one CPU and {@code memKib} KiB each. */
final class FakeMachine {

    private FakeMachine() {
    }

    static Topology topology(Path root, int nodes, long memKib) {
        try {
            write(root, "sys/devices/system/cpu/online", nodes == 1 ? "0" : "0-" + (nodes - 1));
            for (int cpu = 0; cpu < nodes; cpu++) {
                String dir = "sys/devices/system/cpu/cpu" + cpu + "/topology/";
                write(root, dir + "core_id", "0");
                write(root, dir + "physical_package_id", Integer.toString(cpu));
                write(root, dir + "thread_siblings_list", Integer.toString(cpu));
                String node = "sys/devices/system/node/node" + cpu + "/";
                write(root, node + "cpulist", Integer.toString(cpu));
                StringBuilder distance = new StringBuilder();
                for (int other = 0; other < nodes; other++) {
                    distance.append(other == 0 ? "" : " ").append(other == cpu ? 10 : 21);
                }
                write(root, node + "distance", distance.toString());
                write(root, node + "meminfo", "Node " + cpu + " MemTotal: " + memKib + " kB\nNode " + cpu + " MemFree: " + memKib + " kB\n");
            }
            write(root, "proc/meminfo", "MemTotal: " + memKib * nodes + " kB\nMemFree: " + memKib * nodes + " kB\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Topology.read(SysfsReader.ofRoot(root));
    }

    private static void write(Path root, String path, String text) throws IOException {
        Path p = root.resolve(path);
        Files.createDirectories(p.getParent());
        Files.writeString(p, text);
    }
}
