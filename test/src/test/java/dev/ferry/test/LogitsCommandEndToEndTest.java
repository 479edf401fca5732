package dev.ferry.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code ferry logits} writes ferry-logits-v1 JSON that agrees with llama.cpp's reference under
 * the rules of {@code compare_logits.py} (the script itself is run when python3 exists).
 */
class LogitsCommandEndToEndTest {

    private static List<Integer> teacherForcedIds(JsonNode ref, String caseName) {
        for (JsonNode c : ref.get("cases")) {
            if (c.get("name").asText().equals(caseName)) {
                List<Integer> ids = new ArrayList<>();
                c.get("prompt_ids").forEach(n -> ids.add(n.asInt()));
                JsonNode g = c.get("greedy_ids");
                for (int i = 0; i < g.size() - 1; i++) {
                    ids.add(g.get(i).asInt());
                }
                return ids;
            }
        }
        throw new IllegalArgumentException(caseName);
    }

    @ParameterizedTest(name = "{0} {1} --precision {3} {5} passes compare_logits --mode {4}")
    @CsvSource({
        "tiny-qwen3moe-F32.gguf, ids, tiny-qwen3moe-F32.gguf.ref.json, exact, exact, ''",
        "small-qwen3moe-k-Q4_K_M.gguf, text, small-qwen3moe-k-Q4_K_M-deqF32.gguf.ref.json, exact, exact, ''",
        "small-qwen3moe-k-Q4_K_M.gguf, text, small-qwen3moe-k-Q4_K_M.gguf.ref.json, quantized, quant, ''",
        "tiny-qwen3-Q8_0.gguf, ids, tiny-qwen3-Q8_0.gguf.ref.json, quantized, quant, ''",
        "tiny-qwen3moe-F32.gguf, ids, tiny-qwen3moe-F32.gguf.ref.json, exact, exact, --device sim -ot exps=CPU --pinned-expert-cache --offload-batch-size 4",
        "small-qwen3moe-k-Q4_K_M.gguf, text, small-qwen3moe-k-Q4_K_M.gguf.ref.json, quantized, quant, --device sim --cpu-moe --pinned-expert-cache",
        "tiny-qwen3-Q8_0.gguf, ids, tiny-qwen3-Q8_0.gguf.ref.json, quantized, quant, --device sim -ngl 2",
    })
    void logitsJsonAgreesWithLlamaCpp(String model, String caseName, String ref, String precision, String mode, String flags,
                                      @TempDir Path dir) throws Exception {
        JsonNode refJson = new ObjectMapper().readTree(CliRunner.fixture("models/" + ref).toFile());
        List<Integer> ids = teacherForcedIds(refJson, caseName);
        Path out = dir.resolve("ours.json");
        List<String> args = new ArrayList<>(List.of("logits", "-m", CliRunner.fixture("models/" + model).toString(),
                "--prompt-ids", ids.stream().map(String::valueOf).collect(Collectors.joining(",")),
                "--top-k", "20", "--json", "-o", out.toString(), "-c", "256", "-ctk", "f32", "-ctv", "f32",
                "--precision", precision));
        if (!flags.isBlank()) {
            args.addAll(List.of(flags.strip().split(" +")));
        }
        CliRunner.Outcome o = CliRunner.run(args.toArray(String[]::new));
        assertEquals(0, o.exitCode(), o.err());
        JsonNode ours = new ObjectMapper().readTree(out.toFile());
        assertEquals("ferry-logits-v1", ours.get("format").asText());
        assertEquals(ids.size(), ours.get("top_k").size());
        assertEquals(refJson.get("n_vocab").asInt(), ours.get("last_logits").size());
        assertEquals(20, ours.get("top_k").get(0).size());
        if (PythonScript.available()) {
            PythonScript.Result r = PythonScript.run(CliRunner.fixture("tools/compare_logits.py"),
                    CliRunner.fixture("models/" + ref).toString(), caseName, out.toString(), "--mode", mode);
            assertEquals(0, r.exitCode(), r.output());
            assertTrue(r.output().contains("PASS"), r.output());
        }
    }

