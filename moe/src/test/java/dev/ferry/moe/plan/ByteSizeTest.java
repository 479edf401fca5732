package dev.ferry.moe.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class ByteSizeTest {

    @Test
    void unitsArePowersOf1024() {
        assertEquals(8L << 30, ByteSize.parse("--x", "8G"));
        assertEquals(512L << 20, ByteSize.parse("--x", "512M"));
        assertEquals(3L << 29, ByteSize.parse("--x", "1.5GiB"));
        assertEquals(12L << 10, ByteSize.parse("--x", "12 kb"));
        assertEquals(2L << 40, ByteSize.parse("--x", "2T"));
        assertEquals(4096, ByteSize.parse("--x", "4096"));
    }

    @Test
    void aBadSizeNamesTheFlag() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ByteSize.parse("--gpu-memory", "lots"));
        assertEquals("--gpu-memory: 'lots' is not a size (examples: 8G, 512M, 1.5GiB, 4096)", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ByteSize.parse("--gpu-memory", "-3G"));
    }

    @Test
    void formatsWithOneDecimal() {
        assertEquals("23.4 GiB", ByteSize.format((long) (23.4 * (1L << 30))));
        assertEquals("512.0 MiB", ByteSize.format(512L << 20));
        assertEquals("100 B", ByteSize.format(100));
    }
}
