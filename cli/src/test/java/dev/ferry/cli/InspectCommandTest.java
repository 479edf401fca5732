package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.channels.FileChannel;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

class InspectCommandTest {

    @TempDir
    Path dir;

    private static InspectRun inspect(String... args) {
        return InspectRun.of(args);
    }

    private static Path fixture(String name) {
        try {
            return Path.of(InspectCommandTest.class.getResource("/fixtures/models/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** fixtures/README.md: the dimensions and tensor types of every model. */
    @ParameterizedTest
    @CsvSource({
            "tiny-qwen3moe-F32.gguf,      qwen3moe, 128, 8, F32",
            "tiny-qwen3moe-Q8_0.gguf,     qwen3moe, 128, 8, F32 Q8_0",
            "tiny-qwen3moe-Q4_0.gguf,     qwen3moe, 128, 8, F32 Q4_0 Q8_0",
            "tiny-qwen3-F32.gguf,         qwen3,    128, 0, F32",
            "tiny-qwen3-Q8_0.gguf,        qwen3,    128, 0, F32 Q8_0",
            "small-qwen3moe-k-Q4_K_M.gguf, qwen3moe, 256, 8, F32 Q4_K Q6_K Q8_0 Q5_K",
            "small-qwen3moe-k-Q6_K.gguf,  qwen3moe, 256, 8, F32 Q6_K Q8_0"})
    void jsonReportsTheFixtureReadmeValues(String file, String arch, int embd, int experts, String types)
            throws IOException {
        InspectRun r = inspect(fixture(file).toString(), "--json");
        assertEquals(0, r.exitCode(), r.err());
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertEquals(arch, j.get("architecture").asText());
        JsonNode hp = j.get("hyper_parameters");
        assertEquals(embd, hp.get("embedding_length").asInt());
        assertEquals(4, hp.get("block_count").asInt());
        assertEquals(4, hp.get("attention.head_count").asInt());
        assertEquals(2, hp.get("attention.head_count_kv").asInt());
        assertEquals(256, hp.get("context_length").asInt());
        assertEquals(1e6, hp.get("rope.freq_base").asDouble());
        assertEquals(1e-6, hp.get("attention.layer_norm_rms_epsilon").asDouble(), 1e-12);
        if (experts > 0) {
            assertEquals(experts, hp.get("expert_count").asInt());
            assertEquals(2, hp.get("expert_used_count").asInt());
            assertEquals(embd == 128 ? 64 : 256, hp.get("expert_feed_forward_length").asInt());
        } else {
            assertFalse(hp.has("expert_count"));
            assertEquals(256, hp.get("feed_forward_length").asInt());
        }
        JsonNode tok = j.get("tokenizer");
        assertEquals("gpt2", tok.get("model").asText());
        assertEquals("qwen2", tok.get("pre").asText());
        assertEquals(512, tok.get("vocab_size").asInt());
        assertEquals(253, tok.get("merges").asInt());
        assertEquals(3, tok.get("special_count").asInt());
        assertEquals(3, tok.get("token_types").get("CONTROL").asInt());
        assertEquals("<|im_start|>", tok.get("specials").get(1).get("text").asText());
        assertEquals(509, tok.get("specials").get(0).get("id").asInt());

        Map<String, Long> bytesByType = new HashMap<>();
        long sum = 0;
        for (JsonNode t : j.get("by_type")) {
            bytesByType.put(t.get("type").asText(), t.get("bytes").asLong());
            sum += t.get("bytes").asLong();
        }
        assertEquals(List.of(types.split(" ")).stream().sorted().toList(),
                bytesByType.keySet().stream().sorted().toList());
        assertEquals(j.get("tensor_bytes").asLong(), sum);
        assertEquals(Files.size(fixture(file)), j.get("file_size").asLong());

        Map<String, Long> bytesByRole = new HashMap<>();
        for (JsonNode t : j.get("by_role")) {
            bytesByRole.put(t.get("role").asText(), t.get("bytes").asLong());
        }
        assertTrue(bytesByRole.get("attention") > 0);
        assertTrue(bytesByRole.get("norm") > 0);
        assertTrue(bytesByRole.get("embedding") > 0);
        assertTrue(bytesByRole.get("output") > 0);
        assertEquals(experts > 0, bytesByRole.containsKey("routed_experts"));
        assertEquals(experts > 0, bytesByRole.containsKey("router"));
        assertEquals(experts == 0, bytesByRole.containsKey("dense_ffn"));

        JsonNode output = null;
        for (JsonNode t : j.get("tensors")) {
            if (t.get("name").asText().equals("output.weight")) {
                output = t;
            }
        }
        assertEquals(embd, output.get("shape").get(0).asInt());
        assertEquals(512, output.get("shape").get(1).asInt());
    }

    @Test
    void textShowsHyperParametersTensorTableAndSummarisedArrays() {
        InspectRun r = inspect(fixture("tiny-qwen3moe-Q8_0.gguf").toString());
        assertEquals(0, r.exitCode(), r.err());
        String out = r.out();
        assertTrue(out.contains("architecture  qwen3moe"), out);
        assertTrue(out.matches("(?s).*\\n  expert_count +8\\n.*"), out);
        assertTrue(out.matches("(?s).*\\n  expert_used_count +2\\n.*"), out);
        assertTrue(out.contains("512 tokens [512 STRING: '!', '\"', '#', ...]"), out);
        assertTrue(out.contains("509 '<|endoftext|>', 510 '<|im_start|>', 511 '<|im_end|>'"), out);
        assertTrue(out.matches("(?s).*\\n  blk\\.0\\.ffn_up_exps\\.weight +Q8_0 +128 x 64 x 8 +65,536 +69,632 +68\\.00 KiB +routed experts\\n.*"), out);
        assertTrue(out.matches("(?s).*\\n  output\\.weight +Q8_0 +128 x 512 .*"), out);
        assertTrue(out.contains("1.16 MiB (1,221,408 bytes)"), out);
        assertFalse(out.contains("'Ġ t', 'h e', 'Ġ a', 'i n'"), "the merges must be summarised, not printed whole");
        assertTrue(out.lines().noneMatch(l -> l.length() > 400), "no line holds a whole array");
    }

    @Test
    void ferryHasTheInspectSubcommand() {
        assertTrue(List.of(Main.class.getAnnotation(CommandLine.Command.class).subcommands())
                .contains(InspectCommand.class));
    }

    @Test
    void aBadFileGivesOneLineNamingItAndNoStackTrace() throws IOException {
        Path bad = Files.writeString(dir.resolve("broken.gguf"), "GGUF\u0003\u0000\u0000\u0000 and then garbage");
        InspectRun r = inspect(bad.toString());
        assertEquals(1, r.exitCode());
        assertEquals("", r.out());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().startsWith("ferry inspect: " + bad + ": byte "), r.err());
        assertFalse(r.err().contains("Exception"), r.err());

        InspectRun missing = inspect(dir.resolve("missing.gguf").toString());
        assertEquals(1, missing.exitCode());
        assertEquals("ferry inspect: " + dir.resolve("missing.gguf") + ": no such file\n", missing.err());
    }

    @Test
    void aHugeSparseFileIsSummarisedFromItsHeaderAlone() throws IOException {
        long experts = 256;
        long tensorBytes = 7168L * 2048 * experts * 34 / 32;
        Path file = dir.resolve("huge.gguf");
        ByteBuffer h = ByteBuffer.allocate(4096).order(ByteOrder.LITTLE_ENDIAN);
        h.put("GGUF".getBytes(StandardCharsets.US_ASCII)).putInt(3).putLong(1).putLong(1);
        putString(h, "general.architecture");
        h.putInt(8);
        putString(h, "deepseek2");
        putString(h, "blk.0.ffn_up_exps.weight");
        h.putInt(3).putLong(7168).putLong(2048).putLong(experts).putInt(8).putLong(0);
        int dataOffset = (h.position() + 31) / 32 * 32;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ch.write(h.flip());
            ch.write(ByteBuffer.allocate(1), dataOffset + tensorBytes - 1);
        }
        InspectRun r = inspect(file.toString(), "--json");
        assertEquals(0, r.exitCode(), r.err());
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertEquals(dataOffset + tensorBytes, j.get("file_size").asLong());
        assertEquals("routed_experts", j.get("by_role").get(0).get("role").asText());
        assertEquals(tensorBytes, j.get("by_role").get(0).get("bytes").asLong());

        InspectRun text = inspect(file.toString());
        assertEquals(0, text.exitCode(), text.err());
        assertTrue(text.out().contains("  blk.0.ffn_up_exps.weight  Q8_0  7168 x 2048 x 256  3,758,096,384  3,992,977,408"
                + "  3.72 GiB  routed experts\n"), text.out());
    }

    @Test
    void controlCharactersFromTheFileAreEscapedInText() throws IOException {
        Path file = dir.resolve("escape.gguf");
        ByteBuffer h = ByteBuffer.allocate(256).order(ByteOrder.LITTLE_ENDIAN);
        h.put("GGUF".getBytes(StandardCharsets.US_ASCII)).putInt(3).putLong(0).putLong(1);
        putString(h, "evil\u001b[2Jkey");
        h.putInt(8);
        putString(h, "value");
        Files.write(file, Arrays.copyOf(h.array(), (h.position() + 31) / 32 * 32));
        InspectRun r = inspect(file.toString());
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("evil\\u001b[2Jkey"), r.out());
        assertFalse(r.out().contains("\u001b"), "no raw escape character reaches the terminal");
    }

    private static void putString(ByteBuffer b, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        b.putLong(bytes.length).put(bytes);
    }
}
