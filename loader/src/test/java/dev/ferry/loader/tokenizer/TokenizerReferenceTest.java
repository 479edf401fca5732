package dev.ferry.loader.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.loader.GgufFile;

import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Tokenization and detokenization against llama.cpp's output for every fixture model. */
class TokenizerReferenceTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HexFormat HEX = HexFormat.of();

    static Path fixtures(String dir) {
        URL url = TokenizerReferenceTest.class.getResource("/fixtures/" + dir);
        if (url == null) {
            throw new IllegalStateException("fixtures/" + dir + " is not on the test classpath");
        }
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static List<String> referenceFiles() throws IOException {
        try (Stream<Path> files = Files.list(fixtures("models"))) {
            List<String> names = files.map(p -> p.getFileName().toString())
                    .filter(n -> n.endsWith(".gguf.ref.json")).sorted().toList();
            assertFalse(names.isEmpty());
            return names;
        }
    }

    /** The model a reference belongs to; "-deqF32" references share their quantized file's tokenizer. */
    static Tokenizer tokenizerFor(String refName) {
        String model = refName.replace(".ref.json", "").replace("-deqF32", "");
        try (GgufFile f = GgufFile.open(fixtures("models").resolve(model))) {
            return Tokenizer.fromGguf(f.metadata());
        }
    }

    @ParameterizedTest
    @MethodSource("referenceFiles")
    void tokenizesTheFiveStringsLikeLlamaCpp(String refName) throws IOException {
        JsonNode ref = JSON.readTree(fixtures("models").resolve(refName).toFile());
        Tokenizer tok = tokenizerFor(refName);
        JsonNode cases = ref.get("tokenize");
        assertEquals(5, cases.size());
        for (JsonNode c : cases) {
            String text = c.get("text").asText();
            int[] special = ints(c.get("ids_special"));
            int[] plain = ints(c.get("ids_nospecial"));
            assertArrayEquals(special, tok.encode(text, true, true), () -> "parse_special: " + text);
            assertArrayEquals(plain, tok.encode(text, true, false), () -> "no parse_special: " + text);

            JsonNode pieces = c.get("pieces_hex_special");
            assertEquals(special.length, pieces.size());
            for (int i = 0; i < special.length; i++) {
                assertEquals(pieces.get(i).asText(), HEX.formatHex(tok.piece(special[i], true)));
            }
            byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
            assertArrayEquals(utf8, tok.decodeBytes(special, true), () -> "detokenize: " + text);
            assertArrayEquals(utf8, tok.decodeBytes(plain, false), () -> "detokenize: " + text);
            assertEquals(text, tok.decode(plain, true));
        }
    }

    @ParameterizedTest
    @MethodSource("referenceFiles")
    void chatPromptAndGreedyTextMatchLlamaCpp(String refName) throws IOException {
        JsonNode ref = JSON.readTree(fixtures("models").resolve(refName).toFile());
        Tokenizer tok = tokenizerFor(refName);
        for (JsonNode c : ref.get("cases")) {
            if (c.has("text")) {
                assertArrayEquals(ints(c.get("prompt_ids")), tok.encode(c.get("text").asText(),
                        c.get("tokenize_add_special").asBoolean(), c.get("tokenize_parse_special").asBoolean()));
            }
            assertEquals(c.get("greedy_text_hex").asText(),
                    HEX.formatHex(tok.decodeBytes(ints(c.get("greedy_ids")), true)));
        }
    }

    @Test
    void matchesLlamaTokenizeToolOutput() throws IOException {
        Path dir = fixtures("tokenize");
        // the report prints raw token pieces, which are not always valid UTF-8; only ASCII parts are read
        String report = Files.readString(dir.resolve("llama-tokenize.txt"), StandardCharsets.ISO_8859_1);
        Tokenizer tok = tokenizerFor("tiny-qwen3moe-F32.gguf.ref.json");
        Pattern section = Pattern.compile("=== (s\\d\\.txt) \\(hex: ([0-9a-f]*)\\)");
        Matcher m = section.matcher(report);
        int checked = 0;
        while (m.find()) {
            String file = m.group(1);
            byte[] bytes = Files.readAllBytes(dir.resolve(file));
            assertEquals(m.group(2), HEX.formatHex(bytes), file);
            int end = report.indexOf("=== ", m.end());
            List<int[]> lists = idLists(report.substring(m.end(), end < 0 ? report.length() : end));
            assertEquals(2, lists.size(), file);
            String text = new String(bytes, StandardCharsets.UTF_8);
            assertArrayEquals(lists.get(0), tok.encode(text, true, true), file);
            assertArrayEquals(lists.get(1), tok.encode(text, true, false), file);
            checked++;
        }
        assertEquals(5, checked);
    }

    @Test
    void readsSpecialTokensAndFlagsFromTheFixture() {
        Tokenizer tok = tokenizerFor("tiny-qwen3-F32.gguf.ref.json");
        assertEquals(512, tok.vocabSize());
        assertEquals(253, tok.mergeCount());
        assertEquals("qwen2", tok.preTokenizer().name());
        assertEquals(509, tok.bos());
        assertEquals(511, tok.eos());
        assertEquals(509, tok.pad());
        assertFalse(tok.addBos());
        assertFalse(tok.addEos());
        assertEquals(TokenType.CONTROL, tok.tokenType(510));
        assertTrue(tok.isEndOfGeneration(511));
        assertTrue(tok.isEndOfGeneration(509));
        assertFalse(tok.isEndOfGeneration(510));
        assertTrue(tok.chatTemplate().orElseThrow().contains("<|im_start|>"));
        assertTrue(tok.warnings().isEmpty(), tok.warnings()::toString);
    }

    private static List<int[]> idLists(String section) {
        List<int[]> out = new ArrayList<>();
        Matcher m = Pattern.compile("^\\[([0-9, ]*)\\]$", Pattern.MULTILINE).matcher(section);
        while (m.find()) {
            out.add(Stream.of(m.group(1).split(",")).map(String::trim).filter(s -> !s.isEmpty())
                    .mapToInt(Integer::parseInt).toArray());
        }
        return out;
    }

    private static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }
}
