package dev.ferry.cuda;

import dev.ferry.cuda.selftest.DeviceContract;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;

import java.util.stream.Stream;

/** The device contract as JUnit tests; subclasses say which device they run on. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class DeviceContractTest {

    private Device device;

    /** Opens the device under test (may abort the class with an assumption). */
    protected abstract Device openDevice();

    @AfterAll
    void close() {
        if (device != null) {
            device.close();
        }
    }

    /** Reports a missing device as one skipped test with its reason (surefire does not count an aborted factory). */
    @Test
    void deviceOpensAndDescribesItself() {
        try (Device d = openDevice()) {
            org.junit.jupiter.api.Assertions.assertFalse(d.info().description().isBlank());
        }
    }

    /** Opens the device here rather than in a @BeforeAll so that "no GPU" shows as a skipped test with its reason. */
    @TestFactory
    Stream<DynamicTest> contract() {
        device = openDevice();
        return DeviceContract.checks().stream()
                .map(check -> DynamicTest.dynamicTest(check.name(), () -> check.body().accept(device)));
    }
}
