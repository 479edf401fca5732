package dev.ferry.cuda;

import dev.ferry.cuda.sim.SimulatedDevice;

/** Every contract check on the simulated device (always runs). */
class SimulatedDeviceContractTest extends DeviceContractTest {

    @Override
    protected Device openDevice() {
        return SimulatedDevice.standard();
    }
}
