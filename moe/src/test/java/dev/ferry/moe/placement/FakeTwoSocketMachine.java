package dev.ferry.moe.placement;

import dev.ferry.hostmemory.HostAllocator;
import dev.ferry.hostmemory.ThreadPinner;
import dev.ferry.hostmemory.linux.SystemCalls;
import dev.ferry.hostmemory.numa.ProcessNuma;
import dev.ferry.hostmemory.topology.SysfsReader;
import dev.ferry.hostmemory.topology.Topology;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A sysfs tree of a two-socket machine with one core per socket: CPU 0 on node 0 and CPU 1 on
 * node 1, so its pools run on this machine's two real CPUs. Buffers are plain JVM memory (no
 * mbind onto a node this machine lacks); threads are pinned with the real calls where allowed.
 */
public final class FakeTwoSocketMachine {

    private FakeTwoSocketMachine() {
    }

    static HostContext create(Path root) {
        return create(root, SystemCalls.linux().map(ThreadPinner::of));
    }

    /** The same machine with {@code pinner} pinning its threads (a recording one in tests of who pins what). */
    public static HostContext create(Path root, Optional<ThreadPinner> pinner) {
        try {
            write(root, "sys/devices/system/cpu/online", "0-1");
            for (int cpu = 0; cpu < 2; cpu++) {
                String dir = "sys/devices/system/cpu/cpu" + cpu + "/topology/";
                write(root, dir + "core_id", "0");
                write(root, dir + "physical_package_id", Integer.toString(cpu));
                write(root, dir + "thread_siblings_list", Integer.toString(cpu));
                String node = "sys/devices/system/node/node" + cpu + "/";
                write(root, node + "cpulist", Integer.toString(cpu));
                write(root, node + "distance", cpu == 0 ? "10 21" : "21 10");
                write(root, node + "meminfo", "Node " + cpu + " MemTotal: 8388608 kB\nNode " + cpu + " MemFree: 8000000 kB\n");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        SysfsReader sysfs = SysfsReader.ofRoot(root);
        Topology topology = Topology.read(sysfs);
        return new HostContext(topology, new HostAllocator(topology, Optional.empty(), sysfs), ProcessNuma.unbound(topology, 0),
                pinner);
    }

    private static void write(Path root, String path, String text) throws IOException {
        Path p = root.resolve(path);
        Files.createDirectories(p.getParent());
        Files.writeString(p, text);
    }
}
