package dev.ferry.cuda.pcie;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalInt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** PCIe link parsing from a fake sysfs tree, theoretical rates and alignment offsets. */
class PcieLinkTest {

    @TempDir
    Path sysfs;

    private void device(String id, String vendor, String cls, String speed, String width, String maxSpeed,
                        String maxWidth, String node) throws IOException {
        Path d = Files.createDirectories(sysfs.resolve(id));
        Files.writeString(d.resolve("vendor"), vendor + "\n");
        Files.writeString(d.resolve("class"), cls + "\n");
        Files.writeString(d.resolve("current_link_speed"), speed + "\n");
        Files.writeString(d.resolve("current_link_width"), width + "\n");
        Files.writeString(d.resolve("max_link_speed"), maxSpeed + "\n");
        Files.writeString(d.resolve("max_link_width"), maxWidth + "\n");
        Files.writeString(d.resolve("numa_node"), node + "\n");
    }

    @Test
    void readsGenerationWidthAndNodeAndComputesTheTheoreticalRate() throws IOException {
        device("0000:1b:00.0", "0x10de", "0x030200", "16.0 GT/s PCIe", "16", "32.0 GT/s PCIe", "16", "1");
        PcieLink link = PcieLink.read(sysfs, "0000:1B:00.0").orElseThrow();
        assertEquals(4, link.currentGeneration());
        assertEquals(5, link.maxGeneration());
        assertEquals(16, link.currentWidth());
        assertEquals(OptionalInt.of(1), link.numaNode());
        assertEquals(31.51, link.theoreticalGBps(), 0.01);
        assertTrue(link.describe().contains("below its maximum"), link.describe());
    }

    @Test
    void theoreticalRatesPerGeneration() {
        assertEquals(15.75, PcieLink.laneGBps(8) * 16, 0.01);
        assertEquals(63.02, PcieLink.laneGBps(32) * 16, 0.01);
        assertEquals(4.0, PcieLink.laneGBps(2.5) * 16, 1e-9);
    }

    @Test
    void findsTheFirstNvidiaGpuAndIgnoresOtherDevices() throws IOException {
        device("0000:00:01.0", "0x8086", "0x060400", "8.0 GT/s PCIe", "4", "8.0 GT/s PCIe", "4", "-1");
        device("0000:41:00.0", "0x10de", "0x030000", "8.0 GT/s PCIe", "8", "16.0 GT/s PCIe", "16", "-1");
        PcieLink link = PcieLink.firstNvidiaGpu(sysfs).orElseThrow();
        assertEquals("0000:41:00.0", link.busId());
        assertEquals(OptionalInt.empty(), link.numaNode());
        assertEquals(3, link.currentGeneration());
    }

    @Test
    void alignmentOffsetsGiveExactlyTheRequestedAlignment() {
        long base = 0x7f00_0020_0000L + 4096 * 3;
        for (PcieBenchmark.Alignment a : PcieBenchmark.ALIGNMENTS) {
            long start = base + PcieBenchmark.offsetFor(base, a);
            assertEquals(a.extra(), Math.floorMod(start, a.alignment()), a.label());
            if (a.notAlignedTo() > 0) {
                assertTrue(start % a.notAlignedTo() != 0, a.label() + " must not be more aligned than asked");
            }
            assertTrue(start - base < (2L << 20) + 65536 + 64, a.label());
        }
    }

    @Test
    void sizesParseWithUnits() {
        assertEquals(java.util.List.of(1L << 20, 512L * 1024, 1L << 30), PcieOptions.parseSizes("1, 512K,1G"));
    }
}
