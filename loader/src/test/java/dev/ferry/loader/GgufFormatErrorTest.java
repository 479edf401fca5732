package dev.ferry.loader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each kind of malformed file gives one GgufFormatException naming the file, the byte and the problem. */
class GgufFormatErrorTest {

    private static final int F32 = GgmlType.F32.id();

    @TempDir
    Path dir;

    private GgufFormatException refused(RawGguf raw, String expected) {
        Path file = raw.write(dir.resolve("bad.gguf"));
        GgufFormatException e = assertThrows(GgufFormatException.class, () -> GgufFile.open(file));
        assertTrue(e.getMessage().startsWith(file + ": byte "), e.getMessage());
        assertTrue(e.getMessage().contains(expected), "message '" + e.getMessage() + "' lacks '" + expected + "'");
        return e;
    }

    /** One F32 tensor of 8 values plus the architecture key: a valid file. */
    private static RawGguf valid() {
        return RawGguf.header(3, 1, 1).kvString("general.architecture", "toy").tensor("t", F32, 0, 8).align(32)
                .zeros(32);
    }

    @Test
    void theMinimalFileIsValid() {
        try (GgufFile f = GgufFile.open(valid().write(dir.resolve("ok.gguf")))) {
            assertEquals("toy", f.metadata().architecture());
            assertEquals(32, f.tensor("t").byteSize());
        }
    }

    @Test
    void otherFilesAreNotGguf() {
        GgufFormatException e = refused(new RawGguf().bytes("PK\3\4 not gguf".getBytes()), "not a GGUF file");
        assertEquals(0, e.byteOffset());
        refused(new RawGguf().bytes("GG".getBytes()), "file ends inside the magic");
    }

    @Test
    void versionOneIsRefusedByName() {
        refused(RawGguf.header(1, 0, 0), "GGUF version 1 is not supported");
    }

    @Test
    void bigEndianFilesAreRecognised() {
        RawGguf raw = new RawGguf().bytes("GGUF".getBytes()).u32(Integer.reverseBytes(3)).u64(0).u64(0);
        GgufFormatException e = refused(raw, "big-endian GGUF file (version 3 stored big-endian)");
        assertEquals(4, e.byteOffset());
    }

    @Test
    void unknownVersionsAreRefused() {
        refused(RawGguf.header(7, 0, 0), "unsupported GGUF version 7");
    }

    @Test
    void countsThatCannotFitTheFileAreRefusedBeforeAllocating() {
        refused(RawGguf.header(3, Long.MAX_VALUE, 0), "tensor count 9223372036854775807 cannot fit");
        refused(RawGguf.header(3, -1L, 0), "tensor count 18446744073709551615 cannot fit");
        refused(RawGguf.header(3, 0, 1L << 40), "metadata count 1099511627776");
    }

    @Test
    void stringLengthsPastTheEndAreRefused() {
        RawGguf raw = RawGguf.header(3, 0, 1).u64(1L << 50).bytes("abc".getBytes()).zeros(16);
        GgufFormatException e = refused(raw, "key of metadata entry 0 has length 1125899906842624, past the end");
        assertEquals(24, e.byteOffset());
    }

    @Test
    void hugeArraysAreRefusedBeforeAllocating() {
        RawGguf raw = RawGguf.header(3, 0, 1).str("tokens").u32(GgufValueType.ARRAY.id())
                .u32(GgufValueType.STRING.id()).u64(150_000_000_000L).zeros(16);
        refused(raw, "array 'tokens' claims 150000000000 elements of STRING");
    }

