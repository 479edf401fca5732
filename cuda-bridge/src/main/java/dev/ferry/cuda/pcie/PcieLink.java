package dev.ferry.cuda.pcie;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.stream.Stream;

/**
 * A PCI device's PCIe link as sysfs reports it (current and maximum speed and width) and the
 * theoretical payload rate per direction that follows from it.
 */
public record PcieLink(String busId, double currentGts, int currentWidth, double maxGts, int maxWidth,
                       OptionalInt numaNode) {

    /** The standard sysfs directory of PCI devices. */
    public static final Path SYSFS_PCI = Path.of("/sys/bus/pci/devices");

    /** PCIe generation of a transfer rate in GT/s (2.5 -> 1, 8 -> 3, 16 -> 4, 32 -> 5, 64 -> 6). */
    public static int generation(double gts) {
        if (gts >= 60) {
            return 6;
        }
        if (gts >= 30) {
            return 5;
        }
        if (gts >= 15) {
            return 4;
        }
        if (gts >= 7.5) {
            return 3;
        }
        return gts >= 4.5 ? 2 : 1;
    }

    /**
     * Payload GB/s per direction of one lane: 8b/10b encoding for Gen1/2, 128b/130b for Gen3-5,
     * FLIT mode (242 of 256 bytes) for Gen6.
     */
    public static double laneGBps(double gts) {
        return switch (generation(gts)) {
            case 1, 2 -> gts * 0.8 / 8;
            case 6 -> gts * 242.0 / 256 / 8;
            default -> gts * 128.0 / 130 / 8;
        };
    }

    public int currentGeneration() {
        return generation(currentGts);
    }

    public int maxGeneration() {
        return generation(maxGts);
    }

    /** Theoretical GB/s per direction of the link as it runs now. */
    public double theoreticalGBps() {
        return laneGBps(currentGts) * currentWidth;
    }

    /** e.g. "PCIe Gen4 x16 (16.0 GT/s; max Gen4 x16), 31.5 GB/s per direction". */
    public String describe() {
        return String.format(Locale.ROOT, "PCIe Gen%d x%d (%.1f GT/s; max Gen%d x%d) at %s, %.2f GB/s per direction in theory",
                currentGeneration(), currentWidth, currentGts, maxGeneration(), maxWidth, busId, theoreticalGBps())
                + (numaNode.isPresent() ? ", attached to NUMA node " + numaNode.getAsInt() : "")
                + (currentGeneration() < maxGeneration() || currentWidth < maxWidth
                ? " (running below its maximum: idle GPUs drop the link speed; it rises under load)" : "");
    }

    /** Reads the link of {@code busId} (e.g. {@code 0000:1b:00.0}) under {@code pciRoot}. */
    public static Optional<PcieLink> read(Path pciRoot, String busId) {
        Path dir = pciRoot.resolve(busId.toLowerCase(Locale.ROOT));
        try {
            double speed = parseSpeed(Files.readString(dir.resolve("current_link_speed")));
            int width = Integer.parseInt(Files.readString(dir.resolve("current_link_width")).trim());
            double maxSpeed = parseSpeed(Files.readString(dir.resolve("max_link_speed")));
            int maxWidth = Integer.parseInt(Files.readString(dir.resolve("max_link_width")).trim());
            OptionalInt node = OptionalInt.empty();
            Path numa = dir.resolve("numa_node");
            if (Files.isReadable(numa)) {
                int n = Integer.parseInt(Files.readString(numa).trim());
                node = n >= 0 ? OptionalInt.of(n) : OptionalInt.empty();
            }
            return Optional.of(new PcieLink(busId.toLowerCase(Locale.ROOT), speed, width, maxSpeed, maxWidth, node));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** The first NVIDIA display/3D controller under {@code pciRoot}, for when the driver cannot tell us. */
    public static Optional<PcieLink> firstNvidiaGpu(Path pciRoot) {
        if (!Files.isDirectory(pciRoot)) {
            return Optional.empty();
        }
        try (Stream<Path> devices = Files.list(pciRoot)) {
            return devices.sorted().filter(PcieLink::isNvidiaGpu)
                    .map(p -> read(pciRoot, p.getFileName().toString()))
                    .flatMap(Optional::stream).findFirst();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static boolean isNvidiaGpu(Path dir) {
        try {
            return Files.readString(dir.resolve("vendor")).trim().equalsIgnoreCase("0x10de")
                    && Files.readString(dir.resolve("class")).trim().startsWith("0x03");
        } catch (IOException e) {
            return false;
        }
    }

    /** Parses sysfs speeds like "16.0 GT/s PCIe" or "8 GT/s". */
    static double parseSpeed(String text) {
        String t = text.trim();
        int end = 0;
        while (end < t.length() && (Character.isDigit(t.charAt(end)) || t.charAt(end) == '.')) {
            end++;
        }
        if (end == 0) {
            throw new NumberFormatException("not a PCIe link speed: '" + t + "'");
        }
        return Double.parseDouble(t.substring(0, end));
    }
}
