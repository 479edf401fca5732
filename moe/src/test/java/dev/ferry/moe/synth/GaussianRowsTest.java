package dev.ferry.moe.synth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class GaussianRowsTest {

    @Test
    void rowsAreReproducibleAndIndependentOfEachOther() {
        float[] a = new float[101];
        float[] b = new float[101];
        new GaussianRows(7, "blk.0.attn_q.weight").fill(5, a, a.length, 0, 1);
        new GaussianRows(7, "blk.0.attn_q.weight").fill(5, b, b.length, 0, 1);
        assertArrayEquals(a, b);
        new GaussianRows(7, "blk.0.attn_q.weight").fill(6, b, b.length, 0, 1);
        assertFalse(Arrays.equals(a, b), "another row");
        new GaussianRows(8, "blk.0.attn_q.weight").fill(5, b, b.length, 0, 1);
        assertFalse(Arrays.equals(a, b), "another seed");
        new GaussianRows(7, "blk.0.attn_k.weight").fill(5, b, b.length, 0, 1);
        assertFalse(Arrays.equals(a, b), "another tensor");
        float[] prefix = new float[7];
        new GaussianRows(7, "blk.0.attn_q.weight").fill(5, prefix, prefix.length, 0, 1);
        assertArrayEquals(Arrays.copyOf(a, 7), prefix, "a shorter fill is a prefix of the row");
    }

    @Test
    void valuesHaveTheRequestedMeanAndSpread() {
        float[] v = new float[1 << 18];
        new GaussianRows(42, "t").fill(0, v, v.length, 1.0f, 0.02f);
        double sum = 0;
        double sq = 0;
        int within1Sigma = 0;
        for (float x : v) {
            sum += x;
            sq += (x - 1.0) * (x - 1.0);
            if (Math.abs(x - 1.0) < 0.02) {
                within1Sigma++;
            }
            assertTrue(Math.abs(x - 1.0) < 0.02 * 3.5, "bounded at 3.5 sigma: " + x);
        }
        assertEquals(1.0, sum / v.length, 2e-4);
        assertEquals(0.02, Math.sqrt(sq / v.length), 4e-4);
        assertEquals(0.683, within1Sigma / (double) v.length, 0.02, "normal-like: 68% within one sigma");
    }
}
