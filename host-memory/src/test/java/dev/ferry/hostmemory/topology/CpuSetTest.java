package dev.ferry.hostmemory.topology;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class CpuSetTest {

    @Test
    void listFormRoundTrips() {
        CpuSet s = CpuSet.parseList("0-3,8, 10-11");
        assertEquals(List.of(0, 1, 2, 3, 8, 10, 11), s.toList());
        assertEquals("0-3,8,10-11", s.toListString());
        assertTrue(CpuSet.parseList("").isEmpty());
    }

    @Test
    void hexMaskHasCpuZeroInTheLastDigit() {
        assertEquals(CpuSet.of(0, 1, 2, 3), CpuSet.parseMask("0xf"));
        assertEquals(CpuSet.of(4, 64), CpuSet.parseMask("1,00000000,00000010"));
        assertEquals(CpuSet.of(8), CpuSet.parseMask("100"));
    }

    @Test
    void badTextNamesWhatIsWrong() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CpuSet.parseList("0-3,x"));
        assertTrue(e.getMessage().contains("'x' is not a number"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> CpuSet.parseList("5-2"));
        IllegalArgumentException m = assertThrows(IllegalArgumentException.class, () -> CpuSet.parseMask("0xfg"));
        assertTrue(m.getMessage().contains("'g' is not a hex digit"), m.getMessage());
    }

    @Test
    void wordsMatchTheNativeMaskLayout() {
        CpuSet s = CpuSet.of(0, 63, 64, 130);
        long[] words = s.toWords(3);
        assertArrayEquals(new long[] {1L | (1L << 63), 1L, 1L << 2}, words);
        assertEquals(s, CpuSet.fromWords(words));
        assertThrows(IllegalArgumentException.class, () -> s.toWords(2));
    }
}
