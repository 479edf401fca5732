package dev.ferry.cuda.sim;

import dev.ferry.cuda.CopyDirection;
import dev.ferry.cuda.HostMemoryKind;

/**
 * The modelled PCIe link of the simulated device: a copy takes {@code latency + bytes / rate},
 * where the rate depends on whether the host side is pageable or page-locked (pinned and
 * registered memory share the DMA rate). Device-to-device copies use {@code deviceGBps}.
 */
public record SimulatedLink(double pageableGBps, double pinnedGBps, double deviceGBps, double latencySeconds) {

    public SimulatedLink {
        if (!(pageableGBps > 0) || !(pinnedGBps > 0) || !(deviceGBps > 0) || !(latencySeconds >= 0)) {
            throw new IllegalArgumentException("simulated link needs positive rates and a non-negative latency: pageable "
                    + pageableGBps + " GB/s, pinned " + pinnedGBps + " GB/s, device " + deviceGBps + " GB/s, latency "
                    + latencySeconds + " s");
        }
    }

    /** A PCIe 4.0 x16 link as commonly measured: 6 GB/s pageable, 25 GB/s pinned, 10 us per copy. */
    public static SimulatedLink pcie4x16() {
        return new SimulatedLink(6, 25, 2000, 10e-6);
    }

    /** The same link with a different pinned rate ({@code --sim-pcie-gbps}). */
    public SimulatedLink withPinnedGBps(double gbps) {
        return new SimulatedLink(pageableGBps, gbps, deviceGBps, latencySeconds);
    }

    /** The same link with a different pageable rate. */
    public SimulatedLink withPageableGBps(double gbps) {
        return new SimulatedLink(gbps, pinnedGBps, deviceGBps, latencySeconds);
    }

    /** Modelled seconds of one copy. */
    public double seconds(CopyDirection direction, HostMemoryKind hostKind, long bytes) {
        double rate = switch (direction) {
            case DEVICE_TO_DEVICE -> deviceGBps;
            case HOST_TO_DEVICE, DEVICE_TO_HOST -> hostKind == HostMemoryKind.PAGEABLE ? pageableGBps : pinnedGBps;
        };
        return latencySeconds + bytes / (rate * 1e9);
    }

    public String describe() {
        return String.format(java.util.Locale.ROOT,
                "simulated link: %.1f GB/s pageable, %.1f GB/s pinned, %.0f us latency", pageableGBps, pinnedGBps,
                latencySeconds * 1e6);
    }
}
