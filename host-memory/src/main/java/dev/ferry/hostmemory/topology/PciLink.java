package dev.ferry.hostmemory.topology;

import java.util.Locale;

/**
 * The PCI Express link of a device as sysfs reports it: current and maximum speed per lane in
 * GT/s and lane counts.
 */
public record PciLink(double speedGts, int width, double maxSpeedGts, int maxWidth) {

    /**
     * Theoretical one-direction payload bandwidth of the current link in bytes per second,
     * after line encoding (8b/10b up to 5 GT/s, 128b/130b from 8 GT/s, FLIT at 64 GT/s taken
     * as 242/256), before packet overheads.
     */
    public double theoreticalBytesPerSecond() {
        return bytesPerSecond(speedGts, width);
    }

    public double maxTheoreticalBytesPerSecond() {
        return bytesPerSecond(maxSpeedGts, maxWidth);
    }

    /** True when the link trained below what both ends support (a riser, a slot, power saving). */
    public boolean isDegraded() {
        return speedGts < maxSpeedGts || width < maxWidth;
    }

    private static double bytesPerSecond(double gts, int lanes) {
        double efficiency = gts <= 5.0 ? 8.0 / 10.0 : gts < 64.0 ? 128.0 / 130.0 : 242.0 / 256.0;
        return gts * 1e9 * efficiency * lanes / 8.0;
    }

    /** Generation number (1..6) of a speed, 0 when it matches none. */
    public static int generation(double gts) {
        double[] speeds = {2.5, 5, 8, 16, 32, 64};
        for (int i = 0; i < speeds.length; i++) {
            if (Math.abs(speeds[i] - gts) < 0.01) {
                return i + 1;
            }
        }
        return 0;
    }

    /** E.g. {@code PCIe 4.0 x16 (16.0 GT/s), 31.5 GB/s per direction}, with the maximum when the link is degraded. */
    public String describe() {
        String now = String.format(Locale.ROOT, "%s x%d (%.1f GT/s), %.1f GB/s per direction",
                genName(speedGts), width, speedGts, theoreticalBytesPerSecond() / 1e9);
        if (isDegraded()) {
            return now + String.format(Locale.ROOT, "; below its maximum %s x%d", genName(maxSpeedGts), maxWidth);
        }
        return now;
    }

    private static String genName(double gts) {
        int gen = generation(gts);
        return gen == 0 ? "PCIe" : "PCIe " + gen + ".0";
    }
}
