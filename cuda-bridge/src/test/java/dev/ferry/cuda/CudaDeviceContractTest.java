package dev.ferry.cuda;

import dev.ferry.cuda.jcuda.CudaProbe;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;

/** Every contract check on GPU 0; tagged gpu (run by scripts/gpu-check), skipped with the reason when there is none. */
@Tag("gpu")
class CudaDeviceContractTest extends DeviceContractTest {

    @Override
    protected Device openDevice() {
        CudaProbe.Result probe = CudaProbe.probe();
        Assumptions.assumeTrue(probe.available(), () -> "no GPU: " + probe.reason());
        return Devices.openCuda();
    }
}
