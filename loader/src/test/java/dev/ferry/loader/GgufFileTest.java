package dev.ferry.loader;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class GgufFileTest {

    static List<String> models() {
        return Fixtures.MODELS;
    }

    @ParameterizedTest
    @MethodSource("models")
    void everyFixtureParsesWithTensorsInsideTheFile(String name) {
        try (GgufFile f = GgufFile.open(Fixtures.model(name))) {
            assertEquals(3, f.version());
            assertEquals(32, f.alignment());
            assertEquals(0, f.dataOffset() % f.alignment());
            assertTrue(f.tensors().size() > 10);
            for (TensorInfo t : f.tensors()) {
                MemorySegment data = f.data(t);
                assertEquals(t.byteSize(), data.byteSize());
                assertTrue(data.isReadOnly());
                assertTrue(t.absoluteOffset(f.dataOffset()) + t.byteSize() <= f.fileSize());
            }
            GgufMetadata m = f.metadata();
            String arch = m.architecture();
            assertEquals(4, m.getInt(arch + ".block_count"));
            assertEquals(256, m.getInt(arch + ".context_length"));
            assertEquals(4, m.getInt(arch + ".attention.head_count"));
            assertEquals(2, m.getInt(arch + ".attention.head_count_kv"));
            assertEquals(1e6f, m.getFloat(arch + ".rope.freq_base"));
            assertEquals(1e-6f, m.getFloat(arch + ".attention.layer_norm_rms_epsilon"));
            assertEquals("gpt2", m.getString("tokenizer.ggml.model"));
            assertEquals("qwen2", m.getString("tokenizer.ggml.pre"));
            String[] vocab = m.getStringArray("tokenizer.ggml.tokens");
            assertEquals(512, vocab.length);
            assertEquals("<|endoftext|>", vocab[509]);
            assertEquals("<|im_start|>", vocab[510]);
            assertEquals("<|im_end|>", vocab[511]);
            int[] types = m.getIntArray("tokenizer.ggml.token_type");
            assertEquals(512, types.length);
            assertEquals(3, types[509]);
            assertEquals(3, types[511]);
            assertEquals(253, m.getStringArray("tokenizer.ggml.merges").length);
            TensorInfo output = f.tensor("output.weight");
            assertEquals(m.getInt(arch + ".embedding_length"), output.dim(0));
            assertEquals(512, output.dim(1));
            assertEquals(1, output.dim(2));
        }
    }

    @Test
    void moeFixtureHasThreeDimensionalExpertTensors() {
        try (GgufFile f = GgufFile.open(Fixtures.model("tiny-qwen3moe-F32.gguf"))) {
            GgufMetadata m = f.metadata();
            assertEquals("qwen3moe", m.architecture());
            assertEquals(128, m.getInt("qwen3moe.embedding_length"));
            assertEquals(8, m.getInt("qwen3moe.expert_count"));
            assertEquals(2, m.getInt("qwen3moe.expert_used_count"));
            assertEquals(64, m.getInt("qwen3moe.expert_feed_forward_length"));
            TensorInfo up = f.tensor("blk.3.ffn_up_exps.weight");
            assertArrayEquals(new long[] {128, 64, 8}, up.shape());
            assertEquals(GgmlType.F32, up.type());
            assertEquals(128L * 64 * 8 * 4, up.byteSize());
            assertEquals(128L * 64 * 8, up.elementCount());
            TensorInfo router = f.tensor("blk.0.ffn_gate_inp.weight");
            assertArrayEquals(new long[] {128, 8}, router.shape());
            float first = f.data(router).get(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
            assertTrue(Float.isFinite(first));
        }
    }

    @Test
    void typedGettersExplainMissingKeysAndWrongTypes() {
        Path path = Fixtures.model("tiny-qwen3moe-Q8_0.gguf");
        try (GgufFile f = GgufFile.open(path)) {
            GgufMetadata m = f.metadata();
            IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                    () -> m.getInt("qwen3moe.no_such_key"));
            assertTrue(missing.getMessage().contains("'qwen3moe.no_such_key' is missing"), missing.getMessage());
            assertTrue(missing.getMessage().contains("tiny-qwen3moe-Q8_0.gguf"), missing.getMessage());
            IllegalArgumentException wrong = assertThrows(IllegalArgumentException.class,
                    () -> m.getInt("general.architecture"));
            assertTrue(wrong.getMessage().contains("holds STRING, expected an integer"), wrong.getMessage());
            IllegalArgumentException array = assertThrows(IllegalArgumentException.class,
                    () -> m.getString("tokenizer.ggml.tokens"));
            assertTrue(array.getMessage().contains("holds an array of 512 STRING"), array.getMessage());
            assertEquals(7, m.getInt("qwen3moe.no_such_key", 7));
            assertEquals("x", m.getString("no.such", "x"));
            assertEquals(128L, m.getLong("qwen3moe.embedding_length"));
            assertEquals(128.0, m.getDouble("qwen3moe.embedding_length"));
            IllegalArgumentException noTensor = assertThrows(IllegalArgumentException.class,
                    () -> f.tensor("blk.99.ffn_up.weight"));
            assertEquals("no tensor 'blk.99.ffn_up.weight' in " + path, noTensor.getMessage());
            assertTrue(f.findTensor("blk.99.ffn_up.weight").isEmpty());
        }
    }

    @Test
    void tensorDataIsAReadOnlyNativeSegmentNotAFileMappedOne() {
        // the kernels must see one segment class for file and host-buffer weights (see GgufFile.open)
        try (GgufFile f = GgufFile.open(Fixtures.model("tiny-qwen3-Q8_0.gguf"))) {
            MemorySegment data = f.data(f.tensor("output.weight"));
            assertTrue(data.isNative());
            assertFalse(data.isMapped());
            assertTrue(data.isReadOnly());
            assertEquals(Arena.ofAuto().allocate(8).getClass(), data.getClass());
        }
    }

    @Test
    void closingUnmapsTheTensorData() {
        GgufFile f = GgufFile.open(Fixtures.model("tiny-qwen3-Q8_0.gguf"));
        MemorySegment data = f.data(f.tensor("output.weight"));
        f.close();
        assertThrows(IllegalStateException.class, () -> data.get(ValueLayout.JAVA_BYTE, 0));
    }

    @Test
    void filesBeyondTwoGibibytesMapWhole(@TempDir Path dir) throws IOException {
        long big = 3L << 30;
        RawGguf raw = RawGguf.header(3, 2, 0).tensor("small", GgmlType.F32.id(), 0, 8)
                .tensor("big", GgmlType.I8.id(), 32, big).align(32);
        int dataOffset = raw.size();
        Path file = raw.write(dir.resolve("big.gguf"));
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {42}), dataOffset + 32 + big - 1);
        }
        try (GgufFile f = GgufFile.open(file)) {
            assertEquals(dataOffset + 32 + big, f.fileSize());
            MemorySegment data = f.data(f.tensor("big"));
            assertEquals(big, data.byteSize());
            assertEquals(42, data.get(ValueLayout.JAVA_BYTE, big - 1));
            assertEquals(0, data.get(ValueLayout.JAVA_BYTE, big - 2));
        }
    }

    @Test
    void missingFileIsAnIoErrorNamingThePath() {
        Path missing = Path.of("/nonexistent/model.gguf");
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> GgufFile.open(missing));
        assertTrue(e.getMessage().contains("/nonexistent/model.gguf"), e.getMessage());
    }
}
