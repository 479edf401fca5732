package dev.ferry.cuda.selftest;

import dev.ferry.cuda.sim.SimulatedDevice;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The JUnit-free runner gpu-check uses: outcomes and their JSON. */
class ContractRunTest {

    @Test
    void runsEveryCheckAndReportsFailuresWithTheirMessage() {
        List<ContractRun.Outcome> outcomes;
        try (SimulatedDevice device = SimulatedDevice.standard()) {
            outcomes = ContractRun.run(device);
        }
        assertEquals(DeviceContract.checks().size(), outcomes.size());
        assertTrue(outcomes.stream().allMatch(ContractRun.Outcome::passed), outcomes.toString());
        String json = ContractRun.toJson("dev \"x\"", "k", "g", List.of(outcomes.get(0),
                new ContractRun.Outcome("broken", false, "ContractFailure: line1\nline2", 0.5)));
        assertTrue(json.contains("\"device\": \"dev \\\"x\\\"\""), json);
        assertTrue(json.contains("\"passed\": 1,") && json.contains("\"failed\": 1,"), json);
        assertTrue(json.contains("\"failure\": \"ContractFailure: line1\\nline2\""), json);
        assertFalse(json.contains("\n  ]\n}\n,"), json);
    }
}
