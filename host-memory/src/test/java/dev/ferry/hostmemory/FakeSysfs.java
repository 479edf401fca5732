package dev.ferry.hostmemory;

import dev.ferry.hostmemory.topology.SysfsReader;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Fake sysfs/procfs trees of the machine shapes the tests need, held in memory with the paths of
 * the real {@code /} (e.g. {@code sys/devices/system/cpu/online}).
 */
public final class FakeSysfs implements SysfsReader {

    private final String name;
    private final TreeMap<String, String> files = new TreeMap<>();

    private FakeSysfs(String name) {
        this.name = name;
    }

    /** A checked-in tree under src/test/resources. */
    public static Path resourceRoot(String name) {
        URL url = FakeSysfs.class.getResource("/" + name);
        if (url == null) {
            throw new IllegalStateException("test resource /" + name + " missing");
        }
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    public static FakeSysfs named(String name) {
        return new FakeSysfs(name);
    }

    @Override
    public Optional<String> read(String path) {
        return Optional.ofNullable(files.get(path)).map(String::strip);
    }

    @Override
    public List<String> list(String path) {
        String prefix = path.endsWith("/") ? path : path + "/";
        TreeSet<String> names = new TreeSet<>();
        for (String key : files.tailMap(prefix, true).keySet()) {
            if (!key.startsWith(prefix)) {
                break;
            }
            String rest = key.substring(prefix.length());
            int slash = rest.indexOf('/');
            names.add(slash < 0 ? rest : rest.substring(0, slash));
        }
        return List.copyOf(names);
    }

    @Override
    public boolean exists(String path) {
        return files.containsKey(path) || !list(path).isEmpty();
    }

    @Override
    public String root() {
        return "fake:" + name;
    }

    public FakeSysfs file(String path, String content) {
        files.put(path, content + "\n");
        return this;
    }

    public FakeSysfs online(String list) {
        return file("sys/devices/system/cpu/online", list);
    }

    public FakeSysfs cpu(int id, int coreId, int packageId, String siblings) {
        String dir = "sys/devices/system/cpu/cpu" + id + "/topology/";
        file(dir + "core_id", Integer.toString(coreId));
        file(dir + "physical_package_id", Integer.toString(packageId));
        return file(dir + "thread_siblings_list", siblings);
    }

    public FakeSysfs node(int id, String cpulist, long memTotalKb, long memFreeKb, String distances) {
        String dir = "sys/devices/system/node/node" + id + "/";
        file(dir + "cpulist", cpulist);
        file(dir + "distance", distances);
        return file(dir + "meminfo", String.format("Node %d MemTotal:       %d kB%nNode %d MemFree:        %d kB%nNode %d MemUsed:        %d kB",
                id, memTotalKb, id, memFreeKb, id, memTotalKb - memFreeKb));
    }

    public FakeSysfs meminfo(long totalKb, long freeKb) {
        return file("proc/meminfo", String.format("MemTotal:       %d kB%nMemFree:        %d kB%nMemAvailable:   %d kB", totalKb, freeKb, freeKb));
    }

    public FakeSysfs pci(String busId, int node, String speed, int width, String maxSpeed, int maxWidth) {
        String dir = "sys/bus/pci/devices/" + busId + "/";
        file(dir + "numa_node", Integer.toString(node));
        file(dir + "current_link_speed", speed);
        file(dir + "current_link_width", Integer.toString(width));
        file(dir + "max_link_speed", maxSpeed);
        return file(dir + "max_link_width", Integer.toString(maxWidth));
    }

    /**
     * Two-socket Xeon: 28 cores per socket (56 cores), CPUs 0-55 are the first threads, 56-111
     * their hyperthread siblings (CPU c and c+56 share a core). Node = socket. GPU on node 0.
     */
    public static FakeSysfs xeon2Socket56Cores() {
        FakeSysfs fs = named("xeon-2s-56c").online("0-111").meminfo(2L * 196_000_000, 2L * 180_000_000);
        for (int c = 0; c < 112; c++) {
            int core = c % 56;
            int socket = core / 28;
            fs.cpu(c, core % 28, socket, core + "," + (core + 56));
        }
        fs.node(0, "0-27,56-83", 196_000_000, 180_000_000, "10 21");
        fs.node(1, "28-55,84-111", 196_000_000, 181_000_000, "21 10");
        fs.pci("0000:17:00.0", 0, "16.0 GT/s PCIe", 16, "16.0 GT/s PCIe", 16);
        return fs;
    }

    /**
     * Two-socket EPYC with NPS2: 32 cores per socket, 4 nodes of 16 cores, SMT siblings
     * interleaved (CPUs 2k and 2k+1 share a core). GPU on node 3 with a degraded link.
     */
    public static FakeSysfs epyc2SocketNps2() {
        FakeSysfs fs = named("epyc-2s-nps2").online("0-127").meminfo(4L * 96_000_000, 4L * 90_000_000);
        for (int c = 0; c < 128; c++) {
            int core = c / 2;
            int socket = core / 32;
            int first = core * 2;
            fs.cpu(c, core % 32, socket, first + "-" + (first + 1));
        }
        String[] rows = {"10 12 32 32", "12 10 32 32", "32 32 10 12", "32 32 12 10"};
        for (int n = 0; n < 4; n++) {
            fs.node(n, (n * 32) + "-" + (n * 32 + 31), 96_000_000, 90_000_000 - n, rows[n]);
        }
        fs.pci("0000:c1:00.0", 3, "16.0 GT/s PCIe", 16, "32.0 GT/s PCIe", 16);
        return fs;
    }

    /** Two nodes of 8 cores without SMT; CPU 15 is offline (no topology directory). */
    public static FakeSysfs noSmt2Nodes() {
        FakeSysfs fs = named("no-smt-2n").online("0-14").meminfo(64_000_000, 60_000_000);
        for (int c = 0; c < 15; c++) {
            fs.cpu(c, c % 8, c / 8, Integer.toString(c));
        }
        fs.node(0, "0-7", 32_000_000, 30_000_000, "10 20");
        fs.node(1, "8-15", 32_000_000, 30_000_000, "20 10");
        return fs;
    }

    /** A VM: 4 vCPUs, no /sys/devices/system/node, no thread_siblings_list; a device with numa_node -1. */
    public static FakeSysfs vmWithoutNuma() {
        FakeSysfs fs = named("vm").online("0-3").meminfo(16_000_000, 15_000_000);
        for (int c = 0; c < 4; c++) {
            fs.file("sys/devices/system/cpu/cpu" + c + "/topology/core_id", Integer.toString(c));
            fs.file("sys/devices/system/cpu/cpu" + c + "/topology/physical_package_id", "0");
        }
        fs.file("sys/bus/pci/devices/0000:00:05.0/numa_node", "-1");
        return fs;
    }
}
