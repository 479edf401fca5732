package dev.ferry.moe.placement;

import dev.ferry.hostmemory.numa.NumaPolicy;
import dev.ferry.moe.kernel.Precision;
import dev.ferry.moe.runtime.InferenceEngine;
import dev.ferry.moe.runtime.KvCacheType;
import dev.ferry.moe.runtime.LoadedModel;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** Helpers for running a fixture model through an engine and collecting its logits. */
final class Runs {

    private Runs() {
    }

    static Path fixture(String name) {
        try {
            return Path.of(Runs.class.getResource("/fixtures/models/" + name).toURI());
        } catch (URISyntaxException | NullPointerException e) {
            throw new IllegalStateException("missing fixture " + name, e);
        }
    }

    static InferenceEngine engine(PlacementOptions options, HostContext host, Precision precision, PrintStream log) {
        return new InferenceEngine(options, host, 64, 16, KvCacheType.F32, KvCacheType.F32, precision, log);
    }

    static PlacementOptions twoThreads() {
        return PlacementOptions.parse(null, 2, false, null, null, false, false);
    }

    static PlacementOptions numa(NumaPolicy policy) {
        return PlacementOptions.parse(policy.flagValue(), 2, false, null, null, false, false);
    }

    /** All logits: the first {@code batch} tokens in one call, the rest one at a time (decode). */
    static float[][] logits(InferenceEngine engine, LoadedModel model, int[] ids, int batch) {
        return dev.ferry.moe.SessionLogits.of(engine, model, ids, batch);
    }

    /**
     * Placement must not change the math. Compared with {@link dev.ferry.moe.kernel.Precision#EXACT}:
     * quantized activations would turn the Vector API's different summation order before and
     * after C2 compiles a kernel into whole Q8 rounding steps, which is noise, not placement. The
     * tolerance is relative to the largest logit of the position: a logit near zero is a sum that
     * cancelled, and its summation-order error is on the scale of the row, not of itself.
     */
    static void assertSameLogits(float[][] expected, float[][] actual, String what) {
        org.junit.jupiter.api.Assertions.assertEquals(expected.length, actual.length, what + ": positions");
        for (int p = 0; p < expected.length; p++) {
            int best = 0;
            int bestActual = 0;
            float scale = 1f;
            for (float v : expected[p]) {
                scale = Math.max(scale, Math.abs(v));
            }
            float tolerance = 1e-5f * scale;
            for (int i = 0; i < expected[p].length; i++) {
                if (Math.abs(expected[p][i] - actual[p][i]) > tolerance) {
                    org.junit.jupiter.api.Assertions.fail(what + ": position " + p + " logit " + i + " is " + actual[p][i]
                            + ", expected " + expected[p][i]);
                }
                best = expected[p][i] > expected[p][best] ? i : best;
                bestActual = actual[p][i] > actual[p][bestActual] ? i : bestActual;
            }
            org.junit.jupiter.api.Assertions.assertEquals(best, bestActual, what + ": top token at position " + p);
        }
    }

    static int[] tokens(int count, int vocab, long seed) {
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        int[] ids = new int[count];
        for (int i = 0; i < count; i++) {
            ids[i] = r.nextInt(vocab);
        }
        return ids;
    }

    /** A log stream whose text can be read back. */
    static final class Log {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final PrintStream stream = new PrintStream(bytes, true, StandardCharsets.UTF_8);

        String text() {
            return bytes.toString(StandardCharsets.UTF_8);
        }
    }
}
