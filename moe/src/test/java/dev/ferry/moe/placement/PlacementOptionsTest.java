package dev.ferry.moe.placement;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.hostmemory.numa.NumaPolicy;
import dev.ferry.hostmemory.topology.CpuSet;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The llama.cpp-named flags parse to the right choices, and bad values name their flag. */
class PlacementOptionsTest {

    @Test
    void defaultsAreNoPlacementOneThreadPerPhysicalCore() {
        PlacementOptions o = PlacementOptions.parse(null, null, false, null, null, false, false);
        assertEquals(Optional.empty(), o.numa());
        assertEquals(0, o.cpus().threads());
        assertFalse(o.placesWeights());
        assertEquals("no --numa, one thread per physical core", o.describe());
    }

    @Test
    void everyFlagIsCarried() {
        PlacementOptions o = PlacementOptions.parse("Shard", 6, true, "0x0f", "8-9", true, true);
        assertEquals(Optional.of(NumaPolicy.SHARD), o.numa());
        assertEquals(6, o.cpus().threads());
        assertTrue(o.cpus().useHyperthreading());
        assertEquals(CpuSet.range(0, 3), o.cpus().cpuMask().orElseThrow());
        assertEquals(CpuSet.range(8, 9), o.cpus().cpuRange().orElseThrow());
        assertTrue(o.noMmap() && o.mlock() && o.placesWeights());
        assertEquals("--numa shard, -t 6, --cpu-use-hyperthreading, --cpu-mask CPUs 0-3, --cpu-range CPUs 8-9, --no-mmap, --mlock", o.describe());
    }

    @Test
    void badValuesNameTheirFlag() {
        assertTrue(message(() -> PlacementOptions.parse("spread", null, false, null, null, false, false)).startsWith("--numa: "));
        assertTrue(message(() -> PlacementOptions.parse(null, 0, false, null, null, false, false)).startsWith("-t/--threads: "));
        assertTrue(message(() -> PlacementOptions.parse(null, null, false, "0xZZ", null, false, false)).startsWith("--cpu-mask: "));
        assertTrue(message(() -> PlacementOptions.parse(null, null, false, null, "9-3", false, false)).startsWith("--cpu-range: "));
        assertTrue(message(() -> PlacementOptions.parse(null, null, false, null, "a-b", false, false)).startsWith("--cpu-range: "));
    }

    private static String message(Runnable r) {
        return assertThrows(IllegalArgumentException.class, r::run).getMessage();
    }
}