    @Test
    void headersThatWouldExhaustTheHeapAreRefused() throws IOException {
        // 100 GB of (sparse) file make room for 12.5 billion empty strings on disk, not in memory.
        Path file = RawGguf.header(3, 0, 1).str("tokens").u32(GgufValueType.ARRAY.id())
                .u32(GgufValueType.STRING.id()).u64(2_000_000_000L).write(dir.resolve("sparse.gguf"));
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate(1), 100_000_000_000L);
        }
        GgufFormatException e = assertThrows(GgufFormatException.class, () -> GgufFile.open(file));
        assertTrue(e.getMessage().contains("array 'tokens' would need more than"), e.getMessage());
    }

    @Test
    void deeplyNestedArraysAreRefused() {
        RawGguf raw = RawGguf.header(3, 0, 1).str("deep").u32(GgufValueType.ARRAY.id());
        for (int i = 0; i < 20; i++) {
            raw.u32(GgufValueType.ARRAY.id()).u64(1);
        }
        raw.zeros(64);
        refused(raw, "nests arrays more than 8 levels deep");
    }

    @Test
    void unknownValueTypesAreRefused() {
        RawGguf raw = RawGguf.header(3, 0, 1).str("k").u32(13).u32(0);
        refused(raw, "metadata key 'k' has unknown value type id 13");
    }

    @Test
    void malformedUtf8IsRefused() {
        RawGguf raw = RawGguf.header(3, 0, 1).str("k").u32(GgufValueType.STRING.id())
                .strBytes(new byte[] {'a', (byte) 0xC3, '('});
        refused(raw, "value of 'k' is not valid UTF-8");
    }

    @Test
    void boolsOtherThanZeroOrOneAreRefused() {
        RawGguf raw = RawGguf.header(3, 0, 1).str("b").u32(GgufValueType.BOOL.id()).u8(2);
        refused(raw, "bool stored as 2");
    }

    @Test
    void duplicateKeysAndTensorNamesAreRefused() {
        refused(RawGguf.header(3, 0, 2).kvU32("a", 1).kvU32("a", 2), "duplicate metadata key 'a'");
        refused(RawGguf.header(3, 2, 0).tensor("t", F32, 0, 8).tensor("t", F32, 32, 8).align(32).zeros(64),
                "duplicate tensor name 't'");
    }

    @Test
    void alignmentMustBeAPowerOfTwo() {
        refused(RawGguf.header(3, 0, 1).kvU32("general.alignment", 0), "general.alignment is 0");
        refused(RawGguf.header(3, 0, 1).kvU32("general.alignment", 48), "general.alignment is 48");
        refused(RawGguf.header(3, 0, 1).kvString("general.alignment", "32"), "general.alignment must be an integer");
    }

    @Test
    void tooManyDimensionsAreRefused() {
        refused(RawGguf.header(3, 1, 0).tensor("t", F32, 0, 1, 1, 1, 1, 8).align(32).zeros(32),
                "tensor 't' has 5 dimensions; ggml allows at most 4");
    }

    @Test
    void unknownAndRemovedTypesAreRefusedByNumberAndName() {
        refused(RawGguf.header(3, 1, 0).tensor("t", 99, 0, 8).align(32).zeros(32),
                "tensor 't' has unknown ggml type id 99");
        refused(RawGguf.header(3, 1, 0).tensor("t", 4, 0, 32).align(32).zeros(32),
                "tensor 't' has type Q4_2 (id 4), which ggml no longer supports");
    }

    @Test
    void rowsMustBeWholeBlocks() {
        refused(RawGguf.header(3, 1, 0).tensor("q", GgmlType.Q8_0.id(), 0, 48, 2).align(32).zeros(128),
                "tensor 'q' has rows of 48 values, not a multiple of the Q8_0 block size 32");
    }

    @Test
    void elementCountOverflowIsRefused() {
        refused(RawGguf.header(3, 1, 0).tensor("t", F32, 0, 1L << 40, 1L << 40).align(32).zeros(32),
                "has more elements than 64 bits can count");
    }

    @Test
    void misalignedOffsetsAreRefused() {
        refused(RawGguf.header(3, 1, 0).tensor("t", F32, 4, 8).align(32).zeros(64),
                "tensor 't' has data offset 4, not a multiple of the alignment 32");
    }

    @Test
    void tensorsPastTheEndOfTheFileAreRefusedWithTheirEnd() {
        RawGguf raw = RawGguf.header(3, 1, 0).tensor("blk.3.ffn_up_exps.weight", F32, 0, 64, 2).align(32).zeros(100);
        GgufFormatException e = refused(raw, "tensor 'blk.3.ffn_up_exps.weight' (F32, [64, 2], 512 bytes) ends at byte 608, "
                + "past the end of the 196-byte file");
        assertEquals(24, e.byteOffset());
    }

    @Test
    void overlappingTensorsAreRefused() {
        refused(RawGguf.header(3, 2, 0).tensor("a", F32, 0, 16).tensor("b", F32, 32, 8).align(32).zeros(96),
                "tensor 'b' (data bytes");
    }

    @Test
    void longTensorNamesAreRefused() {
        refused(RawGguf.header(3, 1, 0).tensor("x".repeat(64), F32, 0, 8).align(32).zeros(32),
                "is 64 bytes long; ggml allows at most 63");
    }

    @Test
    void truncatedFilesNameWhatIsCutOff() {
        byte[] full = valid().toBytes();
        RawGguf cut = new RawGguf().bytes(Arrays.copyOf(full, 90));
        refused(cut, "file ends inside type of tensor 't': 4 bytes needed, 2 left in the 90-byte file");
    }
}
