package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CpuInfoTest {

    @TempDir
    Path dir;

    @Test
    void modelNameIsTheFirstOfCpuinfoWithSpacesCollapsed() throws Exception {
        Path cpuinfo = dir.resolve("cpuinfo");
        Files.writeString(cpuinfo, "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC  7B13 64-Core Processor\n"
                + "\nprocessor\t: 1\nmodel name\t: something else\n");
        assertEquals("AMD EPYC 7B13 64-Core Processor", CpuInfo.modelName(cpuinfo));
    }

    @Test
    void withoutCpuinfoTheArchitectureDescribesTheCpu() {
        assertEquals(System.getProperty("os.arch"), CpuInfo.modelName(dir.resolve("missing")));
    }

    @Test
    void thisMachineHasAVectorWidthTheKernelsKnow() {
        CpuInfo cpu = CpuInfo.current();
        assertTrue(cpu.vectorBits() == 128 || cpu.vectorBits() == 256 || cpu.vectorBits() == 512, cpu.describe());
        assertTrue(cpu.logicalCpus() >= 1 && !cpu.model().isBlank(), cpu.describe());
    }
}