    @Test
    void runOnTheSimulatedDeviceSaysWhereTheExpertsRanAndWhatWasUploaded() throws Exception {
        CliRunner.Outcome o = CliRunner.run("run", "-m", CliRunner.fixture("models/tiny-qwen3moe-Q8_0.gguf").toString(), "-n", "4",
                "-p", "The river carried the ferry across", "--device", "sim", "-ot", "exps=CPU", "--pinned-expert-cache",
                "--offload-batch-size", "2", "--seed", "1");
        assertEquals(0, o.exitCode(), o.err());
        assertTrue(o.err().contains("simulated"), o.err());
        assertTrue(o.err().matches("(?s).*prefill: \\d+ tokens.*expert work 0% CPU / 100% GPU.*"), o.err());
        assertTrue(o.err().matches("(?s).*from pinned memory on node \\d+: .* GB/s.*"), o.err());
        assertTrue(o.err().matches("(?s).*decode: 3 tokens .*expert work 100% CPU / 0% GPU.*weights uploaded 0.0 MiB.*"), o.err());
    }

    @Test
    void gpuFlagsWithoutADeviceFallBackToTheCpuAndSaySo() throws Exception {
        CliRunner.Outcome o = CliRunner.run("run", "-m", CliRunner.fixture("models/tiny-qwen3moe-Q8_0.gguf").toString(), "-n", "2",
                "-ot", "exps=CPU", "--pinned-expert-cache", "--seed", "1");
        assertEquals(0, o.exitCode(), o.err());
        org.junit.jupiter.api.Assumptions.assumeTrue(o.err().contains("no GPU"), "a real GPU is present");
        assertTrue(o.err().contains("GPU flags are ignored"), o.err());
    }

    @Test
    void benchNamesTheDeviceInItsBackendColumnOnlyWhenLayersRunThere() throws Exception {
        String model = CliRunner.fixture("models/tiny-qwen3moe-Q8_0.gguf").toString();
        CliRunner.Outcome onDevice = CliRunner.run("bench", "-m", model, "-p", "4", "-n", "2", "-r", "1", "-t", "1",
                "--device", "sim");
        assertEquals(0, onDevice.exitCode(), onDevice.err());
        assertEquals(2, onDevice.out().lines().filter(l -> l.contains("| SIM+CPU | 1 |")).count(), onDevice.out());
        CliRunner.Outcome cpuOnly = CliRunner.run("bench", "-m", model, "-p", "4", "-n", "2", "-r", "1", "-t", "1",
                "--device", "sim", "-ngl", "0");
        assertEquals(0, cpuOnly.exitCode(), cpuOnly.err());
        assertEquals(2, cpuOnly.out().lines().filter(l -> l.contains("| CPU | 1 |")).count(), cpuOnly.out());
        assertTrue(cpuOnly.err().contains("logical CPUs, ") && cpuOnly.err().contains("-bit vectors"), cpuOnly.err());
        CliRunner.Outcome json = CliRunner.run("bench", "-m", model, "-p", "4", "-n", "0", "-r", "1", "-t", "1", "-o", "json");
        assertEquals(0, json.exitCode(), json.err());
        com.fasterxml.jackson.databind.JsonNode row = new com.fasterxml.jackson.databind.ObjectMapper().readTree(json.out()).get(0);
        assertTrue(!row.get("cpu_info").asText().isBlank(), json.out());
        assertTrue(java.util.Set.of(128, 256, 512).contains(row.get("vector_bits").asInt()), json.out());
    }

    @Test
    void aTruncatedModelIsReportedInOneLineNamingTheFile(@TempDir Path dir) throws Exception {
        Path bad = dir.resolve("truncated.gguf");
        byte[] full = Files.readAllBytes(CliRunner.fixture("models/tiny-qwen3-Q8_0.gguf"));
        Files.write(bad, java.util.Arrays.copyOf(full, 5000));
        CliRunner.Outcome o = CliRunner.run("logits", "-m", bad.toString(), "--prompt-ids", "1,2,3");
        assertEquals(1, o.exitCode());
        assertTrue(o.err().contains("truncated.gguf"), o.err());
        assertEquals(1, o.err().strip().lines().count(), o.err());
    }
}
