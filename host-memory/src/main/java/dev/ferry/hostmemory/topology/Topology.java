package dev.ferry.hostmemory.topology;

import dev.ferry.hostmemory.ByteSizes;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The machine as the kernel describes it in sysfs: online CPUs with their physical core and
 * socket, NUMA nodes with their CPUs, memory and distances, and where PCI devices are attached.
 * Immutable; read once with {@link #read(SysfsReader)}.
 */
public final class Topology {

    private static final String CPU_DIR = "sys/devices/system/cpu";
    private static final String NODE_DIR = "sys/devices/system/node";
    private static final String PCI_DIR = "sys/bus/pci/devices";
    private static final Pattern CPU_NAME = Pattern.compile("cpu(\\d+)");
    private static final Pattern NODE_NAME = Pattern.compile("node(\\d+)");
    private static final Pattern MEMINFO_LINE = Pattern.compile("(?:Node\\s+\\d+\\s+)?(\\w+):\\s+(\\d+)\\s*kB");
    private static final Pattern LEADING_NUMBER = Pattern.compile("^\\s*(\\d+(?:\\.\\d+)?)");

    private final SysfsReader sysfs;
    private final List<NumaNode> nodes;
    private final Map<Integer, Cpu> cpus;
    private final boolean numaFromSysfs;
    private final List<String> notes;

    private Topology(SysfsReader sysfs, List<NumaNode> nodes, Map<Integer, Cpu> cpus, boolean numaFromSysfs, List<String> notes) {
        this.sysfs = sysfs;
        this.nodes = List.copyOf(nodes);
        this.cpus = cpus;
        this.numaFromSysfs = numaFromSysfs;
        this.notes = List.copyOf(notes);
    }

    /** The running machine. */
    public static Topology system() {
        return read(SysfsReader.system());
    }

    /** Reads a (real or fake) tree. Missing NUMA information gives one implicit node 0 holding every CPU. */
    public static Topology read(SysfsReader sysfs) {
        List<String> notes = new ArrayList<>();
        CpuSet online = readOnline(sysfs);
        if (online.isEmpty()) {
            throw new IllegalStateException("no online CPUs found under " + sysfs.root() + "/" + CPU_DIR);
        }

        Map<Integer, CpuSet> nodeCpus = new TreeMap<>();
        for (String name : sysfs.list(NODE_DIR)) {
            Matcher m = NODE_NAME.matcher(name);
            if (m.matches()) {
                int id = Integer.parseInt(m.group(1));
                CpuSet list = sysfs.read(NODE_DIR + "/" + name + "/cpulist").map(CpuSet::parseList).orElse(CpuSet.empty());
                nodeCpus.put(id, list.and(online));
            }
        }
        boolean numaFromSysfs = !nodeCpus.isEmpty();
        if (!numaFromSysfs) {
            nodeCpus.put(0, online);
            notes.add("no NUMA information in " + NODE_DIR + ": one implicit node 0 with all " + online.size() + " CPUs");
        }
        CpuSet covered = nodeCpus.values().stream().reduce(CpuSet.empty(), CpuSet::or);
        CpuSet orphans = online.without(covered);
        if (!orphans.isEmpty()) {
            int first = nodeCpus.keySet().iterator().next();
            nodeCpus.put(first, nodeCpus.get(first).or(orphans));
            notes.add("CPUs " + orphans.toListString() + " belong to no node in sysfs: counted on node " + first);
        }

        Map<Integer, Integer> nodeOfCpu = new HashMap<>();
        nodeCpus.forEach((node, set) -> set.stream().forEach(c -> nodeOfCpu.put(c, node)));

        Map<Integer, Cpu> cpus = readCpus(sysfs, online, nodeOfCpu, notes);

        Map<String, Long> procMeminfo = readMeminfo(sysfs, "proc/meminfo");
        long procTotal = procMeminfo.getOrDefault("MemTotal", -1L);
        long procFree = procMeminfo.getOrDefault("MemFree", -1L);
        List<NumaNode> nodes = new ArrayList<>();
        for (Map.Entry<Integer, CpuSet> e : nodeCpus.entrySet()) {
            int id = e.getKey();
            String dir = NODE_DIR + "/node" + id;
            Map<String, Long> mem = numaFromSysfs ? readMeminfo(sysfs, dir + "/meminfo") : Map.of();
            long total = mem.getOrDefault("MemTotal", -1L);
            long free = mem.getOrDefault("MemFree", -1L);
            List<Integer> distances = numaFromSysfs ? readDistances(sysfs, dir + "/distance") : List.of(10);
            if (nodeCpus.size() == 1 && procTotal > 0) {
                // With one node all memory is local; node meminfo can undercount it in VMs with hot-added memory.
                if (total > 0 && Math.abs(total - procTotal) > procTotal / 10) {
                    notes.add("node " + id + " meminfo says " + ByteSizes.format(total) + ", /proc/meminfo "
                            + ByteSizes.format(procTotal) + ": using /proc/meminfo for the only node");
                }
                total = procTotal;
                free = procFree;
            }
            nodes.add(new NumaNode(id, e.getValue(), total, free, distances));
        }
        for (NumaNode n : nodes) {
            if (!n.distances().isEmpty() && n.distances().size() != nodes.size()) {
                notes.add("node " + n.id() + " lists " + n.distances().size() + " distances for " + nodes.size() + " nodes: distances ignored");
            }
        }
        return new Topology(sysfs, nodes, cpus, numaFromSysfs, notes);
    }

    private static CpuSet readOnline(SysfsReader sysfs) {
        Optional<String> online = sysfs.read(CPU_DIR + "/online");
        if (online.isPresent()) {
            return CpuSet.parseList(online.get());
        }
        List<Integer> ids = new ArrayList<>();
        for (String name : sysfs.list(CPU_DIR)) {
            Matcher m = CPU_NAME.matcher(name);
            if (m.matches()) {
                ids.add(Integer.parseInt(m.group(1)));
            }
        }
        return CpuSet.of(ids);
    }

    private static Map<Integer, Cpu> readCpus(SysfsReader sysfs, CpuSet online, Map<Integer, Integer> nodeOfCpu, List<String> notes) {
        Map<Integer, Integer> coreIds = new HashMap<>();
        Map<Integer, Integer> packageIds = new HashMap<>();
        Map<Integer, CpuSet> siblingLists = new HashMap<>();
        for (int cpu : online.toList()) {
            String dir = CPU_DIR + "/cpu" + cpu + "/topology/";
            coreIds.put(cpu, sysfs.read(dir + "core_id").map(Topology::parseIntOrMinusOne).orElse(-1));
            packageIds.put(cpu, sysfs.read(dir + "physical_package_id").map(Topology::parseIntOrMinusOne).orElse(-1));
            sysfs.read(dir + "thread_siblings_list").map(CpuSet::parseList)
                    .ifPresent(s -> siblingLists.put(cpu, s.and(online)));
        }
        // Without thread_siblings_list, CPUs sharing (package, core_id) are one core; without either, each CPU is its own core.
        Map<List<Integer>, CpuSet> byCoreKey = new HashMap<>();
        for (int cpu : online.toList()) {
            if (!siblingLists.containsKey(cpu) && coreIds.get(cpu) >= 0) {
                byCoreKey.merge(List.of(packageIds.get(cpu), coreIds.get(cpu)), CpuSet.of(cpu), CpuSet::or);
            }
        }
        boolean guessed = false;
        Map<Integer, Cpu> cpus = new LinkedHashMap<>();
        for (int cpu : online.toList()) {
            CpuSet siblings = siblingLists.get(cpu);
            if (siblings == null || !siblings.contains(cpu)) {
                guessed = true;
                siblings = coreIds.get(cpu) >= 0 ? byCoreKey.get(List.of(packageIds.get(cpu), coreIds.get(cpu))) : CpuSet.of(cpu);
                if (siblings == null) {
                    siblings = CpuSet.of(cpu);
                }
            }
            cpus.put(cpu, new Cpu(cpu, coreIds.get(cpu), packageIds.get(cpu), nodeOfCpu.get(cpu), siblings));
        }
        if (guessed) {
            notes.add("thread_siblings_list missing for some CPUs: cores inferred from core_id/physical_package_id (or one CPU per core)");
        }
        return Collections.unmodifiableMap(cpus);
    }

    private static int parseIntOrMinusOne(String s) {
        try {
            return Integer.parseInt(s.strip());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static Map<String, Long> readMeminfo(SysfsReader sysfs, String path) {
        Map<String, Long> out = new HashMap<>();
        sysfs.read(path).ifPresent(text -> text.lines().forEach(line -> {
            Matcher m = MEMINFO_LINE.matcher(line.strip());
            if (m.matches()) {
                out.put(m.group(1), Long.parseLong(m.group(2)) * 1024L);
            }
        }));
        return out;
    }

    private static List<Integer> readDistances(SysfsReader sysfs, String path) {
        Optional<String> text = sysfs.read(path);
        if (text.isEmpty() || text.get().isBlank()) {
            return List.of();
        }
        List<Integer> out = new ArrayList<>();
        for (String t : text.get().strip().split("\\s+")) {
            int v = parseIntOrMinusOne(t);
            if (v < 0) {
                return List.of();
            }
            out.add(v);
        }
        return out;
    }

    /** NUMA nodes in ascending id order (memory-only nodes included). */
    public List<NumaNode> nodes() {
        return nodes;
    }

    /** Ids of the nodes that have online CPUs. */
    public List<Integer> nodesWithCpus() {
        return nodes.stream().filter(NumaNode::hasCpus).map(NumaNode::id).toList();
    }

    public NumaNode node(int id) {
        for (NumaNode n : nodes) {
            if (n.id() == id) {
                return n;
            }
        }
        throw new IllegalArgumentException("no NUMA node " + id + " (nodes: " + nodeIds() + ")");
    }

    public boolean hasNode(int id) {
        return nodes.stream().anyMatch(n -> n.id() == id);
    }

    public List<Integer> nodeIds() {
        return nodes.stream().map(NumaNode::id).toList();
    }

    /** True when sysfs described the nodes; false for the implicit single node of a machine without NUMA information. */
    public boolean numaFromSysfs() {
        return numaFromSysfs;
    }

    /** Online CPUs, ascending. */
    public Map<Integer, Cpu> cpus() {
        return cpus;
    }

    public Cpu cpu(int id) {
        Cpu c = cpus.get(id);
        if (c == null) {
            throw new IllegalArgumentException("CPU " + id + " is not online (online: " + onlineCpus().toListString() + ")");
        }
        return c;
    }

    public CpuSet onlineCpus() {
        return CpuSet.of(cpus.keySet());
    }

    public int nodeOfCpu(int cpu) {
        return cpu(cpu).node();
    }

    /** One CPU per physical core (the lowest-numbered hardware thread of each). */
    public CpuSet physicalCores() {
        return CpuSet.of(cpus.values().stream().filter(Cpu::isPrimaryThread).map(Cpu::id).toList());
    }

    /** One CPU per physical core of {@code node}. */
    public CpuSet physicalCores(int node) {
        return physicalCores().and(node(node).cpus());
    }

    /** The CPUs that are second (or later) hardware threads of their core. */
    public CpuSet smtSiblings() {
        return onlineCpus().without(physicalCores());
    }

    /** Largest number of hardware threads on one core (1 without SMT). */
    public int threadsPerCore() {
        return cpus.values().stream().mapToInt(c -> c.siblings().size()).max().orElse(1);
    }

    public boolean hasSmt() {
        return threadsPerCore() > 1;
    }

    public int packageCount() {
        return (int) Math.max(1, cpus.values().stream().mapToInt(Cpu::packageId).filter(p -> p >= 0).distinct().count());
    }

    /** SLIT distance from node {@code from} to node {@code to}; -1 when sysfs gave none. */
    public int distance(int from, int to) {
        List<Integer> row = node(from).distances();
        int index = nodeIds().indexOf(to);
        if (index < 0) {
            throw new IllegalArgumentException("no NUMA node " + to);
        }
        return row.size() == nodes.size() ? row.get(index) : -1;
    }

    /** Lines saying where the reading departed from the plain path (missing files, implicit node, corrections). */
    public List<String> notes() {
        return notes;
    }

    /** The PCI device with this bus id (any of the common spellings), or empty when sysfs has no such device. */
    public Optional<PciDevice> pciDevice(String busId) {
        String id = PciDevice.normalizeBusId(busId);
        String dir = PCI_DIR + "/" + id;
        if (!sysfs.exists(dir)) {
            return Optional.empty();
        }
        int node = sysfs.read(dir + "/numa_node").map(Topology::parseIntOrMinusOne).orElse(-1);
        OptionalInt numaNode = node >= 0 ? OptionalInt.of(node) : OptionalInt.empty();
        Optional<PciLink> link = Optional.empty();
        Optional<Double> speed = sysfs.read(dir + "/current_link_speed").flatMap(Topology::leadingNumber);
        Optional<Double> width = sysfs.read(dir + "/current_link_width").flatMap(Topology::leadingNumber);
        if (speed.isPresent() && width.isPresent()) {
            double maxSpeed = sysfs.read(dir + "/max_link_speed").flatMap(Topology::leadingNumber).orElse(speed.get());
            double maxWidth = sysfs.read(dir + "/max_link_width").flatMap(Topology::leadingNumber).orElse(width.get());
            link = Optional.of(new PciLink(speed.get(), width.get().intValue(), maxSpeed, (int) maxWidth));
        }
        return Optional.of(new PciDevice(id, numaNode, link));
    }

    private static Optional<Double> leadingNumber(String text) {
        Matcher m = LEADING_NUMBER.matcher(text);
        return m.find() ? Optional.of(Double.parseDouble(m.group(1))) : Optional.empty();
    }

    /** Human summary for {@code ferry inspect --numa} and {@code run -v}. */
    public String describe() {
        return describe(Optional.empty());
    }

    /** Human summary plus where the PCI device {@code pciBusId} (the GPU) sits, when given. */
    public String describe(Optional<String> pciBusId) {
        StringBuilder sb = new StringBuilder();
        CpuSet cores = physicalCores();
        sb.append(String.format(Locale.ROOT, "CPU: %d online CPUs, %d physical cores in %d package%s, %s%n",
                cpus.size(), cores.size(), packageCount(), packageCount() == 1 ? "" : "s",
                hasSmt() ? "SMT " + threadsPerCore() + " threads/core (siblings " + smtSiblings().toListString() + ")" : "no SMT"));
        sb.append(String.format(Locale.ROOT, "NUMA: %d node%s%s%n", nodes.size(), nodes.size() == 1 ? "" : "s",
                numaFromSysfs ? "" : " (implicit: no NUMA information)"));
        for (NumaNode n : nodes) {
            CpuSet nodeCores = cores.and(n.cpus());
            sb.append(String.format(Locale.ROOT, "  node %d: CPUs %s (%d cores%s), memory %s%s%n",
                    n.id(), n.cpus().isEmpty() ? "none" : n.cpus().toListString(), nodeCores.size(),
                    n.cpus().size() > nodeCores.size() ? " + " + (n.cpus().size() - nodeCores.size()) + " SMT siblings" : "",
                    n.memTotalBytes() >= 0 ? ByteSizes.format(n.memTotalBytes()) : "unknown",
                    n.memFreeBytes() >= 0 ? " (" + ByteSizes.format(n.memFreeBytes()) + " free)" : ""));
        }
        if (nodes.size() > 1 && nodes.stream().allMatch(n -> n.distances().size() == nodes.size())) {
            sb.append("  distances:");
            for (NumaNode n : nodes) {
                sb.append(" [").append(String.join(" ", n.distances().stream().map(String::valueOf).toList())).append(']');
            }
            sb.append(System.lineSeparator());
        }
        pciBusId.ifPresent(bus -> sb.append(describePci(bus)).append(System.lineSeparator()));
        for (String note : notes) {
            sb.append("  note: ").append(note).append(System.lineSeparator());
        }
        return sb.toString();
    }

    private String describePci(String busId) {
        Optional<PciDevice> dev = pciDevice(busId);
        if (dev.isEmpty()) {
            return "PCI " + busId + ": not found in " + PCI_DIR;
        }
        PciDevice d = dev.get();
        String where = d.numaNode().isPresent() ? "on node " + d.numaNode().getAsInt()
                : nodes.size() == 1 ? "node unknown (-1), the only node is " + nodes.get(0).id() : "node unknown (kernel reports -1)";
        return "PCI " + d.busId() + ": " + where + d.link().map(l -> ", link " + l.describe()).orElse(", link speed not reported");
    }

    /** Where the PCI device is attached: its node, or the only node when there is one, else empty. */
    public OptionalInt nodeOfPciDevice(String busId) {
        Optional<PciDevice> dev = pciDevice(busId);
        if (dev.isPresent() && dev.get().numaNode().isPresent()) {
            return dev.get().numaNode();
        }
        return nodes.size() == 1 ? OptionalInt.of(nodes.get(0).id()) : OptionalInt.empty();
    }
}
