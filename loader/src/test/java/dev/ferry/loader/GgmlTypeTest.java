package dev.ferry.loader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class GgmlTypeTest {

    @Test
    void typesAreFoundByIdAndByNameIgnoringCase() {
        assertEquals(Optional.of(GgmlType.Q8_0), GgmlType.byId(8));
        assertEquals(Optional.of(GgmlType.Q4_K), GgmlType.byName("q4_k"));
        assertEquals(Optional.of(GgmlType.BF16), GgmlType.byName("BF16"));
        assertEquals(Optional.empty(), GgmlType.byName("q9_9"));
        assertEquals(Optional.empty(), GgmlType.byId(-1));
        assertEquals(Optional.empty(), GgmlType.byId(1000));
    }

    @Test
    void rowBytesFollowTheBlockGeometry() {
        assertEquals(34L * 4, GgmlType.Q8_0.rowBytes(128));
        assertEquals(210L * 2, GgmlType.Q6_K.rowBytes(512));
        assertEquals(-1, GgmlType.Q4_K.rowBytes(128));
        assertEquals(-1, GgmlType.Q4_2.rowBytes(32));
        assertTrue(GgmlType.Q4_2.isRemoved());
        assertTrue(GgmlType.Q5_K.isQuantized());
        assertFalse(GgmlType.F16.isQuantized());
    }
}
