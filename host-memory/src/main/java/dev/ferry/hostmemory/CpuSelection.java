package dev.ferry.hostmemory;

import dev.ferry.hostmemory.topology.CpuSet;
import dev.ferry.hostmemory.topology.Topology;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The user's choice of worker CPUs, as llama.cpp spells it: {@code -t N} (0 = one per physical
 * core), {@code --cpu-use-hyperthreading}, {@code --cpu-mask HEX} and {@code --cpu-range lo-hi}
 * (mask and range add up, as in llama.cpp). {@link #select} turns it into a {@link CpuAssignment}
 * split evenly over the NUMA nodes in use, physical cores first.
 */
public record CpuSelection(int threads, boolean useHyperthreading, Optional<CpuSet> cpuMask, Optional<CpuSet> cpuRange) {

    public CpuSelection {
        if (threads < 0) {
            throw new IllegalArgumentException("-t/--threads must be >= 0 (0 = one per physical core), got " + threads);
        }
    }

    /** One worker per physical core of the nodes in use. */
    public static CpuSelection defaults() {
        return new CpuSelection(0, false, Optional.empty(), Optional.empty());
    }

    public static CpuSelection threads(int threads) {
        return new CpuSelection(threads, false, Optional.empty(), Optional.empty());
    }

    /** From the flag values; {@code null} or blank mask/range means not given. Errors name the flag. */
    public static CpuSelection parse(int threads, boolean useHyperthreading, String cpuMask, String cpuRange) {
        Optional<CpuSet> mask = Optional.empty();
        if (cpuMask != null && !cpuMask.isBlank()) {
            try {
                mask = Optional.of(CpuSet.parseMask(cpuMask));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--cpu-mask: " + e.getMessage(), e);
            }
        }
        Optional<CpuSet> range = Optional.empty();
        if (cpuRange != null && !cpuRange.isBlank()) {
            range = Optional.of(parseRange(cpuRange));
        }
        return new CpuSelection(threads, useHyperthreading, mask, range);
    }

    /** Parses {@code lo-hi} (both included) for {@code --cpu-range}. */
    public static CpuSet parseRange(String text) {
        String[] parts = text.strip().split("-", -1);
        if (parts.length != 2) {
            throw new IllegalArgumentException("--cpu-range: expected lo-hi, got '" + text + "'");
        }
        try {
            int lo = Integer.parseInt(parts[0].strip());
            int hi = Integer.parseInt(parts[1].strip());
            if (lo < 0 || hi < lo) {
                throw new IllegalArgumentException("--cpu-range: need 0 <= lo <= hi, got '" + text + "'");
            }
            return CpuSet.range(lo, hi);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--cpu-range: expected lo-hi with decimal numbers, got '" + text + "'");
        }
    }

    /**
     * Chooses the worker CPUs.
     *
     * @param nodes the NUMA nodes in use, in order
     * @param allowed the CPUs this process may run on (its affinity); intersected with the online CPUs
     */
    public CpuAssignment select(Topology topology, List<Integer> nodes, CpuSet allowed) {
        if (nodes.isEmpty()) {
            throw new IllegalArgumentException("no NUMA nodes to run workers on");
        }
        List<String> notes = new ArrayList<>();
        CpuSet usable = allowed.and(topology.onlineCpus());
        if (usable.isEmpty()) {
            throw new IllegalArgumentException("none of the allowed CPUs " + allowed.toListString() + " is online");
        }
        if (cpuMask.isPresent() || cpuRange.isPresent()) {
            CpuSet asked = cpuMask.orElse(CpuSet.empty()).or(cpuRange.orElse(CpuSet.empty()));
            CpuSet chosen = usable.and(asked);
            if (chosen.isEmpty()) {
                throw new IllegalArgumentException("--cpu-mask/--cpu-range select CPUs " + asked.toListString()
                        + ", none of which is online and allowed (" + usable.toListString() + ")");
            }
            CpuSet dropped = asked.without(usable);
            if (!dropped.isEmpty()) {
                notes.add("CPUs " + dropped.toListString() + " from --cpu-mask/--cpu-range are offline or outside the process affinity: ignored");
            }
            usable = chosen;
        }

        Map<Integer, List<Integer>> candidates = new LinkedHashMap<>();
        int physicalTotal = 0;
        for (int node : nodes) {
            CpuSet onNode = topology.node(node).cpus().and(usable);
            List<Integer> primaries = new ArrayList<>();
            List<Integer> siblings = new ArrayList<>();
            CpuSet coveredCores = CpuSet.empty();
            for (int cpu : onNode.toList()) {
                CpuSet core = topology.cpu(cpu).siblings();
                if (core.and(coveredCores).isEmpty()) {
                    primaries.add(cpu);
                    coveredCores = coveredCores.or(core);
                } else {
                    siblings.add(cpu);
                }
            }
            physicalTotal += primaries.size();
            List<Integer> order = new ArrayList<>(primaries);
            if (useHyperthreading) {
                order.addAll(siblings);
            }
            if (order.isEmpty()) {
                notes.add("node " + node + " has no selected CPUs: no workers there");
            } else {
                candidates.put(node, order);
            }
        }
        if (candidates.isEmpty()) {
            throw new IllegalArgumentException("no selected CPU lies on NUMA nodes " + nodes);
        }
        int available = candidates.values().stream().mapToInt(List::size).sum();
        int wanted = threads == 0 ? available : threads;
        if (wanted > available) {
            notes.add("-t " + threads + " asks for more than the " + available + (useHyperthreading ? " selected CPUs" : " physical cores")
                    + " of nodes " + List.copyOf(candidates.keySet()) + ": using " + available
                    + (useHyperthreading || physicalTotal == usable.size() ? "" : " (add --cpu-use-hyperthreading to use SMT siblings)"));
            wanted = available;
        }
        Map<Integer, Integer> shares = evenShares(candidates, wanted);
        Map<Integer, List<Integer>> result = new TreeMap<>();
        shares.forEach((node, share) -> {
            if (share > 0) {
                result.put(node, candidates.get(node).subList(0, share));
            }
        });
        return new CpuAssignment(result, notes);
    }

    /** Splits {@code total} over the nodes as evenly as their capacities allow, extra ones to the first nodes. */
    private static Map<Integer, Integer> evenShares(Map<Integer, List<Integer>> candidates, int total) {
        Map<Integer, Integer> shares = new LinkedHashMap<>();
        candidates.keySet().forEach(n -> shares.put(n, 0));
        int left = total;
        while (left > 0) {
            List<Integer> open = candidates.keySet().stream().filter(n -> shares.get(n) < candidates.get(n).size()).toList();
            int each = Math.max(1, left / open.size());
            for (int node : open) {
                if (left == 0) {
                    break;
                }
                int give = Math.min(Math.min(each, left), candidates.get(node).size() - shares.get(node));
                shares.merge(node, give, Integer::sum);
                left -= give;
            }
        }
        return shares;
    }
}
