package dev.ferry.loader;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GgufMetadataTest {

    private final GgufMetadata md = GgufMetadata.of("m.gguf", Map.of()).toBuilder()
            .put("u8", new GgufValue.IntValue(GgufValueType.UINT8, 200))
            .putUInt64("big", 50_000_000_000L)
            .putUInt64("huge", -1L)
            .putUInt32("u32", 4_000_000_000L)
            .putFloat64("f64", 0.5)
            .putString("s", "text")
            .put("u32s", GgufArray.ofUInt32(1, -1))
            .put("u8s", GgufArray.ofUInt8((byte) 255, (byte) 1))
            .put("f64s", GgufArray.ofFloat64(1.5, -2))
            .build();

    @Test
    void integersOfAnyWidthConvertWhenTheyFit() {
        assertEquals(200, md.getInt("u8"));
        assertEquals(50_000_000_000L, md.getLong("big"));
        assertEquals(4_000_000_000L, md.getLong("u32"));
        assertEquals(200f, md.getFloat("u8"));
        assertEquals(0.5f, md.getFloat("f64"));
        assertArrayEquals(new int[] {255, 1}, md.getIntArray("u8s"));
        assertArrayEquals(new long[] {1, 0xFFFF_FFFFL}, md.getLongArray("u32s"));
        assertArrayEquals(new float[] {1.5f, -2f}, md.getFloatArray("f64s"));
    }

    @Test
    void valuesThatDoNotFitAreRefusedWithKeyFileAndValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> md.getInt("big"));
        assertEquals("m.gguf: metadata key 'big' holds UINT64 value 50000000000 which does not fit an int", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> md.getLong("huge"));
        assertEquals("m.gguf: metadata key 'huge' holds UINT64 value 18446744073709551615 which does not fit a long",
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> md.getIntArray("u32s"));
        assertEquals("m.gguf: metadata key 'u32s' holds UINT32 element 1 = 4294967295 which does not fit an int",
                e.getMessage());
    }

    @Test
    void wrongTypesNameWhatWasFound() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> md.getFloat("s"));
        assertEquals("m.gguf: metadata key 's' holds STRING, expected a number", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> md.getInt("u8s"));
        assertEquals("m.gguf: metadata key 'u8s' holds an array of 2 UINT8, expected an integer", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> md.getStringArray("u8s"));
        assertEquals("m.gguf: metadata key 'u8s' holds an array of 2 UINT8, expected an array of strings", e.getMessage());
        assertEquals(false, md.getBool("nope", false));
        e = assertThrows(IllegalArgumentException.class, () -> md.getBool("s", true));
        assertEquals("m.gguf: metadata key 's' holds STRING, expected a bool", e.getMessage());
    }

    @Test
    void insertionOrderIsKeptAndPutReplacesInPlace() {
        GgufMetadata changed = md.toBuilder().putUInt32("u8", 3).build();
        assertEquals(List.copyOf(md.keys()), List.copyOf(changed.keys()));
        assertEquals(3, changed.getInt("u8"));
        assertEquals(GgufValueType.UINT32, changed.get("u8").type());
    }

    @Test
    void valuesRefuseNumbersTheirTypeCannotHold() {
        assertThrows(IllegalArgumentException.class, () -> new GgufValue.IntValue(GgufValueType.UINT8, 256));
        assertThrows(IllegalArgumentException.class, () -> new GgufValue.IntValue(GgufValueType.INT32, 1L << 31));
        assertThrows(IllegalArgumentException.class, () -> new GgufValue.FloatValue(GgufValueType.FLOAT32, 0.1));
    }
}
