package dev.ferry.moe.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SamplerTest {

    /** Logits whose softmax is exactly these probabilities. */
    private static float[] logitsOf(double... probabilities) {
        float[] out = new float[probabilities.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) Math.log(probabilities[i]);
        }
        return out;
    }

    private static float[] randomLogits(int n, long seed) {
        Random r = new Random(seed);
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = (float) (r.nextGaussian() * 3);
        }
        return out;
    }

    /** How often each token is drawn in {@code draws} samples (no penalties, so draws are independent). */
    private static int[] histogram(SamplingParams p, float[] logits, int draws) {
        Sampler s = new Sampler(p, logits.length, 256);
        int[] h = new int[logits.length];
        for (int i = 0; i < draws; i++) {
            h[s.sample(logits)]++;
        }
        return h;
    }

    private static SamplingParams plain() {
        return new SamplingParams(1.0f, 0, 1.0f, 0.0f, 1.0f, 64, 0, 0, 42);
    }

    @Test
    void defaultsAreLlamaCpps() {
        SamplingParams d = SamplingParams.defaults();
        assertEquals(0.8f, d.temperature());
        assertEquals(40, d.topK());
        assertEquals(0.95f, d.topP());
        assertEquals(0.05f, d.minP());
        assertEquals(1.0f, d.repeatPenalty());
        assertEquals(64, d.repeatLastN());
        assertEquals(SamplingParams.RANDOM_SEED, d.seed());
        assertFalse(d.penalizes());
        assertTrue(SamplingParams.greedy().isGreedy());
    }

    @Test
    void greedyPicksTheLargestLogitWhateverTheSeed() {
        float[] logits = randomLogits(1000, 7);
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        for (long seed : new long[] {1, 2, 3}) {
            Sampler s = new Sampler(SamplingParams.greedy().withSeed(seed), logits.length, 256);
            assertEquals(best, s.sample(logits));
        }
        assertEquals(best, new Sampler(SamplingParams.defaults().withTemperature(-1), logits.length, 256).sample(logits));
    }

    @Test
    void topKOfOneIsGreedy() {
        for (long seed = 0; seed < 20; seed++) {
            float[] logits = randomLogits(500, seed);
            int greedy = new Sampler(SamplingParams.greedy(), 500, 256).sample(logits);
            Sampler topOne = new Sampler(SamplingParams.defaults().withTopK(1).withTemperature(1.5f).withSeed(seed), 500, 256);
            assertEquals(greedy, topOne.sample(logits));
        }
    }

    @Test
    void samplingDoesNotChangeTheCallersLogits() {
        float[] logits = randomLogits(100, 3);
        float[] copy = logits.clone();
        Sampler s = new Sampler(SamplingParams.defaults().withSeed(1).withRepeatPenalty(1.3f), 100, 256);
        s.accept(5);
        s.sample(logits);
        assertArrayEquals(copy, logits);
    }

    @Test
    void topKKeepsOnlyTheKBest() {
        int[] h = histogram(plain().withTopK(2), logitsOf(0.1, 0.4, 0.2, 0.3), 4000);
        assertEquals(0, h[0]);
        assertEquals(0, h[2]);
        // 0.4 : 0.3 renormalised is 4/7
        assertEquals(4.0 / 7, h[1] / 4000.0, 0.03);
    }

    @Test
    void topPKeepsTheSmallestPrefixReachingP() {
        // 0.5 + 0.3 = 0.8 reaches 0.75: tokens 0 and 1 stay
        float[] logits = logitsOf(0.5, 0.3, 0.15, 0.05);
        int[] unsorted = histogram(plain().withTopP(0.75f), logits, 4000);
        int[] afterTopK = histogram(plain().withTopK(3).withTopP(0.75f), logits, 4000);
        for (int[] h : new int[][] {unsorted, afterTopK}) {
            assertEquals(0, h[2] + h[3]);
            assertEquals(0.5 / 0.8, h[0] / 4000.0, 0.03);
        }
        // 0.5 alone already reaches 0.45: only token 0
        assertEquals(4000, histogram(plain().withTopP(0.45f), logits, 4000)[0]);
    }

    @Test
    void minPDropsTokensBelowAFractionOfTheBest() {
        // min-p 0.4 of the best 0.5 is 0.2: 0.3 stays, 0.15 and 0.05 go
        int[] h = histogram(plain().withMinP(0.4f), logitsOf(0.05, 0.5, 0.15, 0.3), 4000);
        assertEquals(0, h[0] + h[2]);
        assertEquals(0.5 / 0.8, h[1] / 4000.0, 0.03);
    }

    @Test
    void temperatureFlattensOrSharpensTheDistribution() {
        float[] logits = {1.0f, 0.0f};
        double atOne = histogram(plain(), logits, 20000)[0] / 20000.0;
        double atTwo = histogram(plain().withTemperature(2.0f), logits, 20000)[0] / 20000.0;
        double atHalf = histogram(plain().withTemperature(0.5f), logits, 20000)[0] / 20000.0;
        assertEquals(1 / (1 + Math.exp(-1)), atOne, 0.015);
        assertEquals(1 / (1 + Math.exp(-0.5)), atTwo, 0.015);
        assertEquals(1 / (1 + Math.exp(-2)), atHalf, 0.015);
    }

    @Test
    void repeatPenaltyDividesPositiveAndMultipliesNegativeLogits() {
        Sampler s = new Sampler(plain().withRepeatPenalty(2.0f), 4, 256);
        s.accept(0);
        s.accept(1);
        s.accept(0);
        float[] logits = {3.0f, -1.5f, 2.0f, -1.0f};
        s.applyPenalties(logits);
        assertArrayEquals(new float[] {1.5f, -3.0f, 2.0f, -1.0f}, logits);
        // greedy sees the penalised values
        Sampler g = new Sampler(SamplingParams.greedy().withRepeatPenalty(2.0f), 2, 256);
        g.accept(0);
        assertEquals(1, g.sample(new float[] {3.0f, 2.0f}));
        assertEquals(1, g.sample(new float[] {-1.0f, -1.5f}));
    }

    @Test
    void repeatPenaltyOnlyCoversTheLastNTokens() {
        Sampler s = new Sampler(plain().withRepeatPenalty(2.0f).withRepeatLastN(2), 3, 256);
        s.accept(0);
        s.accept(1);
        s.accept(2);
        float[] logits = {4.0f, 4.0f, 4.0f};
        s.applyPenalties(logits);
        assertArrayEquals(new float[] {4.0f, 2.0f, 2.0f}, logits);
        Sampler off = new Sampler(plain().withRepeatPenalty(2.0f).withRepeatLastN(0), 3, 256);
        off.accept(0);
        float[] same = {4.0f, 4.0f, 4.0f};
        off.applyPenalties(same);
        assertArrayEquals(new float[] {4.0f, 4.0f, 4.0f}, same);
    }

    @Test
    void frequencyAndPresencePenaltiesSubtract() {
        Sampler s = new Sampler(plain().withFrequencyPenalty(0.5f).withPresencePenalty(0.25f), 3, 256);
        s.accept(1);
        s.accept(1);
        s.accept(2);
        float[] logits = {1.0f, 1.0f, 1.0f};
        s.applyPenalties(logits);
        assertArrayEquals(new float[] {1.0f, 1.0f - 1.0f - 0.25f, 1.0f - 0.5f - 0.25f}, logits);
    }

    @Test
    void sameSeedGivesTheSameSequenceAndResetReplaysIt() {
        float[] logits = randomLogits(300, 11);
        SamplingParams p = SamplingParams.defaults().withTopK(0).withMinP(0).withTemperature(2.0f).withSeed(1234);
        int[] a = sequence(new Sampler(p, 300, 256), logits);
        Sampler b = new Sampler(p, 300, 256);
        assertArrayEquals(a, sequence(b, logits));
        b.reset();
        assertArrayEquals(a, sequence(b, logits));
        int[] other = sequence(new Sampler(p.withSeed(99), 300, 256), logits);
        assertFalse(java.util.Arrays.equals(a, other));
        assertEquals(1234, b.seed());
        long random = new Sampler(p.withSeed(SamplingParams.RANDOM_SEED), 300, 256).seed();
        assertTrue(random >= 0 && random <= 0xFFFFFFFFL);
        // llama.cpp's LLAMA_DEFAULT_SEED also means "pick one"
        assertTrue(new Sampler(p.withSeed(0xFFFFFFFFL), 300, 256).seed() < 0xFFFFFFFFL);
    }

    private static int[] sequence(Sampler s, float[] logits) {
        int[] out = new int[50];
        for (int i = 0; i < out.length; i++) {
            out[i] = s.sample(logits);
        }
        return out;
    }

    @Test
    void samplingAllocatesNothingPerToken() {
        int vocab = 20_000;
        float[] logits = randomLogits(vocab, 5);
        Sampler s = new Sampler(SamplingParams.defaults().withSeed(3).withRepeatPenalty(1.1f), vocab, 4096);
        Sampler all = new Sampler(SamplingParams.defaults().withSeed(3).withTopK(0), vocab, 4096);
        for (int i = 0; i < 100; i++) {
            s.accept(s.sample(logits));
            all.sample(logits);
        }
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long before = mx.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < 100; i++) {
            s.accept(s.sample(logits));
            all.sample(logits);
        }
        long allocated = mx.getCurrentThreadAllocatedBytes() - before;
        assertTrue(allocated < 4096, "allocated " + allocated + " bytes in 200 samples");
    }

    @Test
    void badSettingsNameTheFlag() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> SamplingParams.defaults().withTopP(1.5f))
                .getMessage().contains("--top-p"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> SamplingParams.defaults().withRepeatLastN(-2))
                .getMessage().contains("--repeat-last-n"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> SamplingParams.defaults().withTemperature(Float.NaN))
                .getMessage().contains("--temp"));
        Sampler s = new Sampler(SamplingParams.defaults(), 10, 256);
        assertThrows(IllegalArgumentException.class, () -> s.sample(new float[9]));
    }
}
