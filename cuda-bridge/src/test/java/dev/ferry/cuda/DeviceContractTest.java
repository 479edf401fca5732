package dev.ferry.cuda;

import dev.ferry.cuda.selftest.DeviceContract;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;

import java.util.stream.Stream;

/** The device contract as JUnit tests; subclasses say which device they run on. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class DeviceContractTest {

    private Device device;

    /** Opens the device under test (may abort the class with an assumption). */
    protected abstract Device openDevice();

    @BeforeAll
    void open() {
        device = openDevice();
    }

    @AfterAll
    void close() {
        if (device != null) {
            device.close();
        }
    }

    @TestFactory
    Stream<DynamicTest> contract() {
        return DeviceContract.checks().stream()
                .map(check -> DynamicTest.dynamicTest(check.name(), () -> check.body().accept(device)));
    }
}
