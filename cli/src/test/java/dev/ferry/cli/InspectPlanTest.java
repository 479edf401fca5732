package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ferry inspect FILE} with placement flags: the plan, its JSON and the fit refusal. */
class InspectPlanTest {

    private static final long EXPERT_TENSOR_BYTES = 7168L * 2048 * 256 * 34 / 32;

    @TempDir
    Path dir;

    private static InspectRun inspect(String... args) {
        return InspectRun.of(args);
    }

    private static String fixture(String name) {
        try {
            return Path.of(InspectPlanTest.class.getResource("/fixtures/models/" + name).toURI()).toString();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void withoutPlacementFlagsThereIsNoPlan() {
        InspectRun r = inspect(fixture("tiny-qwen3moe-Q8_0.gguf"));
        assertEquals(0, r.exitCode(), r.err());
        assertFalse(r.out().contains("placement plan"), r.out());
    }

    @Test
    void cpuMoePrintsEveryTensorsHomeAndTheVerdict() {
        InspectRun r = inspect(fixture("tiny-qwen3moe-Q8_0.gguf"), "--cpu-moe", "--gpu-memory", "24G", "--pinned-expert-cache");
        assertEquals(0, r.exitCode(), r.err());
        String out = r.out();
        assertTrue(out.contains("\nplacement plan\n"), out);
        assertTrue(out.contains("  device       a GPU with 24.0 GiB (--gpu-memory; not probed)\n"), out);
        assertTrue(out.contains("  -ngl         5 (of 4 layers + output): layers 0-3 on the GPU, output too\n"), out);
        assertTrue(out.contains("  overrides    1. \\.ffn_(up|down|gate)_exps=CPU (--cpu-moe)\n"), out);
        assertTrue(out.matches("(?s).*\\n  blk\\.3\\.ffn_down_exps\\.weight +68\\.0 KiB +HOST +mapping +pinned n\\d +--cpu-moe .*"), out);
        assertTrue(out.matches("(?s).*\\n  blk\\.3\\.attn_q\\.weight +[0-9.]+ KiB +GPU +- +- +-ngl 5: layer 3 on the GPU\\n.*"), out);
        assertTrue(out.matches("(?s).*\\n  token_embd\\.weight .* HOST .*input layer.*"), out);
        // 12 tensors x (8 experts at 64 KiB-aligned addresses + one alignment): what the cache really pins.
        assertTrue(out.contains("  pinned        6.8 MiB copied on node"), out);
        assertTrue(out.contains("  verdict: fits\n"), out);
    }

    @Test
    void jsonCarriesThePlanAndItsTotalsAddUp() throws IOException {
        InspectRun r = inspect(fixture("small-qwen3moe-k-Q4_K_M.gguf"), "--json", "-ngl", "2", "-ot", "blk\\.3\\.ffn=CPU,exps=CPU",
                "--gpu-memory", "8G", "-c", "256", "-ctk", "f32");
        assertEquals(0, r.exitCode(), r.err());
        JsonNode j = new ObjectMapper().readTree(r.out());
        JsonNode plan = j.get("plan");
        assertEquals(2, plan.get("gpu_layers").asInt());
        assertEquals(2, plan.get("first_gpu_layer").asInt());
        assertEquals(256, plan.get("context_length").asInt());
        assertEquals("f32", plan.get("cache_type_k").asText());
        assertEquals(2, plan.get("overrides").size());
        assertEquals(j.get("tensor_count").asInt(), plan.get("tensors").size());
        long gpu = 0;
        long host = 0;
        for (JsonNode t : plan.get("tensors")) {
            if (t.get("home").asText().equals("GPU")) {
                gpu += t.get("bytes").asLong();
                assertTrue(t.get("layer").asText().matches("blk\\.[23]"), t.toString());
                assertFalse(t.get("name").asText().contains("_exps"), t.toString());
                assertFalse(t.get("name").asText().startsWith("blk.3.ffn"), t.toString());
            } else {
                host += t.get("bytes").asLong();
            }
        }
        assertEquals(j.get("tensor_bytes").asLong(), gpu + host);
        assertEquals(gpu, plan.get("gpu").get("weights_bytes").asLong());
        // GPU layers: F32 K and V (the device attention reads F32); CPU layers: K f32 (4 B) + V f16 (2 B);
        // 2 + 2 layers, 256 positions, 2 KV heads x 64.
        assertEquals(2L * 256 * (128 * 4 + 128 * 4), plan.get("gpu").get("kv_cache_bytes").asLong());
        assertEquals(2L * 256 * (128 * 4 + 128 * 4) + 2L * 256 * (128 * 4 + 128 * 2), plan.get("kv_cache_bytes").asLong());
        assertTrue(plan.get("fits").asBoolean());
        assertEquals(8L << 30, plan.get("gpu").get("capacity_bytes").asLong());
    }

    @Test
    void aPlanThatDoesNotFitExitsWithOneLineOfNumbers() {
        InspectRun r = inspect(fixture("tiny-qwen3moe-Q8_0.gguf"), "-ngl", "all", "--gpu-memory", "1M");
        assertEquals(1, r.exitCode());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().matches("ferry inspect: the plan needs [0-9.]+ MiB of VRAM: weights [0-9.]+ (KiB|MiB) \\+ KV cache [0-9.]+ MiB"
                + " \\+ compute [0-9.]+ MiB, the device has 1\\.0 MiB .*\\n"), r.err());
        assertTrue(r.out().contains("verdict: does not fit: the plan needs"), r.out());
    }

    @Test
    void badFlagsGiveOneLineNamingTheFlag() {
        InspectRun cuda1 = inspect(fixture("tiny-qwen3moe-Q8_0.gguf"), "-ot", "exps=CUDA1", "--gpu-memory", "8G");
        assertEquals(1, cuda1.exitCode());
        assertEquals("ferry inspect: -ot/--override-tensor 'exps=CUDA1': buffer CUDA1 names GPU 1, but ferry uses one GPU (CUDA0)\n",
                cuda1.err());
        assertEquals("", cuda1.out());
        InspectRun regex = inspect(fixture("tiny-qwen3moe-Q8_0.gguf"), "-ot", "blk.[0=CPU");
        assertEquals(1, regex.exitCode());
        assertTrue(regex.err().startsWith("ferry inspect: -ot/--override-tensor: 'blk.[0' is not a valid regular expression"), regex.err());
        InspectRun size = inspect(fixture("tiny-qwen3moe-Q8_0.gguf"), "--gpu-memory", "big");
        assertEquals("ferry inspect: --gpu-memory: 'big' is not a size (examples: 8G, 512M, 1.5GiB, 4096)\n", size.err());
    }

    @Test
    void gpuHomesWithoutAGpuAreAnErrorThatSuggestsTheWayOut() {
        InspectRun r = inspect(fixture("tiny-qwen3moe-Q8_0.gguf"), "-ngl", "0", "-ot", "output=CUDA0", "--device", "auto");
        if (r.out().isEmpty()) {
            assertEquals(1, r.exitCode());
            assertTrue(r.err().contains("but there is no GPU (no GPU: "), r.err());
            assertTrue(r.err().contains("use -ngl 0"), r.err());
        } else {
            assertEquals(0, r.exitCode(), "a machine with a GPU plans output.weight on it: " + r.err());
        }
        InspectRun cpu = inspect(fixture("tiny-qwen3moe-Q8_0.gguf"), "-ngl", "0", "--device", "auto");
        assertEquals(0, cpu.exitCode(), cpu.err());
        assertTrue(cpu.out().contains("  -ngl         0 (of 4 layers + output): everything on the CPU\n"), cpu.out());
    }

    @Test
    void theSimulatedDeviceIsPlannedWithItsMemory() {
        InspectRun r = inspect(fixture("tiny-qwen3moe-Q8_0.gguf"), "--device", "sim", "--cpu-moe");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().matches("(?s).*\\n  GPU +[0-9.]+ MiB of 24\\.0 GiB: weights .*"), r.out());
    }

