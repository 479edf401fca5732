package dev.ferry.cuda.selftest;

import dev.ferry.cuda.Device;
import dev.ferry.cuda.DeviceUnavailableException;
import dev.ferry.cuda.Devices;
import dev.ferry.cuda.sim.SimulatedDevice;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Runs the device contract from the jar, without JUnit: {@code java -cp ferry.jar
 * dev.ferry.cuda.selftest.GpuSelfTest [--sim] [result.json]}. Exit code 0 when every check
 * passes, 1 when one fails, 2 when there is no GPU (the first line then says why).
 */
public final class GpuSelfTest {

    private GpuSelfTest() {
    }

    public static void main(String[] args) throws IOException {
        boolean sim = args.length > 0 && args[0].equals("--sim");
        Path json = args.length > (sim ? 1 : 0) ? Path.of(args[sim ? 1 : 0]) : null;
        Device device;
        try {
            device = sim ? SimulatedDevice.standard() : Devices.openCuda();
        } catch (DeviceUnavailableException e) {
            System.out.println(e.getMessage());
            if (json != null) {
                Files.writeString(json, "{\"device\": " + ContractRun.quote(e.getMessage()) + ", \"passed\": 0, \"failed\": 0, \"checks\": []}\n");
            }
            System.exit(2);
            return;
        }
        int failed;
        try (device) {
            System.out.println("device: " + device.info().description());
            System.out.println("kernels: " + device.kernels().status());
            String gemm = device.gemm().implementation();
            System.out.println("gemm: " + gemm);
            List<ContractRun.Outcome> outcomes = ContractRun.run(device);
            for (ContractRun.Outcome o : outcomes) {
                System.out.printf("%s  %-60s %7.3f s%s%n", o.passed() ? "PASS" : "FAIL", o.name(), o.seconds(),
                        o.passed() ? "" : "\n      " + o.failure());
            }
            failed = (int) outcomes.stream().filter(o -> !o.passed()).count();
            System.out.println((outcomes.size() - failed) + " passed, " + failed + " failed");
            if (json != null) {
                Files.writeString(json, ContractRun.toJson(device.info().description(), device.kernels().status(), gemm,
                        outcomes));
            }
        }
        System.exit(failed == 0 ? 0 : 1);
    }
}
