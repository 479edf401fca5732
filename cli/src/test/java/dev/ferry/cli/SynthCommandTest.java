package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.loader.GgmlType;
import dev.ferry.loader.GgufFile;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SynthCommandTest {

    @TempDir
    Path dir;

    record Result(int exitCode, String out, String err) {
    }

    /** Runs through {@link Main} so the subcommand registration and error handling are covered too. */
    private static Result ferry(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = Main.execute(args);
            return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void writesThePresetWithTheRequestedLayersTypeAndVocabulary() {
        Path out = dir.resolve("m.gguf");
        Result r = ferry("synth", "--preset", "qwen3-0.6b", "--layers", "1", "--vocab", "400", "--type", "q8_0",
                "--seed", "3", "-t", "2", "-o", out.toString());
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("random weights"), r.out());
        try (GgufFile f = GgufFile.open(out)) {
            assertEquals(1, f.metadata().getInt("qwen3.block_count"));
            assertEquals(1024, f.metadata().getInt("qwen3.embedding_length"));
            assertEquals(400, f.metadata().getStringArray("tokenizer.ggml.tokens").length);
            assertEquals(GgmlType.Q8_0, f.tensor("blk.0.ffn_down.weight").type());
            assertEquals(3, f.metadata().getLong("ferry.synth.seed"));
        }
    }

    @Test
    void unknownPresetListsTheValidOnes() {
        Result r = ferry("synth", "--preset", "llama-7b", "-o", dir.resolve("x.gguf").toString());
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("unknown preset 'llama-7b'") && r.err().contains("qwen3-30b-a3b"), r.err());
        assertFalse(Files.exists(dir.resolve("x.gguf")));
    }

    @Test
    void unknownTypeListsTheValidOnes() {
        Result r = ferry("synth", "--preset", "tiny-qwen3moe", "--type", "IQ2_XS", "-o", dir.resolve("x.gguf").toString());
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("unknown type 'IQ2_XS'") && r.err().contains("Q4_K_M"), r.err());
    }
}
