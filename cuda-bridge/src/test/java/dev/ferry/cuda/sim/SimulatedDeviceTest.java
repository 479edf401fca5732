package dev.ferry.cuda.sim;

import dev.ferry.cuda.CopyDirection;
import dev.ferry.cuda.DeviceBuffer;
import dev.ferry.cuda.DeviceException;
import dev.ferry.cuda.Event;
import dev.ferry.cuda.HostMemoryKind;
import dev.ferry.cuda.KernelArg;
import dev.ferry.cuda.LaunchGrid;
import dev.ferry.cuda.PinnedHostBuffer;
import dev.ferry.cuda.Stream;
import dev.ferry.cuda.TransferStats;
import dev.ferry.cuda.kernels.KernelRegistry;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.OptionalInt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The simulated device's time model, accounting and limits. */
class SimulatedDeviceTest {

    private static final SimulatedLink LINK = new SimulatedLink(5, 20, 1000, 1e-5);

    @Test
    void copyTimeFollowsTheLinkModelPerSourceKind() {
        try (SimulatedDevice d = new SimulatedDevice(LINK, new KernelRegistry(), 1L << 30);
             Arena arena = Arena.ofConfined(); DeviceBuffer b = d.allocate(100_000_000)) {
            MemorySegment host = arena.allocate(100_000_000);
            d.copyToDevice(host, b, 0);
            try (PinnedHostBuffer pinned = d.allocatePinned(100_000_000)) {
                d.copyToDevice(pinned, 0, b, 0, 100_000_000);
            }
            TransferStats stats = d.transferStats();
            assertEquals(2, stats.recent().size());
            assertEquals(HostMemoryKind.PAGEABLE, stats.recent().get(0).hostKind());
            assertEquals(1e-5 + 0.1 / 5, stats.recent().get(0).seconds(), 1e-12);
            assertEquals(1e-5 + 0.1 / 20, stats.recent().get(1).seconds(), 1e-12);
            assertTrue(stats.recent().get(0).simulated());
            assertEquals(200_000_000, stats.totalBytes(CopyDirection.HOST_TO_DEVICE));
            assertTrue(stats.describe().get(0).contains("simulated"), stats.describe().get(0));
        }
    }

    @Test
    void eventsMeasureModelledTimeAndStreamsShareTheLink() {
        try (SimulatedDevice d = new SimulatedDevice(LINK, new KernelRegistry(), 1L << 30);
             DeviceBuffer b = d.allocate(40_000_000); PinnedHostBuffer p = d.allocatePinned(40_000_000);
             Stream s1 = d.createStream(); Stream s2 = d.createStream()) {
            Event start = s1.record();
            s1.copyToDeviceAsync(p, 0, b, 0, 20_000_000);
            s2.copyToDeviceAsync(p, 20_000_000, b, 20_000_000, 20_000_000);
            Event end2 = s2.record();
            double one = 1e-5 + 0.02 / 20;
            assertEquals(2 * one, end2.secondsSince(start), 1e-12, "the second copy waits for the shared link");
            s1.waitFor(end2);
            assertEquals(2 * one, s1.record().secondsSince(start), 1e-12);
        }
    }

    @Test
    void memoryIsLimitedAndAccounted() {
        try (SimulatedDevice d = new SimulatedDevice(LINK, new KernelRegistry(), 1 << 20)) {
            DeviceBuffer a = d.allocate(600_000);
            assertEquals(1_048_576 - 600_000, d.freeBytes());
            DeviceException e = assertThrows(DeviceException.class, () -> d.allocate(600_000));
            assertTrue(e.getMessage().contains("out of device memory"), e.getMessage());
            a.close();
            d.allocate(600_000).close();
            assertEquals(0, d.allocatedBytes());
        }
    }

    @Test
    void missingTwinIsAClearError() {
        try (SimulatedDevice d = new SimulatedDevice(LINK, new KernelRegistry(), 1 << 20)) {
            DeviceException e = assertThrows(DeviceException.class,
                    () -> d.defaultStream().launch("ferry_nope", LaunchGrid.linear(1, 1), KernelArg.i32(1)));
            assertTrue(e.getMessage().contains("ferry_nope"), e.getMessage());
        }
    }

    @Test
    void closingTheDeviceFreesWhatItOwns() {
        SimulatedDevice d = new SimulatedDevice(LINK, new KernelRegistry(), 1 << 20);
        DeviceBuffer b = d.allocate(1000);
        PinnedHostBuffer p = d.allocatePinned(1000);
        try (Arena arena = Arena.ofConfined()) {
            PinnedHostBuffer r = d.register(arena.allocate(4096, 4096), OptionalInt.of(1));
            d.close();
            assertTrue(!b.isOpen() && !p.isOpen() && !r.isOpen());
        }
        assertThrows(IllegalStateException.class, () -> d.allocate(1));
    }

    @Test
    void linkRejectsNonsense() {
        assertThrows(IllegalArgumentException.class, () -> new SimulatedLink(0, 1, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> new SimulatedLink(1, 1, 1, -1));
    }
}
