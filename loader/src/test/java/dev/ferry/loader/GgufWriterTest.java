package dev.ferry.loader;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class GgufWriterTest {

    @TempDir
    Path dir;

    static List<String> models() {
        return Fixtures.MODELS;
    }

    @ParameterizedTest
    @MethodSource("models")
    void rewritingAFixtureFromWhatWasParsedGivesTheSameBytes(String name) throws IOException {
        Path original = Fixtures.model(name);
        Path copy = dir.resolve(name);
        try (GgufFile f = GgufFile.open(original)) {
            GgufWriter.copy(f, copy);
        }
        assertEquals(-1L, Files.mismatch(original, copy), "first differing byte of " + name);
    }

    @Test
    void builtModelReadsBackWithEveryValueTypeAndAlignedZeroPaddedData() throws IOException {
        GgufArray nested = GgufArray.ofArrays(GgufArray.ofInt16((short) -2, (short) 7), GgufArray.ofStrings("x"));
        GgufMetadata md = GgufMetadata.builder()
                .putString("general.architecture", "toy")
                .putUInt32("general.alignment", 64)
                .put("u8", new GgufValue.IntValue(GgufValueType.UINT8, 255))
                .put("i8", new GgufValue.IntValue(GgufValueType.INT8, -128))
                .put("u16", new GgufValue.IntValue(GgufValueType.UINT16, 65535))
                .put("i16", new GgufValue.IntValue(GgufValueType.INT16, -3))
                .putInt32("i32", -5)
                .putFloat32("f32", 0.25f)
                .putBool("flag", true)
                .putString("text", "héllo ✓ 😀")
                .putUInt64("u64", -1L)
                .put("i64", new GgufValue.IntValue(GgufValueType.INT64, Long.MIN_VALUE))
                .putFloat64("f64", Math.PI)
                .putStrings("tokens", "a", "ü", "")
                .putInt32s("types", 1, 3, 6)
                .putFloat32s("scores", -1f, 0f, 2.5f)
                .put("bools", GgufArray.ofBools(true, false))
                .put("nested", nested)
                .build();
        Path out = dir.resolve("toy.gguf");
        try (Arena arena = Arena.ofConfined();
             GgufWriter w = GgufWriter.builder().metadata(md)
                     .tensor("a", GgmlType.F32, 3)
                     .tensor("b", GgmlType.Q8_0, 32, 2)
                     .create(out)) {
            MemorySegment a = arena.allocate(12);
            a.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, 0, 1f);
            a.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, 2, 3f);
            w.write("a", a);
            MemorySegment b = arena.allocate(68).fill((byte) 7);
            w.append("b", b.asSlice(0, 30));
            assertEquals(38, w.remaining("b"));
            w.append("b", b.asSlice(30));
        }
        try (GgufFile f = GgufFile.open(out)) {
            assertEquals(md, f.metadata());
            assertEquals(64, f.alignment());
            assertEquals(0, f.dataOffset() % 64);
            assertEquals(0, f.tensor("a").offset());
            assertEquals(64, f.tensor("b").offset());
            assertEquals(68, f.tensor("b").byteSize());
            assertEquals(f.dataOffset() + 128 + 64, f.fileSize(), "file padded to the alignment after the last tensor");
            assertEquals(3f, f.data(f.tensor("a")).getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, 2));
            assertEquals(7, f.data(f.tensor("b")).get(ValueLayout.JAVA_BYTE, 67));
            MemorySegment all = f.segment();
            for (long p = f.dataOffset() + 12; p < f.dataOffset() + 64; p++) {
                assertEquals(0, all.get(ValueLayout.JAVA_BYTE, p), "padding byte " + p);
            }
            GgufMetadata m = f.metadata();
            assertEquals(255, m.getInt("u8"));
            assertEquals(-128, m.getInt("i8"));
            assertEquals("18446744073709551615", ((GgufValue.IntValue) m.get("u64")).text());
            assertThrows(IllegalArgumentException.class, () -> m.getLong("u64"));
            assertEquals("héllo ✓ 😀", m.getString("text"));
            assertArrayEquals(new String[] {"a", "ü", ""}, m.getStringArray("tokens"));
            assertArrayEquals(new float[] {-1f, 0f, 2.5f}, m.getFloatArray("scores"));
            assertEquals(nested, m.get("nested"));
            assertEquals(-2, m.getArray("nested").arrayAt(0).longAt(0));
            assertTrue(m.getBool("flag"));
        }
    }

    @Test
    void tensorDataMayComeFromHeapArraysOfAnyType() {
        Path out = dir.resolve("heap.gguf");
        float[] values = {1.5f, -2f, 3.25f, 0f, 7f, 8f, 9f, 10f};
        try (GgufWriter w = GgufWriter.builder().tensor("f", GgmlType.F32, 4, 2).create(out)) {
            w.write("f", MemorySegment.ofArray(values));
        }
        try (GgufFile f = GgufFile.open(out)) {
            assertArrayEquals(values, f.data(f.tensor("f")).toArray(ValueLayout.JAVA_FLOAT));
        }
    }

    @Test
    void closingBeforeEveryTensorIsWrittenIsAnError() {
        Path out = dir.resolve("partial.gguf");
        GgufWriter w = GgufWriter.builder().tensor("a", GgmlType.F32, 8).tensor("b", GgmlType.F32, 8).create(out);
        try (Arena arena = Arena.ofConfined()) {
            w.write("a", arena.allocate(32));
        }
        IllegalStateException e = assertThrows(IllegalStateException.class, w::close);
        assertTrue(e.getMessage().contains("b (0 of 32 bytes)"), e.getMessage());
    }

    @Test
    void aFileIsNotCopiedOntoItself() throws IOException {
        Path copy = dir.resolve("self.gguf");
        Files.copy(Fixtures.model("tiny-qwen3-Q8_0.gguf"), copy);
        try (GgufFile f = GgufFile.open(copy)) {
            assertThrows(IllegalArgumentException.class, () -> GgufWriter.copy(f, copy));
        }
        assertEquals(-1L, Files.mismatch(Fixtures.model("tiny-qwen3-Q8_0.gguf"), copy));
    }

    @Test
    void explicitOffsetsMustBeAlignedAndDisjoint() {
        TensorInfo a = TensorInfo.of("a", GgmlType.F32, new long[] {16}, 0);
        TensorInfo b = TensorInfo.of("b", GgmlType.F32, new long[] {8}, 32);
        IllegalArgumentException overlap = assertThrows(IllegalArgumentException.class,
                () -> GgufWriter.builder().tensor(a).tensor(b).create(dir.resolve("o.gguf")));
        assertEquals("tensors 'a' and 'b' overlap", overlap.getMessage());
        TensorInfo odd = TensorInfo.of("odd", GgmlType.F32, new long[] {8}, 16);
        IllegalArgumentException misaligned = assertThrows(IllegalArgumentException.class,
                () -> GgufWriter.builder().tensor(odd).create(dir.resolve("m.gguf")));
        assertEquals("tensor 'odd' offset 16 is not a multiple of the alignment 32", misaligned.getMessage());
    }

    @Test
    void shapesThatAreNotWholeBlocksAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> GgufWriter.builder().tensor("q", GgmlType.Q4_K, 100, 2));
        assertTrue(e.getMessage().contains("not a multiple of the Q4_K block size 256"), e.getMessage());
    }
}
