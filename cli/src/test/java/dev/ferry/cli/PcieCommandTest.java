package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.cuda.jcuda.CudaProbe;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class PcieCommandTest {

    @TempDir
    Path dir;

    record Result(int exitCode, String out, String err) {
    }

    private static Result pcie(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = new CommandLine(new PcieCommand());
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        int code = cli.execute(args);
        return new Result(code, out.toString(), err.toString());
    }

    @Test
    void withoutAGpuTheFirstLineSaysSoAndHostStagingIsMeasured() {
        assumeFalse(CudaProbe.probe().available(), "this machine has a GPU");
        Result r = pcie("--sizes", "1", "--reps", "2", "--file-dir", dir.toString());
        assertEquals(0, r.exitCode(), r.err());
        String first = r.out().lines().findFirst().orElseThrow();
        assertTrue(first.startsWith("no GPU: ") && first.endsWith("; measuring host-side staging copies only"), first);
        // one anonymous and one file-mapped source, 4 alignments, 1 size, 2 directions
        assertEquals(16, r.out().lines().filter(l -> l.startsWith("| ") && l.contains("staging")).count(), r.out());
        assertTrue(r.out().contains("| 2 MiB + 32 B |"), r.out());
        assertTrue(r.out().lines().filter(l -> l.startsWith("| ") && l.contains("staging")).allMatch(l -> l.endsWith("| - | - |")),
                r.out());
    }

    @Test
    void simulatedRunIsJsonAndSaysSimulated() throws Exception {
        Result r = pcie("--device", "sim", "--sizes", "1,2", "--reps", "3", "--json", "--sim-pcie-gbps", "20",
                "--file-dir", dir.toString());
        assertEquals(0, r.exitCode(), r.err());
        JsonNode json = new ObjectMapper().readTree(r.out());
        assertTrue(json.get("simulated").asBoolean());
        assertFalse(json.get("gpu").asBoolean());
        assertTrue(json.get("status").asText().contains("simulated"), json.get("status").asText());
        // pinned, file-mapped, pageable, registered x 4 alignments x 2 sizes x 2 directions
        assertEquals(64, json.get("results").size());
        for (JsonNode cell : json.get("results")) {
            double expected = cell.get("source").asText().startsWith("pageable") ? 6 : 20;
            double modelled = cell.get("bytes").asLong() / (10e-6 + cell.get("bytes").asLong() / (expected * 1e9)) / 1e9;
            assertEquals(modelled, cell.get("median_gbps").asDouble(), 1e-3, cell.toString());
            assertEquals(3, cell.get("reps").asInt());
            // the wall-clock rate of a simulated call means nothing: it is left out
            assertTrue(cell.get("host_call_median_gbps").isNull(), cell.toString());
        }
    }

    @Test
    void jsonOutWritesTheSameCellsTheTableShows() throws Exception {
        Path file = dir.resolve("pcie.json");
        Result r = pcie("--device", "sim", "--sizes", "1", "--reps", "2", "--json-out", file.toString(),
                "--file-dir", dir.toString());
        assertEquals(0, r.exitCode(), r.err());
        JsonNode json = new ObjectMapper().readTree(file.toFile());
        long rows = r.out().lines().filter(l -> l.startsWith("| ") && l.contains(" MiB |")).count();
        // pinned, file-mapped, pageable, registered x 4 alignments x 1 size x 2 directions
        assertEquals(32, json.get("results").size());
        assertEquals(32, rows, r.out());
        for (JsonNode cell : json.get("results")) {
            String row = String.format(java.util.Locale.ROOT, "| %s | %s | %s | 1 MiB | %s | %.2f |",
                    cell.get("node").isNull() ? "-" : cell.get("node").asText(), cell.get("source").asText(),
                    cell.get("alignment").asText(), cell.get("direction").asText(), cell.get("median_gbps").asDouble());
            assertTrue(r.out().contains(row), row + " not in\n" + r.out());
        }
        Result missing = pcie("--device", "sim", "--quick", "--json-out", dir.resolve("no/such/pcie.json").toString());
        assertEquals(1, missing.exitCode());
        assertTrue(missing.err().contains("--json-out") && missing.err().contains("does not exist"), missing.err());
    }

    @Test
    void badFlagsGiveAClearMessage() {
        Result r = pcie("--sizes", "1,x", "--file-dir", dir.toString());
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("--sizes") && r.err().contains("'x'"), r.err());
        Result both = pcie("--quick", "--full");
        assertEquals(1, both.exitCode());
        assertTrue(both.err().contains("--quick and --full"), both.err());
        Result device = pcie("--device", "tpu");
        assertTrue(device.err().contains("--device"), device.err());
    }

    @Test
    void askingForCudaWithoutAGpuFailsWithTheReason() {
        assumeFalse(CudaProbe.probe().available(), "this machine has a GPU");
        Result r = pcie("--device", "cuda", "--quick");
        assertEquals(2, r.exitCode());
        assertTrue(r.err().startsWith("ferry pcie: no GPU: "), r.err());
    }
}
