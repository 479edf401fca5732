package dev.ferry.cuda;

import dev.ferry.cuda.jcuda.CudaProbe;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/** Device selection, and the clean "no GPU" path on machines without one. */
class DevicesTest {

    @Test
    void simIsAlwaysAvailableAndSaysSimulated() {
        try (OpenedDevice opened = Devices.open(DeviceChoice.SIM, DeviceOptions.defaults())) {
            assertTrue(opened.present());
            assertTrue(opened.status().contains("simulated"), opened.status());
            assertTrue(opened.device().orElseThrow().info().simulated());
        }
    }

    @Test
    void withoutAGpuAutoFallsBackAndCudaFailsWithAReason() {
        CudaProbe.Result probe = CudaProbe.probe();
        assumeFalse(probe.available(), "this machine has a GPU");
        assertFalse(probe.reason().isBlank());
        try (OpenedDevice opened = Devices.open(DeviceChoice.AUTO, DeviceOptions.defaults())) {
            assertFalse(opened.present());
            assertTrue(opened.status().startsWith("no GPU: "), opened.status());
        }
        DeviceUnavailableException e = assertThrows(DeviceUnavailableException.class,
                () -> Devices.open(DeviceChoice.CUDA, DeviceOptions.defaults()));
        assertTrue(e.getMessage().startsWith("no GPU: "), e.getMessage());
        assertEquals(probe.reason(), CudaProbe.probe().reason(), "probing twice gives the same answer");
    }

    @Test
    void deviceChoiceParsesFlagValues() {
        assertEquals(DeviceChoice.SIM, DeviceChoice.parse("Sim"));
        assertEquals(DeviceChoice.CUDA, DeviceChoice.parse("cuda"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DeviceChoice.parse("tpu"));
        assertTrue(e.getMessage().contains("--device"), e.getMessage());
    }
}