    /** A 70-layer header over an 840 GB sparse file: planned instantly, one row per layer. */
    @Test
    void aHugeModelIsPlannedFromItsHeaderAsAPerLayerTable() throws IOException {
        Path file = hugeExpertFile(70);
        InspectRun fits = inspect(file.toString(), "--cpu-moe", "--gpu-memory", "24G");
        assertEquals(0, fits.exitCode(), fits.err());
        assertTrue(fits.out().contains("  layer  tensors  GPU      host  extra copies  routed experts\n"), fits.out());
        assertTrue(fits.out().contains("  69           3  0 B  11.2 GiB           0 B  HOST\n"), fits.out());
        String planText = fits.out().substring(fits.out().indexOf("\nplacement plan\n"));
        assertFalse(planText.contains("blk.0.ffn_up_exps.weight"), "no per-tensor rows for big models");

        InspectRun gpu = inspect(file.toString(), "--gpu-memory", "24G", "--json");
        assertEquals(1, gpu.exitCode());
        JsonNode plan = new ObjectMapper().readTree(gpu.out()).get("plan");
        assertEquals(70 * 3 * EXPERT_TENSOR_BYTES, plan.get("gpu").get("weights_bytes").asLong());
        assertFalse(plan.get("fits").asBoolean());
        assertTrue(gpu.err().startsWith("ferry inspect: the plan needs 781.2 GiB of VRAM: weights 780.9 GiB + KV cache 0 B + compute "),
                gpu.err());

        InspectRun ram = inspect(file.toString(), "-ngl", "0", "--gpu-memory", "24G", "--no-mmap");
        assertEquals(1, ram.exitCode());
        assertTrue(ram.err().startsWith("ferry inspect: the plan needs 780.9 GiB of host RAM: placed weights 780.9 GiB + pinned 0 B"
                + " + KV cache 0 B, the machine has "), ram.err());
    }

    private Path hugeExpertFile(int layers) throws IOException {
        Path file = dir.resolve("huge.gguf");
        ByteBuffer h = ByteBuffer.allocate(64 * 1024).order(ByteOrder.LITTLE_ENDIAN);
        h.put("GGUF".getBytes(StandardCharsets.US_ASCII)).putInt(3).putLong(3L * layers).putLong(1);
        putString(h, "general.architecture");
        h.putInt(8);
        putString(h, "deepseek2");
        long offset = 0;
        for (int l = 0; l < layers; l++) {
            for (String p : new String[] {"gate", "up", "down"}) {
                putString(h, "blk." + l + ".ffn_" + p + "_exps.weight");
                h.putInt(3).putLong(7168).putLong(2048).putLong(256).putInt(8).putLong(offset);
                offset += EXPERT_TENSOR_BYTES;
            }
        }
        int dataOffset = (h.position() + 31) / 32 * 32;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ch.write(h.flip());
            ch.write(ByteBuffer.allocate(1), dataOffset + offset - 1);
        }
        return file;
    }

    private static void putString(ByteBuffer b, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        b.putLong(bytes.length).put(bytes);
    }
}
